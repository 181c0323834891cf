//! OPEN validation (RFC 4271 section 6.2) and what our OPEN and the peer's negotiate.
//!
//! Decides whether the peer's OPEN is acceptable and, if not, which NOTIFICATION answers it; it
//! does not check the message's syntax (the codec does) nor insist on any address family: a
//! session with neither IPv4 nor IPv6 unicast comes up, and [`Negotiated`] says so.

use std::time::Duration;

use super::{Negotiated, OpenParams, PeerAsn, SessionConfig};
use crate::notification::Notification;
use crate::wire::BGP_VERSION;

/// The OPEN we send for these settings. Fails only for a hold time that
/// [`SessionConfig::validate`] rejects.
pub fn local_open(config: &SessionConfig) -> Result<OpenParams, super::ConfigError> {
    Ok(OpenParams {
        version: BGP_VERSION,
        asn: config.local_asn,
        hold_time: config.hold_time_secs()?,
        router_id: config.router_id,
        four_octet_as: true,
        ipv4_unicast: config.ipv4_unicast,
        ipv6_unicast: config.ipv6_unicast,
        route_refresh: config.route_refresh,
        ipv4_over_ipv6: config.ipv4_over_ipv6 && config.ipv4_unicast,
        graceful_restart: config.graceful_restart,
    })
}

