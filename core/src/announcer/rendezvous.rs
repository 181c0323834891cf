//! A stable rendezvous (highest-random-weight) hash of (node, address).
//!
//! Every speaker must rank nodes the same way without talking, across builds and Rust
//! releases, so the hash is written out here (std's `DefaultHasher` promises no stability):
//! 64-bit FNV-1a over the node name, a separator and the address bytes, then the splitmix64
//! finalizer to spread FNV's weak low bits. Hashing the *address* (not the Service) puts all
//! Services sharing an address on one node; since each node's score depends only on itself
//! and the address, a node leaving moves only the addresses it held, and a node joining takes
//! only the addresses where it now scores highest.

use std::net::IpAddr;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut state: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        state ^= u64::from(*byte);
        state = state.wrapping_mul(FNV_PRIME);
    }
    state
}

fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The rendezvous score of `node` for `address`: higher wins. Stable across processes,
/// builds and platforms.
pub fn score(node: &str, address: IpAddr) -> u64 {
    let state = fnv1a(FNV_OFFSET, node.as_bytes());
    // The separator keeps ("ab", x) and ("a", "b" ++ x) apart; the family tag keeps
    // 0.0.0.1 and ::1's last bytes apart.
    let state = match address {
        IpAddr::V4(v4) => fnv1a(fnv1a(state, &[0, 4]), &v4.octets()),
        IpAddr::V6(v6) => fnv1a(fnv1a(state, &[0, 6]), &v6.octets()),
    };
    splitmix64(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_never_change() {
        // Pinned: if these change, speakers of two versions would disagree on owners.
        assert_eq!(fnv1a(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
        let pinned = score("node1", "198.51.100.200".parse().unwrap());
        assert_eq!(pinned, score("node1", "198.51.100.200".parse().unwrap()));
        assert_eq!(format!("{pinned:016x}"), PINNED_NODE1_200);
    }

    /// Computed independently (a ten-line Python FNV-1a + splitmix64), not copied from this code.
    const PINNED_NODE1_200: &str = "a1700c979cf96539";

    #[test]
    fn different_inputs_score_differently() {
        let a = "198.51.100.200".parse().unwrap();
        let b = "198.51.100.201".parse().unwrap();
        assert_ne!(score("node1", a), score("node2", a));
        assert_ne!(score("node1", a), score("node1", b));
        assert_ne!(score("node1", "0.0.0.1".parse().unwrap()), score("node1", "::1".parse().unwrap()));
    }
}
