//! A session's settings, their defaults and their validation.
//!
//! Decides which settings a session may run with; turning a `BGPPeer` into them (defaults for
//! absent fields, router id choice) is the integrator's job.

use std::net::Ipv4Addr;
use std::time::Duration;

// One definition, shared with the configuration that names it in a BGPPeer.
pub use ferrolb_net::PeerAsn;

/// Settings of one BGP session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Our AS number (4-octet).
    pub local_asn: u32,
    /// Which AS the peer must have.
    pub peer_asn: PeerAsn,
    /// Our BGP Identifier.
    pub router_id: Ipv4Addr,
    /// Hold time we propose: 0 (no hold timer, no keepalives) or 3 to 65535 whole seconds.
    pub hold_time: Duration,
    /// Keepalive interval; None: a third of the negotiated hold time. Never more than that third.
    pub keepalive: Option<Duration>,
    /// Delays of the ConnectRetry timer.
    pub connect_retry: RetryBackoff,
    /// Seed for the ConnectRetry jitter (RFC 4271 section 10: a factor in 0.75..=1.0); None: no
    /// jitter, delays exactly as [`RetryBackoff`] says.
    pub jitter_seed: Option<u64>,
    /// Never open connections, only accept the peer's.
    pub passive: bool,
    /// Offer IPv4 unicast.
    pub ipv4_unicast: bool,
    /// Offer IPv6 unicast.
    pub ipv6_unicast: bool,
    /// Offer route refresh.
    pub route_refresh: bool,
    /// Offer IPv4 unicast with an IPv6 next hop (RFC 8950 extended next hop): BGP unnumbered.
    pub ipv4_over_ipv6: bool,
    /// Offer graceful restart (RFC 4724) with this restart time in seconds (at most
    /// [`MAX_RESTART_TIME`]); None: no graceful restart capability.
    pub graceful_restart: Option<u16>,
}

/// The longest restart time the graceful restart capability can carry (12 bits, RFC 4724).
pub const MAX_RESTART_TIME: u16 = 4095;

/// The restart time offered when none is configured: FRR's default (`bgp graceful-restart
/// restart-time`).
pub const DEFAULT_RESTART_TIME: u16 = 120;

/// Hold time proposed when the peer's settings name none.
pub const DEFAULT_HOLD_TIME: Duration = Duration::from_secs(90);

/// The hold timer while waiting for the peer's OPEN (RFC 4271 section 8: "4 minutes is suggested").
pub const OPEN_SENT_HOLD_TIME: Duration = Duration::from_secs(240);

/// The longest allowed ConnectRetry delay, so that deadlines never overflow.
pub const MAX_CONNECT_RETRY: Duration = Duration::from_secs(24 * 60 * 60);

/// ConnectRetry delays: the timer starts at `initial`, each failed attempt doubles the delay for
/// the following ones up to `max`, and reaching Established (or ManualStart) resets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBackoff {
    /// The first delay.
    pub initial: Duration,
    /// The largest delay.
    pub max: Duration,
}

impl RetryBackoff {
    /// A delay that never grows (RFC 4271's plain ConnectRetryTime).
    pub fn fixed(delay: Duration) -> Self {
        RetryBackoff { initial: delay, max: delay }
    }
}

impl Default for RetryBackoff {
    /// FerroLB's default: 5 s, doubling to 120 s (the RFC's suggested ConnectRetryTime).
    fn default() -> Self {
        RetryBackoff { initial: Duration::from_secs(5), max: Duration::from_secs(120) }
    }
}

/// A setting a session cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The hold time is 1 s, 2 s, above 65535 s, or not whole seconds.
    #[error("hold time {0:?} must be 0 or 3 to 65535 whole seconds")]
    HoldTime(Duration),
    /// The keepalive is shorter than a second or not whole seconds.
    #[error("keepalive {0:?} must be at least 1 second, in whole seconds")]
    Keepalive(Duration),
    /// The retry delays are zero, out of order, or longer than a day.
    #[error("connect retry from {initial:?} to {max:?} must start above zero and not decrease, up to a day")]
    ConnectRetry {
        /// The first delay.
        initial: Duration,
        /// The largest delay.
        max: Duration,
    },
    /// AS 0 is reserved (RFC 7607).
    #[error("AS number 0 is reserved and cannot be used")]
    AsnZero,
    /// 0.0.0.0 is not a valid BGP Identifier.
    #[error("router id 0.0.0.0 is not a valid BGP identifier")]
    RouterIdZero,
    /// The graceful restart time does not fit the capability's 12 bits.
    #[error("graceful restart time {0} s must be at most {MAX_RESTART_TIME} s")]
    RestartTime(u16),
}