/// Checks the peer's OPEN against our settings, in the RFC's order (version, AS, hold time,
/// identifier), and negotiates timers and capabilities. `local` is the OPEN we sent.
pub fn negotiate(config: &SessionConfig, local: &OpenParams, peer: &OpenParams) -> Result<Negotiated, Notification> {
    if peer.version != BGP_VERSION {
        return Err(Notification::unsupported_version());
    }
    let internal = peer.asn == config.local_asn;
    let asn_ok = match config.peer_asn {
        PeerAsn::Fixed(asn) => peer.asn == asn,
        PeerAsn::DynamicInternal => internal,
        PeerAsn::DynamicExternal => !internal,
    };
    // AS 0 is never acceptable in an OPEN (RFC 7607).
    if !asn_ok || peer.asn == 0 {
        return Err(Notification::bad_peer_as());
    }
    if matches!(peer.hold_time, 1 | 2) {
        return Err(Notification::unacceptable_hold_time());
    }
    // RFC 6286: only iBGP peers must differ from us; 0.0.0.0 is never an identifier.
    if peer.router_id.is_unspecified() || (internal && peer.router_id == config.router_id) {
        return Err(Notification::bad_bgp_identifier());
    }

    let hold_secs = local.hold_time.min(peer.hold_time);
    let hold_time = Duration::from_secs(u64::from(hold_secs));
    let keepalive = (hold_secs != 0).then(|| {
        let third = Duration::from_secs(u64::from(hold_secs / 3));
        config.keepalive.map_or(third, |configured| configured.min(third))
    });
    Ok(Negotiated {
        hold_time,
        keepalive,
        peer_asn: peer.asn,
        peer_router_id: peer.router_id,
        internal,
        four_octet_as: local.four_octet_as && peer.four_octet_as,
        ipv4_unicast: local.ipv4_unicast && peer.ipv4_unicast,
        ipv6_unicast: local.ipv6_unicast && peer.ipv6_unicast,
        route_refresh: local.route_refresh && peer.route_refresh,
        ipv4_over_ipv6: local.ipv4_over_ipv6 && peer.ipv4_over_ipv6,
        graceful_restart: local.graceful_restart.is_some() && peer.graceful_restart.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::fsm::tests::{LOCAL_ID, peer_open};

    fn config(peer_asn: PeerAsn) -> SessionConfig {
        SessionConfig::new(64600, peer_asn, LOCAL_ID)
    }

    /// The lab router's OPEN, with `asn`.
    fn peer(asn: u32) -> OpenParams {
        OpenParams { asn, ..peer_open() }
    }

    fn run(config: &SessionConfig, peer: &OpenParams) -> Result<Negotiated, Notification> {
        negotiate(config, &local_open(config).unwrap(), peer)
    }

    #[test]
    fn open_validation_errors_map_to_notifications() {
        let bad = |f: &dyn Fn(&mut OpenParams)| {
            let mut p = peer(64512);
            f(&mut p);
            p
        };
        let cases = [
            ("version 3", bad(&|p| p.version = 3), Notification::new(2, 1, vec![0, 4])),
            ("version 5", bad(&|p| p.version = 5), Notification::new(2, 1, vec![0, 4])),
            ("wrong AS", bad(&|p| p.asn = 64513), Notification::new(2, 2, vec![])),
            ("hold 1", bad(&|p| p.hold_time = 1), Notification::new(2, 6, vec![])),
            ("hold 2", bad(&|p| p.hold_time = 2), Notification::new(2, 6, vec![])),
            ("router id 0", bad(&|p| p.router_id = Ipv4Addr::UNSPECIFIED), Notification::new(2, 3, vec![])),
            // Version is checked first, then AS, then hold time, then the identifier.
            (
                "all wrong",
                bad(&|p| {
                    p.version = 3;
                    p.asn = 1;
                    p.hold_time = 1;
                    p.router_id = Ipv4Addr::UNSPECIFIED;
                }),
                Notification::new(2, 1, vec![0, 4]),
            ),
            (
                "AS and hold wrong",
                bad(&|p| {
                    p.asn = 1;
                    p.hold_time = 2;
                }),
                Notification::new(2, 2, vec![]),
            ),
        ];
        let config = config(PeerAsn::Fixed(64512));
        for (name, open, expected) in cases {
            assert_eq!(run(&config, &open), Err(expected), "{name}");
        }
    }

    #[test]
    fn dynamic_asn_rules() {
        let cases = [
            (PeerAsn::DynamicInternal, 64600, true),
            (PeerAsn::DynamicInternal, 64512, false),
            (PeerAsn::DynamicExternal, 64512, true),
            (PeerAsn::DynamicExternal, 64600, false),
            (PeerAsn::DynamicExternal, 0, false),
            (PeerAsn::Fixed(64600), 64600, true),
            (PeerAsn::Fixed(4_200_000_000), 4_200_000_000, true),
            (PeerAsn::Fixed(4_200_000_000), 64512, false),
        ];
        for (policy, asn, accepted) in cases {
            let result = run(&config(policy), &peer(asn));
            match result {
                Ok(n) => {
                    assert!(accepted, "{policy:?} accepted AS {asn}");
                    assert_eq!(n.peer_asn, asn);
                    assert_eq!(n.internal, asn == 64600);
                }
                Err(n) => {
                    assert!(!accepted, "{policy:?} refused AS {asn}");
                    assert_eq!(n, Notification::bad_peer_as());
                }
            }
        }
    }

    #[test]
    fn same_router_id_is_refused_for_ibgp_only() {
        let mut same = peer(64600);
        same.router_id = LOCAL_ID;
        assert_eq!(run(&config(PeerAsn::DynamicInternal), &same), Err(Notification::bad_bgp_identifier()));
        let mut ebgp = peer(64512);
        ebgp.router_id = LOCAL_ID;
        assert_eq!(run(&config(PeerAsn::Fixed(64512)), &ebgp).unwrap().peer_router_id, LOCAL_ID);
    }

    #[test]
    fn hold_and_keepalive_negotiation_table() {
        let secs = Duration::from_secs;
        // (ours, theirs, configured keepalive) -> (hold, keepalive)
        let cases = [
            (90, 90, None, secs(90), Some(secs(30))),
            (90, 30, None, secs(30), Some(secs(10))),
            (9, 180, None, secs(9), Some(secs(3))),
            (10, 90, None, secs(10), Some(secs(3))),
            (3, 3, None, secs(3), Some(secs(1))),
            (90, 90, Some(secs(10)), secs(90), Some(secs(10))),
            (90, 30, Some(secs(20)), secs(30), Some(secs(10))),
            (0, 90, None, secs(0), None),
            (90, 0, Some(secs(5)), secs(0), None),
        ];
        for (ours, theirs, keepalive, hold, expected_keepalive) in cases {
            let mut c = config(PeerAsn::Fixed(64512));
            c.hold_time = secs(ours);
            c.keepalive = keepalive;
            let mut p = peer(64512);
            p.hold_time = u16::try_from(theirs).unwrap();
            let n = run(&c, &p).unwrap();
            assert_eq!((n.hold_time, n.keepalive), (hold, expected_keepalive), "ours {ours} theirs {theirs}");
        }
    }

    #[test]
    fn capabilities_are_the_intersection() {
        let mut c = config(PeerAsn::Fixed(64512));
        c.ipv6_unicast = false;
        let mut p = peer(64512);
        p.route_refresh = false;
        p.four_octet_as = false;
        let n = run(&c, &p).unwrap();
        assert_eq!((n.four_octet_as, n.ipv4_unicast, n.ipv6_unicast, n.route_refresh), (false, true, false, false));
        assert!(!n.ipv4_over_ipv6, "not offered by us");
        c.ipv4_over_ipv6 = true;
        p.ipv4_over_ipv6 = false;
        assert!(!run(&c, &p).unwrap().ipv4_over_ipv6, "not offered by the peer");
        p.ipv4_over_ipv6 = true;
        c.ipv6_unicast = true;
        assert!(run(&c, &p).unwrap().ipv4_over_ipv6, "offered by both");
        c.ipv6_unicast = false;
        assert!(!n.graceful_restart, "offered by neither");
        c.graceful_restart = Some(120);
        assert!(!run(&c, &p).unwrap().graceful_restart, "not offered by the peer");
        p.graceful_restart = Some(0);
        assert!(run(&c, &p).unwrap().graceful_restart, "offered by both, whatever the peer's restart time");
        c.graceful_restart = None;
        assert!(!run(&c, &p).unwrap().graceful_restart, "not offered by us");
        // No common unicast family is not an error: it is recorded.
        p.ipv4_unicast = false;
        let n = run(&c, &p).unwrap();
        assert!(!n.ipv4_unicast && !n.ipv6_unicast);
    }

    #[test]
    fn local_open_says_what_we_offer() {
        let mut c = config(PeerAsn::Fixed(64512));
        c.hold_time = Duration::from_secs(30);
        c.route_refresh = false;
        let open = local_open(&c).unwrap();
        assert_eq!(
            open,
            OpenParams {
                version: 4,
                asn: 64600,
                hold_time: 30,
                router_id: LOCAL_ID,
                four_octet_as: true,
                ipv4_unicast: true,
                ipv6_unicast: true,
                route_refresh: false,
                ipv4_over_ipv6: false,
                graceful_restart: None,
            }
        );
        c.graceful_restart = Some(120);
        assert_eq!(local_open(&c).unwrap().graceful_restart, Some(120));
        c.ipv4_over_ipv6 = true;
        assert!(local_open(&c).unwrap().ipv4_over_ipv6);
        c.ipv4_unicast = false;
        assert!(!local_open(&c).unwrap().ipv4_over_ipv6, "no IPv4 unicast, nothing to carry over IPv6");
    }
}
