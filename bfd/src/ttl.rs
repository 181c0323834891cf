//! UDP ports and the TTL / hop limit rules: RFC 5881 (single hop) and RFC 5883 (multihop).
//!
//! Single-hop packets are sent with TTL 255 and accepted only with TTL 255, so a packet from
//! beyond the link cannot reach the session (the GTSM of RFC 5082). Multihop packets cannot be
//! held to 255; they are accepted down to a configured minimum.

use std::ops::RangeInclusive;

use crate::DropReason;

/// The destination port of single-hop Control packets (RFC 5881 section 4).
pub const PORT_SINGLE_HOP: u16 = 3784;

/// The destination port of multihop Control packets (RFC 5883 section 4).
pub const PORT_MULTI_HOP: u16 = 4784;

/// The source ports a session's packets must come from (RFC 5881 section 4): one per session,
/// the same for the session's life.
pub const SOURCE_PORTS: RangeInclusive<u16> = 49152..=65535;

/// The TTL (IPv4) or hop limit (IPv6) of every packet sent, single hop and multihop.
pub const SEND_TTL: u8 = 255;

/// The TTL or hop limit to send every packet with: 255, as RFC 5881 section 5 requires for single
/// hop; multihop too, so that the peer can check the hops it came over.
pub fn send_ttl() -> u8 {
    SEND_TTL
}

/// How far the peer is, which decides the port and the TTL received packets must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hops {
    /// The peer is on the link (RFC 5881): port 3784, received TTL exactly 255.
    Single,
    /// The peer is routed to (RFC 5883): port 4784, received TTL at least `minimum_ttl`.
    Multi {
        /// The lowest TTL accepted: 255 minus the most hops the peer may be away.
        minimum_ttl: u8,
    },
}

impl Hops {
    /// Whether a packet received with this TTL or hop limit may belong to the session.
    pub fn accepts_ttl(&self, received: u8) -> bool {
        match self {
            Hops::Single => received == SEND_TTL,
            Hops::Multi { minimum_ttl } => received >= *minimum_ttl,
        }
    }

    /// [`Hops::accepts_ttl`] as a reception check: [`DropReason::Ttl`] when not accepted.
    pub fn check_ttl(&self, received: u8) -> Result<(), DropReason> {
        if self.accepts_ttl(received) { Ok(()) } else { Err(DropReason::Ttl) }
    }

    /// The UDP destination port the session's packets are sent to and received on.
    pub fn port(&self) -> u16 {
        match self {
            Hops::Single => PORT_SINGLE_HOP,
            Hops::Multi { .. } => PORT_MULTI_HOP,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_hop_accepts_only_255() {
        assert!(Hops::Single.accepts_ttl(255));
        for ttl in [0, 1, 64, 254] {
            assert!(!Hops::Single.accepts_ttl(ttl), "{ttl}");
        }
        assert_eq!(Hops::Single.check_ttl(254), Err(DropReason::Ttl));
        assert_eq!(Hops::Single.port(), 3784);
    }

    #[test]
    fn multihop_accepts_the_minimum_and_above() {
        let hops = Hops::Multi { minimum_ttl: 250 };
        assert!(!hops.accepts_ttl(249));
        assert!(hops.accepts_ttl(250));
        assert!(hops.accepts_ttl(255));
        assert_eq!(hops.check_ttl(250), Ok(()));
        assert_eq!(hops.port(), 4784);
    }

    #[test]
    fn sends_with_255_from_the_ephemeral_ports() {
        assert_eq!(send_ttl(), 255);
        assert!(SOURCE_PORTS.contains(&49152) && SOURCE_PORTS.contains(&65535));
        assert!(!SOURCE_PORTS.contains(&49151));
    }
}
