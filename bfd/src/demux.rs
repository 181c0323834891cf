//! Which session a received packet belongs to, and the local discriminators that name sessions.
//!
//! A packet with a non-zero Your Discriminator names its session by our local discriminator
//! (RFC 5880 section 6.8.6). One with Your Discriminator zero comes from a peer that has not
//! learned ours yet; it is matched by where it came from: the peer's address and the interface it
//! arrived on for single hop (RFC 5881 section 3), the peer's and our address for multihop
//! (RFC 5883 section 3).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;

use crate::DropReason;
use crate::packet::ControlPacket;
use crate::xorshift::XorShift;

/// The path a session runs over, as the I/O layer sees a received packet's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Path<A = IpAddr> {
    /// Single hop: the interface (its index, as `IP_PKTINFO` / `IPV6_PKTINFO` report it).
    SingleHop {
        /// The interface index.
        interface: u32,
    },
    /// Multihop: our address the packet was sent to.
    MultiHop {
        /// The packet's destination address.
        local: A,
    },
}

/// Where a packet came from: the peer's address and the path. A session is configured for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerKey<A = IpAddr> {
    /// The peer's address (the packet's source address).
    pub peer: A,
    /// The path it arrived over.
    pub path: Path<A>,
}

/// A session that cannot be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DemuxError {
    /// Another session is configured for the same peer and path: packets with Your
    /// Discriminator zero could not tell them apart.
    #[error("a session for this peer and path exists (local discriminator {discriminator})")]
    PeerTaken {
        /// The existing session's local discriminator.
        discriminator: u32,
    },
}

/// The sessions of one BFD instance by local discriminator and by peer, with the caller's key
/// `K` for each (an index, a name, a channel).
#[derive(Debug, Clone)]
pub struct Demux<K, A = IpAddr> {
    by_discriminator: HashMap<u32, (PeerKey<A>, K)>,
    by_peer: HashMap<PeerKey<A>, u32>,
    rng: XorShift,
}

impl<K, A: Clone + Eq + Hash> Demux<K, A> {
    /// An empty table; `seed` drives the choice of local discriminators.
    pub fn new(seed: u64) -> Self {
        Demux { by_discriminator: HashMap::new(), by_peer: HashMap::new(), rng: XorShift::new(seed) }
    }

    /// Adds a session for `peer` and returns its new local discriminator: non-zero and used by no
    /// other session in the table. Pass it to [`crate::session::Session::new`].
    pub fn insert(&mut self, peer: PeerKey<A>, key: K) -> Result<u32, DemuxError> {
        if let Some(&discriminator) = self.by_peer.get(&peer) {
            return Err(DemuxError::PeerTaken { discriminator });
        }
        let discriminator = self.unused_discriminator();
        self.by_peer.insert(peer.clone(), discriminator);
        self.by_discriminator.insert(discriminator, (peer, key));
        Ok(discriminator)
    }

    /// Removes the session with this local discriminator; its discriminator may be chosen again.
    pub fn remove(&mut self, discriminator: u32) -> Option<(PeerKey<A>, K)> {
        let (peer, key) = self.by_discriminator.remove(&discriminator)?;
        self.by_peer.remove(&peer);
        Some((peer, key))
    }

    /// The session a decoded packet from `from` belongs to. By Your Discriminator when non-zero
    /// ([`DropReason::UnknownDiscriminator`] when no session has it, [`DropReason::PeerMismatch`]
    /// when that session is configured for another peer or path, so a spoofed discriminator
    /// from elsewhere cannot reach it); else by `from` ([`DropReason::UnknownPeer`]).
    pub fn lookup(&self, packet: &ControlPacket, from: &PeerKey<A>) -> Result<&K, DropReason> {
        if packet.your_discriminator == 0 {
            let discriminator = self.by_peer.get(from).ok_or(DropReason::UnknownPeer)?;
            return self.get(*discriminator).ok_or(DropReason::UnknownPeer);
        }
        let (peer, key) =
            self.by_discriminator.get(&packet.your_discriminator).ok_or(DropReason::UnknownDiscriminator)?;
        if peer != from {
            return Err(DropReason::PeerMismatch);
        }
        Ok(key)
    }

    /// The key of the session with this local discriminator.
    pub fn get(&self, discriminator: u32) -> Option<&K> {
        self.by_discriminator.get(&discriminator).map(|(_, key)| key)
    }

    /// The local discriminator of the session configured for `peer`.
    pub fn discriminator_of(&self, peer: &PeerKey<A>) -> Option<u32> {
        self.by_peer.get(peer).copied()
    }

    /// Every session: local discriminator, peer, key (in no particular order).
    pub fn iter(&self) -> impl Iterator<Item = (u32, &PeerKey<A>, &K)> {
        self.by_discriminator.iter().map(|(d, (peer, key))| (*d, peer, key))
    }

    /// How many sessions the table holds.
    pub fn len(&self) -> usize {
        self.by_discriminator.len()
    }

    /// Whether the table holds no session.
    pub fn is_empty(&self) -> bool {
        self.by_discriminator.is_empty()
    }

