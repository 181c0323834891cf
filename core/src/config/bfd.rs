//! BFDProfiles: each checked alone, against the ranges of its schema.

use std::ops::RangeInclusive;

use ferrolb_crds::BFDProfile;

use super::validate::{Accepted, Object, Problems, record};
use super::{Bfd, Reason, Verdicts};

/// Intervals, in milliseconds, that BFD implementations accept.
const INTERVAL_MS: RangeInclusive<u32> = 10..=60_000;
/// Detect multipliers.
const MULTIPLIER: RangeInclusive<u32> = 2..=255;
/// Minimum TTLs.
const MINIMUM_TTL: RangeInclusive<u32> = 1..=254;

/// Validates every BFDProfile, recording a verdict on each.
pub(super) fn validate(profiles: &[BFDProfile], verdicts: &mut Verdicts) -> Accepted<Bfd> {
    let mut accepted = Accepted::new(profiles);
    for profile in profiles {
        let spec = &profile.spec;
        let mut problems = Problems::default();
        let fields = [
            ("spec.receiveInterval", spec.receive_interval, INTERVAL_MS, " milliseconds"),
            ("spec.transmitInterval", spec.transmit_interval, INTERVAL_MS, " milliseconds"),
            ("spec.echoInterval", spec.echo_interval, INTERVAL_MS, " milliseconds"),
            ("spec.detectMultiplier", spec.detect_multiplier, MULTIPLIER, ""),
            ("spec.minimumTtl", spec.minimum_ttl, MINIMUM_TTL, ""),
        ];
        for (field, value, range, unit) in fields {
            if !range.contains(&value) {
                problems.invalid(field, format!("{value} is not from {} to {}{unit}", range.start(), range.end()));
            }
        }
        // Echo packets need the router to loop our own packets back through its forwarding
        // plane; the speaker runs asynchronous mode only, so a profile asking for echo would
        // silently get less than it says.
        if spec.echo_mode {
            problems.add(
                "spec.echoMode",
                Reason::NotSupported,
                "echo mode is not supported: FerroLB runs BFD in asynchronous mode only; leave echoMode out",
            );
        }
        if problems.is_empty() {
            let bfd = Bfd {
                name: profile.name().to_owned(),
                receive_interval_ms: spec.receive_interval,
                transmit_interval_ms: spec.transmit_interval,
                detect_multiplier: spec.detect_multiplier,
                echo_interval_ms: spec.echo_interval,
                echo_mode: spec.echo_mode,
                passive_mode: spec.passive_mode,
                minimum_ttl: spec.minimum_ttl,
            };
            accepted.accepted.insert(bfd.name.clone(), bfd);
        }
        record(verdicts, profile.object_ref(), problems);
    }
    accepted
}