impl SessionConfig {
    /// Settings with FerroLB's defaults: hold 90 s, keepalive a third of it, retry 5 s to 120 s
    /// without jitter, active, IPv4 and IPv6 unicast and route refresh offered, no extended next hop.
    pub fn new(local_asn: u32, peer_asn: PeerAsn, router_id: Ipv4Addr) -> Self {
        SessionConfig {
            local_asn,
            peer_asn,
            router_id,
            hold_time: DEFAULT_HOLD_TIME,
            keepalive: None,
            connect_retry: RetryBackoff::default(),
            jitter_seed: None,
            passive: false,
            ipv4_unicast: true,
            ipv6_unicast: true,
            route_refresh: true,
            ipv4_over_ipv6: false,
            graceful_restart: None,
        }
    }

    /// Checks every setting; [`super::Session::new`] calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.local_asn == 0 || self.peer_asn == PeerAsn::Fixed(0) {
            return Err(ConfigError::AsnZero);
        }
        if self.router_id.is_unspecified() {
            return Err(ConfigError::RouterIdZero);
        }
        self.hold_time_secs()?;
        if let Some(keepalive) = self.keepalive
            && (keepalive < Duration::from_secs(1) || keepalive.subsec_nanos() != 0)
        {
            return Err(ConfigError::Keepalive(keepalive));
        }
        if let Some(restart_time) = self.graceful_restart
            && restart_time > MAX_RESTART_TIME
        {
            return Err(ConfigError::RestartTime(restart_time));
        }
        let RetryBackoff { initial, max } = self.connect_retry;
        if initial.is_zero() || initial > max || max > MAX_CONNECT_RETRY {
            return Err(ConfigError::ConnectRetry { initial, max });
        }
        Ok(())
    }

    /// The proposed hold time in the OPEN's 2-octet seconds.
    pub(crate) fn hold_time_secs(&self) -> Result<u16, ConfigError> {
        let invalid = ConfigError::HoldTime(self.hold_time);
        if self.hold_time.subsec_nanos() != 0 {
            return Err(invalid);
        }
        match u16::try_from(self.hold_time.as_secs()) {
            Ok(secs) if secs == 0 || secs >= 3 => Ok(secs),
            _ => Err(invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> SessionConfig {
        SessionConfig::new(64600, PeerAsn::Fixed(64512), Ipv4Addr::new(198, 51, 100, 11))
    }

    #[test]
    fn defaults_are_ferrolbs() {
        let c = base();
        assert_eq!(c.hold_time, Duration::from_secs(90));
        assert_eq!(c.connect_retry, RetryBackoff { initial: Duration::from_secs(5), max: Duration::from_secs(120) });
        assert!(!c.passive);
        assert_eq!(c.validate(), Ok(()));
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    type Change = fn(&mut SessionConfig);

    #[test]
    fn validation_table() {
        let cases: Vec<(&str, Change, Result<(), ConfigError>)> = vec![
            ("hold 0", |c| c.hold_time = secs(0), Ok(())),
            ("hold 1", |c| c.hold_time = secs(1), Err(ConfigError::HoldTime(secs(1)))),
            ("hold 2", |c| c.hold_time = secs(2), Err(ConfigError::HoldTime(secs(2)))),
            ("hold 3", |c| c.hold_time = secs(3), Ok(())),
            ("hold 65535", |c| c.hold_time = secs(65535), Ok(())),
            ("hold 65536", |c| c.hold_time = secs(65536), Err(ConfigError::HoldTime(secs(65536)))),
            (
                "hold 3.5",
                |c| c.hold_time = Duration::from_millis(3500),
                Err(ConfigError::HoldTime(Duration::from_millis(3500))),
            ),
            ("keepalive 0", |c| c.keepalive = Some(secs(0)), Err(ConfigError::Keepalive(secs(0)))),
            ("keepalive 10", |c| c.keepalive = Some(secs(10)), Ok(())),
            ("local AS 0", |c| c.local_asn = 0, Err(ConfigError::AsnZero)),
            ("peer AS 0", |c| c.peer_asn = PeerAsn::Fixed(0), Err(ConfigError::AsnZero)),
            ("router id 0", |c| c.router_id = Ipv4Addr::UNSPECIFIED, Err(ConfigError::RouterIdZero)),
            ("restart time 0", |c| c.graceful_restart = Some(0), Ok(())),
            ("restart time 4095", |c| c.graceful_restart = Some(4095), Ok(())),
            ("restart time 4096", |c| c.graceful_restart = Some(4096), Err(ConfigError::RestartTime(4096))),
            (
                "retry zero",
                |c| c.connect_retry = RetryBackoff::fixed(secs(0)),
                Err(ConfigError::ConnectRetry { initial: secs(0), max: secs(0) }),
            ),
            (
                "retry decreasing",
                |c| c.connect_retry = RetryBackoff { initial: secs(10), max: secs(5) },
                Err(ConfigError::ConnectRetry { initial: secs(10), max: secs(5) }),
            ),
            (
                "retry over a day",
                |c| c.connect_retry = RetryBackoff { initial: secs(1), max: Duration::MAX },
                Err(ConfigError::ConnectRetry { initial: secs(1), max: Duration::MAX }),
            ),
        ];
        for (name, change, expected) in cases {
            let mut c = base();
            change(&mut c);
            assert_eq!(c.validate(), expected, "{name}");
        }
    }
}