    fn unused_discriminator(&mut self) -> u32 {
        // 2^32 - 1 candidates: a draw is taken only while the table is far from full.
        loop {
            let candidate = (self.rng.next_u64() >> 32) as u32;
            if candidate != 0 && !self.by_discriminator.contains_key(&candidate) {
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::net::Ipv4Addr;

    use super::*;
    use crate::packet::{Diagnostic, Micros, State};

    fn single(peer: u8, interface: u32) -> PeerKey {
        PeerKey { peer: IpAddr::V4(Ipv4Addr::new(192, 0, 2, peer)), path: Path::SingleHop { interface } }
    }

    fn multi(peer: u8) -> PeerKey {
        let local = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
        PeerKey { peer: IpAddr::V4(Ipv4Addr::new(203, 0, 113, peer)), path: Path::MultiHop { local } }
    }

    fn packet(your_discriminator: u32) -> ControlPacket {
        ControlPacket {
            version: 1,
            diag: Diagnostic::NoDiagnostic,
            state: State::Down,
            poll: false,
            final_: false,
            control_plane_independent: false,
            auth_present: false,
            demand: false,
            multipoint: false,
            detect_mult: 3,
            length: 24,
            my_discriminator: 77,
            your_discriminator,
            desired_min_tx: Micros(1_000_000),
            required_min_rx: Micros(300_000),
            required_min_echo_rx: Micros(0),
        }
    }

    #[test]
    fn allocates_discriminators_never_zero_and_unique() {
        // Seed 0 included: whatever the seed, no zero and no repeat among live sessions.
        for seed in [0, 1, 42] {
            let mut demux = Demux::<usize>::new(seed);
            let mut seen = HashSet::new();
            for i in 0..2000u32 {
                let key = PeerKey { peer: IpAddr::V4(Ipv4Addr::from(i)), path: Path::SingleHop { interface: 1 } };
                let d = demux.insert(key, i as usize).unwrap();
                assert_ne!(d, 0);
                assert!(seen.insert(d), "discriminator {d} allocated twice");
            }
            assert_eq!(demux.len(), 2000);
        }
    }

    #[test]
    fn finds_by_your_discriminator() {
        let mut demux = Demux::new(1);
        let a = demux.insert(single(1, 2), "a").unwrap();
        let b = demux.insert(multi(9), "b").unwrap();
        assert_eq!(demux.lookup(&packet(a), &single(1, 2)), Ok(&"a"));
        assert_eq!(demux.lookup(&packet(b), &multi(9)), Ok(&"b"));
        assert_eq!(demux.get(a), Some(&"a"));
        assert_eq!(demux.discriminator_of(&multi(9)), Some(b));
    }

    #[test]
    fn drops_an_unknown_discriminator() {
        let mut demux = Demux::new(1);
        let a = demux.insert(single(1, 2), "a").unwrap();
        assert_eq!(demux.lookup(&packet(a.wrapping_add(1)), &single(1, 2)), Err(DropReason::UnknownDiscriminator));
    }

    #[test]
    fn drops_a_known_discriminator_from_another_peer_or_interface() {
        let mut demux = Demux::new(1);
        let a = demux.insert(single(1, 2), "a").unwrap();
        assert_eq!(demux.lookup(&packet(a), &single(3, 2)), Err(DropReason::PeerMismatch));
        assert_eq!(demux.lookup(&packet(a), &single(1, 4)), Err(DropReason::PeerMismatch));
    }

    #[test]
    fn finds_by_peer_and_path_while_your_discriminator_is_zero() {
        let mut demux = Demux::new(1);
        demux.insert(single(1, 2), "on eth2").unwrap();
        demux.insert(single(1, 3), "on eth3").unwrap();
        demux.insert(multi(9), "multihop").unwrap();
        assert_eq!(demux.lookup(&packet(0), &single(1, 2)), Ok(&"on eth2"));
        assert_eq!(demux.lookup(&packet(0), &single(1, 3)), Ok(&"on eth3"));
        assert_eq!(demux.lookup(&packet(0), &multi(9)), Ok(&"multihop"));
        assert_eq!(demux.lookup(&packet(0), &single(1, 4)), Err(DropReason::UnknownPeer));
        assert_eq!(demux.lookup(&packet(0), &multi(8)), Err(DropReason::UnknownPeer));
    }

    #[test]
    fn refuses_a_second_session_for_the_same_peer_and_path() {
        let mut demux = Demux::new(1);
        let a = demux.insert(single(1, 2), "a").unwrap();
        assert_eq!(demux.insert(single(1, 2), "b"), Err(DemuxError::PeerTaken { discriminator: a }));
    }

    #[test]
    fn removal_forgets_both_ways() {
        let mut demux = Demux::new(1);
        let a = demux.insert(single(1, 2), "a").unwrap();
        assert_eq!(demux.remove(a), Some((single(1, 2), "a")));
        assert!(demux.is_empty());
        assert_eq!(demux.lookup(&packet(a), &single(1, 2)), Err(DropReason::UnknownDiscriminator));
        assert_eq!(demux.lookup(&packet(0), &single(1, 2)), Err(DropReason::UnknownPeer));
        assert_eq!(demux.remove(a), None);
        // The peer can be configured again.
        assert!(demux.insert(single(1, 2), "again").is_ok());
    }
}
