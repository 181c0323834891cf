//! What BFD session a configured peer wants, and what a session's state reads as. Pure.
//!
//! A peer with a BFDProfile gets one session towards its address: single hop (RFC 5881, UDP
//! 3784, TTL 255 sent and required) unless the peer is `ebgpMultiHop`, then multihop (RFC 5883,
//! UDP 4784, TTL at least the profile's `minimumTtl`). The profile's intervals become the
//! session's desired transmit and required receive intervals; `passiveMode` waits for the
//! router to speak first.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use ferrolb_bfd::packet::{Diagnostic, State};
use ferrolb_bfd::session::{Session, SessionConfig};
use ferrolb_bfd::ttl::Hops;
use ferrolb_core::config::{Bfd, Peer};

/// The minimum TTL when a profile's value does not fit (it is validated to 1..=254).
const DEFAULT_MINIMUM_TTL: u8 = 254;

/// The BFD session a peer wants from this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BfdSpec {
    /// The peer's address.
    pub remote: IpAddr,
    /// The local address to send from (the BGPPeer's sourceAddress), if configured.
    pub local: Option<IpAddr>,
    /// Single hop or multihop.
    pub hops: Hops,
    /// Intervals, multiplier, passive mode.
    pub config: SessionConfig,
    /// The VRF device the session's sockets are bound to, if any.
    pub vrf: Option<String>,
}

impl BfdSpec {
    /// The session `peer` wants; None without a BFD profile.
    pub fn from_peer(peer: &Peer) -> Option<BfdSpec> {
        let profile = peer.bfd.as_ref()?;
        let hops = if peer.ebgp_multi_hop {
            Hops::Multi { minimum_ttl: u8::try_from(profile.minimum_ttl).unwrap_or(DEFAULT_MINIMUM_TTL) }
        } else {
            Hops::Single
        };
        Some(BfdSpec {
            remote: peer.address,
            local: peer.source_address,
            hops,
            config: config(profile),
            vrf: peer.vrf.clone(),
        })
    }

    /// Whether `other` runs over the same path (addresses, hops, VRF): then a change of
    /// parameters goes through a Poll sequence on the running session instead of a new one.
    pub fn same_path(&self, other: &BfdSpec) -> bool {
        (self.remote, self.local, self.hops, &self.vrf) == (other.remote, other.local, other.hops, &other.vrf)
    }
}

/// A profile's settings as the state machine takes them.
fn config(profile: &Bfd) -> SessionConfig {
    SessionConfig {
        desired_min_tx: Duration::from_millis(u64::from(profile.transmit_interval_ms)),
        required_min_rx: Duration::from_millis(u64::from(profile.receive_interval_ms)),
        detect_mult: u8::try_from(profile.detect_multiplier).unwrap_or(u8::MAX),
        passive: profile.passive_mode,
    }
}

/// A BFD session's state as the BGP session, the status and `ferrolb explain` see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BfdStatus {
    /// Our state.
    pub state: State,
    /// Why it last went down (No Diagnostic when it never did).
    pub diag: Diagnostic,
    /// The router says AdminDown: it took the session down on purpose, which is no failure of
    /// the path (RFC 5882 section 3.2).
    pub remote_admin_down: bool,
    /// How many times the session left Up because the path failed (not for AdminDown): a BGP
    /// session that sees this grow closes, even if it missed the Up in between.
    pub failures: u64,
    /// The interval between our packets, as negotiated (before jitter).
    pub tx_interval: Duration,
    /// How long without a packet from the router before the session is declared down (None
    /// until the router has said its interval).
    pub detect_time: Option<Duration>,
}

impl BfdStatus {
    /// The state of `session` now, which has failed `failures` times.
    pub fn of(session: &Session, failures: u64) -> BfdStatus {
        BfdStatus {
            state: session.state(),
            diag: session.local_diag(),
            remote_admin_down: session.remote_state() == State::AdminDown,
            failures,
            tx_interval: session.tx_interval(),
            detect_time: session.detection_time(),
        }
    }

    /// Whether the session is Up.
    pub fn up(&self) -> bool {
        self.state == State::Up
    }

    /// Whether the session is down because the path failed: down, and not because the router
    /// said AdminDown.
    pub fn failed(&self) -> bool {
        !self.up() && !self.remote_admin_down
    }
}

impl fmt::Display for BfdStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.up(), self.detect_time) {
            (true, Some(detect)) => {
                write!(f, "BFD Up (transmit every {:?}, detection time {detect:?})", self.tx_interval)
            }
            (true, None) => write!(f, "BFD Up (transmit every {:?})", self.tx_interval),
            (false, _) if self.diag == Diagnostic::NoDiagnostic => write!(f, "BFD {}", self.state.as_str()),
            (false, _) => write!(f, "BFD {} ({})", self.state.as_str(), self.diag.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrolb_core::config::PeerAsn;

    fn profile() -> Bfd {
        Bfd {
            name: "fast".into(),
            receive_interval_ms: 100,
            transmit_interval_ms: 50,
            detect_multiplier: 3,
            echo_interval_ms: 50,
            echo_mode: false,
            passive_mode: true,
            minimum_ttl: 250,
        }
    }

    fn peer() -> Peer {
        Peer::new("router", 64600, PeerAsn::Fixed(64512), "198.51.100.1".parse().expect("address"))
    }

    #[test]
    fn a_peer_without_a_profile_has_no_session() {
        assert_eq!(BfdSpec::from_peer(&peer()), None);
    }

    #[test]
    fn the_profile_sets_intervals_multiplier_and_passive_mode() {
        let spec = BfdSpec::from_peer(&Peer { bfd: Some(profile()), ..peer() }).expect("a session");
        assert_eq!(spec.hops, Hops::Single);
        assert_eq!(spec.config.desired_min_tx, Duration::from_millis(50));
        assert_eq!(spec.config.required_min_rx, Duration::from_millis(100));
        assert_eq!(spec.config.detect_mult, 3);
        assert!(spec.config.passive);
    }

    #[test]
    fn a_multihop_peer_gets_a_multihop_session_with_the_minimum_ttl() {
        let spec =
            BfdSpec::from_peer(&Peer { bfd: Some(profile()), ebgp_multi_hop: true, ..peer() }).expect("a session");
        assert_eq!(spec.hops, Hops::Multi { minimum_ttl: 250 });
    }

    #[test]
    fn new_intervals_keep_the_path_a_new_source_does_not() {
        let spec = BfdSpec::from_peer(&Peer { bfd: Some(profile()), ..peer() }).expect("a session");
        let faster = BfdSpec {
            config: SessionConfig { desired_min_tx: Duration::from_millis(10), ..spec.config },
            ..spec.clone()
        };
        assert!(spec.same_path(&faster));
        let moved = BfdSpec { local: Some("198.51.100.11".parse().expect("address")), ..spec.clone() };
        assert!(!spec.same_path(&moved));
    }
}
