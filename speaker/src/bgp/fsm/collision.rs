//! Connection collision (RFC 4271 section 6.8, RFC 6286 section 2.3): when we and the peer both
//! opened a connection, which one is closed.
//!
//! Decides only which connection loses; the I/O layer, which holds both connections (each with
//! its own [`super::Session`]), feeds [`super::Event::OpenCollisionDump`] to the loser's session.

use std::net::Ipv4Addr;

use super::State;

/// Which side opened a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We opened it (the peer accepted).
    Outgoing,
    /// The peer opened it (we accepted).
    Incoming,
}

impl Direction {
    /// The other direction.
    pub fn opposite(self) -> Direction {
        match self {
            Direction::Outgoing => Direction::Incoming,
            Direction::Incoming => Direction::Outgoing,
        }
    }
}

/// A speaker's identity as its OPEN gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Speaker {
    /// BGP Identifier.
    pub router_id: Ipv4Addr,
    /// AS number (4-octet).
    pub asn: u32,
}

/// The connection that survives a collision: the one opened by the speaker with the higher BGP
/// Identifier, compared as unsigned integers (RFC 4271 6.8); with equal identifiers, the one
/// opened by the speaker with the larger AS (RFC 6286 2.3). None when both are the same, which
/// OPEN validation refuses (2/3) before a collision can be resolved.
pub fn survivor(local: Speaker, peer: Speaker) -> Option<Direction> {
    let ours = (u32::from(local.router_id), local.asn);
    let theirs = (u32::from(peer.router_id), peer.asn);
    match ours.cmp(&theirs) {
        std::cmp::Ordering::Greater => Some(Direction::Outgoing),
        std::cmp::Ordering::Less => Some(Direction::Incoming),
        std::cmp::Ordering::Equal => None,
    }
}

/// An OPEN from `peer` arrived on the connection `new` while the other connection to the same
/// peer is in `other_state`: the connection to close, if any. Only a session that has exchanged
/// or sent an OPEN collides; an Established one always wins (RFC 4271 6.8, without the optional
/// CollisionDetectEstablishedState); identical identities keep the existing connection.
pub fn connection_to_close(new: Direction, other_state: State, local: Speaker, peer: Speaker) -> Option<Direction> {
    match other_state {
        State::Idle | State::Connect | State::Active => None,
        State::Established => Some(new),
        State::OpenSent | State::OpenConfirm => Some(survivor(local, peer).map_or(new, Direction::opposite)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speaker(id: [u8; 4], asn: u32) -> Speaker {
        Speaker { router_id: Ipv4Addr::from(id), asn }
    }

    #[test]
    fn higher_identifier_keeps_the_connection_it_opened() {
        let cases = [
            ([198, 51, 100, 11], 64600, [198, 51, 100, 1], 64512, Some(Direction::Outgoing)),
            ([198, 51, 100, 1], 64600, [198, 51, 100, 11], 64512, Some(Direction::Incoming)),
            // Compared as unsigned integers, not as signed or per octet text.
            ([200, 0, 0, 1], 64600, [10, 0, 0, 1], 64512, Some(Direction::Outgoing)),
            ([10, 0, 0, 1], 64600, [128, 0, 0, 0], 64512, Some(Direction::Incoming)),
            // Equal identifiers (allowed for eBGP): the larger AS wins (RFC 6286).
            ([192, 0, 2, 1], 64600, [192, 0, 2, 1], 64512, Some(Direction::Outgoing)),
            ([192, 0, 2, 1], 64512, [192, 0, 2, 1], 4_200_000_000, Some(Direction::Incoming)),
            ([192, 0, 2, 1], 64512, [192, 0, 2, 1], 64512, None),
        ];
        for (local_id, local_asn, peer_id, peer_asn, expected) in cases {
            let got = survivor(speaker(local_id, local_asn), speaker(peer_id, peer_asn));
            assert_eq!(got, expected, "{local_id:?}/{local_asn} vs {peer_id:?}/{peer_asn}");
        }
    }

    #[test]
    fn connection_to_close_by_other_state() {
        let high = speaker([198, 51, 100, 11], 64600);
        let low = speaker([198, 51, 100, 1], 64512);
        let cases = [
            // We have the higher id: our outgoing connection survives whichever OPEN arrives.
            (Direction::Incoming, State::OpenConfirm, high, low, Some(Direction::Incoming)),
            (Direction::Outgoing, State::OpenSent, high, low, Some(Direction::Incoming)),
            // The peer has the higher id: its incoming connection survives.
            (Direction::Outgoing, State::OpenConfirm, low, high, Some(Direction::Outgoing)),
            (Direction::Incoming, State::OpenSent, low, high, Some(Direction::Outgoing)),
            // An Established session is never replaced.
            (Direction::Incoming, State::Established, low, high, Some(Direction::Incoming)),
            // No OPEN on the other connection yet: no collision.
            (Direction::Incoming, State::Connect, low, high, None),
            (Direction::Incoming, State::Active, high, low, None),
            (Direction::Outgoing, State::Idle, high, low, None),
            // Identical identities: keep the existing connection.
            (Direction::Incoming, State::OpenConfirm, high, high, Some(Direction::Incoming)),
        ];
        for (new, other, local, peer, expected) in cases {
            assert_eq!(connection_to_close(new, other, local, peer), expected, "{new:?} vs other in {other}");
        }
    }
}
