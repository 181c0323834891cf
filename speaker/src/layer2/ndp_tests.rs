//! Byte-exact and malformed-frame tests of the NDP codec; checksums were computed independently of this
//! crate (a plain one's-complement sum over the pseudo-header and message).

use super::*;
use crate::layer2::icmpv6::Icmpv6Error;
use proptest::prelude::*;

const OURS: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const PEER: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x99]);
const VIP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x200);
const PEER_IP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x99);
const VIP_BYTES: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00];
const PEER_IP_BYTES: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x99];
const SNM_BYTES: [u8; 16] = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x00, 0x02, 0x00];
const ALL_NODES_BYTES: [u8; 16] = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01];

fn frame(eth: [[u8; 6]; 2], payload_len: u8, src: [u8; 16], dst: [u8; 16], message: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&eth[0]);
    f.extend_from_slice(&eth[1]);
    f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0, 0, payload_len, 58, 255]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(message);
    f
}

/// NS from 2001:db8:1::99 (02:00:00:00:00:99) for 2001:db8:1::200 to its solicited-node group.
fn ns_frame() -> Vec<u8> {
    let mut msg = vec![135, 0, 0x16, 0xf9, 0, 0, 0, 0];
    msg.extend_from_slice(&VIP_BYTES);
    msg.extend_from_slice(&[1, 1, 0x02, 0, 0, 0, 0, 0x99]);
    frame([[0x33, 0x33, 0xff, 0x00, 0x02, 0x00], PEER.0], 32, PEER_IP_BYTES, SNM_BYTES, &msg)
}

/// DAD NS from :: for 2001:db8:1::200, no options.
fn dad_frame() -> Vec<u8> {
    let mut msg = vec![135, 0, 0x48, 0xee, 0, 0, 0, 0];
    msg.extend_from_slice(&VIP_BYTES);
    frame([[0x33, 0x33, 0xff, 0x00, 0x02, 0x00], PEER.0], 24, [0; 16], SNM_BYTES, &msg)
}

#[test]
fn parses_a_solicitation() {
    let ns = parse_solicitation(&ns_frame()).unwrap();
    assert_eq!(
        ns,
        NeighborSolicitation {
            eth_source: PEER,
            eth_destination: MacAddr([0x33, 0x33, 0xff, 0x00, 0x02, 0x00]),
            source: PEER_IP,
            destination: "ff02::1:ff00:200".parse().unwrap(),
            target: VIP,
            source_link_layer: Some(PEER),
        }
    );
    assert!(!ns.is_dad());
}

#[test]
fn solicited_advertisement_is_byte_exact() {
    let na = answer_solicitation(&parse_solicitation(&ns_frame()).unwrap(), OURS);
    let mut msg = vec![136, 0, 0x85, 0xdb, 0x60, 0, 0, 0];
    msg.extend_from_slice(&VIP_BYTES);
    msg.extend_from_slice(&[2, 1, 0x02, 0, 0, 0, 0, 0x01]);
    assert_eq!(encode_advertisement(&na), frame([PEER.0, OURS.0], 32, VIP_BYTES, PEER_IP_BYTES, &msg));
}

#[test]
fn unsolicited_advertisement_is_byte_exact() {
    let mut msg = vec![136, 0, 0xf5, 0x2a, 0x20, 0, 0, 0];
    msg.extend_from_slice(&VIP_BYTES);
    msg.extend_from_slice(&[2, 1, 0x02, 0, 0, 0, 0, 0x01]);
    let want = frame([[0x33, 0x33, 0, 0, 0, 1], OURS.0], 32, VIP_BYTES, ALL_NODES_BYTES, &msg);
    assert_eq!(encode_advertisement(&unsolicited_advertisement(VIP, OURS)), want);
}

#[test]
fn dad_is_answered_to_all_nodes_without_the_solicited_flag() {
    let ns = parse_solicitation(&dad_frame()).unwrap();
    assert!(ns.is_dad());
    let na = answer_solicitation(&ns, OURS);
    assert_eq!(na, unsolicited_advertisement(VIP, OURS));
    assert_eq!((na.destination, na.solicited, na.override_flag), (ALL_NODES, false, true));
}

#[test]
fn without_source_link_layer_option_the_answer_goes_to_the_frame_source() {
    let ns = NeighborSolicitation {
        eth_source: PEER,
        eth_destination: OURS,
        source: PEER_IP,
        destination: VIP,
        target: VIP,
        source_link_layer: None,
    };
    let parsed = parse_solicitation(&encode_solicitation(&ns)).unwrap();
    assert_eq!(parsed, ns);
    assert_eq!(answer_solicitation(&parsed, OURS).eth_destination, PEER);
}

#[test]
fn advertisements_round_trip() {
    let ns = parse_solicitation(&ns_frame()).unwrap();
    for na in [answer_solicitation(&ns, OURS), unsolicited_advertisement(VIP, OURS)] {
        assert_eq!(parse_advertisement(&encode_advertisement(&na)), Ok(na));
    }
    assert_eq!(parse_solicitation(&encode_solicitation(&ns)), Ok(ns));
}

#[test]
fn solicited_node_group_and_mac() {
    let cases = [
        ("2001:db8:1::200", "ff02::1:ff00:200", [0x33, 0x33, 0xff, 0x00, 0x02, 0x00]),
        ("2001:db8::abcd:ef12:3456", "ff02::1:ff12:3456", [0x33, 0x33, 0xff, 0x12, 0x34, 0x56]),
        ("fe80::1", "ff02::1:ff00:1", [0x33, 0x33, 0xff, 0x00, 0x00, 0x01]),
    ];
    for (addr, group, mac) in cases {
        let group_addr = solicited_node_multicast(addr.parse().unwrap());
        assert_eq!(group_addr, group.parse::<Ipv6Addr>().unwrap(), "{addr}");
        assert_eq!(multicast_mac(group_addr), MacAddr(mac), "{addr}");
    }
    assert_eq!(multicast_mac(ALL_NODES), MacAddr([0x33, 0x33, 0, 0, 0, 1]));
}

/// The NS frame with byte `at` set to `value` (the checksum is left as it was).
fn mutate(at: usize, value: u8) -> Vec<u8> {
    let mut f = ns_frame();
    f[at] = value;
    f
}

/// Rewrites the ICMPv6 checksum of a frame after a mutation, so that a later check is what fails.
fn fix_checksum(mut f: Vec<u8>) -> Vec<u8> {
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&f[22..38]).unwrap());
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&f[38..54]).unwrap());
    let len = usize::from(u16::from_be_bytes([f[18], f[19]]));
    let sum = icmpv6::checksum(src, dst, &f[54..54 + len]);
    f[56..58].copy_from_slice(&sum.to_be_bytes());
    f
}

#[test]
fn malformed_solicitations_are_errors() {
    let good = ns_frame();
    let cases: Vec<(&str, Vec<u8>, NdpError)> = vec![
        ("empty", vec![], Icmpv6Error::Truncated { len: 0 }.into()),
        ("inside IPv6 header", good[..40].to_vec(), Icmpv6Error::Truncated { len: 40 }.into()),
        ("payload cut", good[..80].to_vec(), Icmpv6Error::Truncated { len: 80 }.into()),
        ("ARP ethertype", mutate(12, 0x08), Icmpv6Error::NotIpv6 { ethertype: 0x08dd }.into()),
        ("IPv4 version", mutate(14, 0x40), Icmpv6Error::BadVersion(4).into()),
        ("UDP", mutate(20, 17), Icmpv6Error::NotIcmpv6(17).into()),
        ("bad checksum", mutate(57, 0xfa), Icmpv6Error::BadChecksum { found: 0x16fa, expected: 0x16f9 }.into()),
        ("hop limit 64", mutate(21, 64), NdpError::HopLimit(64)),
        ("echo request", fix_checksum(mutate(54, 128)), NdpError::WrongMessage { icmp_type: 128, code: 0 }),
        ("code 1", fix_checksum(mutate(55, 1)), NdpError::WrongMessage { icmp_type: 135, code: 1 }),
        (
            "multicast target",
            fix_checksum(mutate(62, 0xff)),
            NdpError::MulticastTarget("ff01:db8:1::200".parse().unwrap()),
        ),
        ("option length 0", fix_checksum(mutate(79, 0)), NdpError::BadOption { offset: 24 }),
        ("option runs past the end", fix_checksum(mutate(79, 2)), NdpError::BadOption { offset: 24 }),
        (
            "multicast source",
            fix_checksum(mutate(22, 0xff)),
            NdpError::MulticastSource("ff01:db8:1::99".parse().unwrap()),
        ),
    ];
    for (name, frame, want) in cases {
        assert_eq!(parse_solicitation(&frame), Err(want), "{name}");
    }
}

#[test]
fn short_icmpv6_and_bad_link_layer_options_are_errors() {
    let truncated = {
        let mut f = ns_frame()[..54 + 20].to_vec();
        f[19] = 20;
        fix_checksum(f)
    };
    assert_eq!(parse_solicitation(&truncated), Err(NdpError::ShortMessage(20)));

    // A 16-byte source link-layer option is well formed as an option, but not an Ethernet address.
    let ns = NeighborSolicitation { source_link_layer: None, ..parse_solicitation(&ns_frame()).unwrap() };
    let mut f = encode_solicitation(&ns);
    f.extend_from_slice(&[1, 2, 0x02, 0, 0, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0]);
    f[19] = 40;
    assert_eq!(parse_solicitation(&fix_checksum(f)), Err(NdpError::BadLinkLayerOption { units: 2 }));
}

#[test]
fn unknown_options_are_skipped_and_link_padding_ignored() {
    let ns = parse_solicitation(&ns_frame()).unwrap();
    let mut f = encode_solicitation(&NeighborSolicitation { source_link_layer: None, ..ns });
    f.extend_from_slice(&[14, 1, 1, 2, 3, 4, 5, 6]); // a nonce option (RFC 3971), then the SLLA
    f.extend_from_slice(&[1, 1, 0x02, 0, 0, 0, 0, 0x99]);
    f[19] = 40;
    let mut f = fix_checksum(f);
    f.extend_from_slice(&[0xee; 6]);
    assert_eq!(parse_solicitation(&f), Ok(ns));
}

#[test]
fn dad_rules() {
    // DAD to a unicast destination, and DAD with a source link-layer option, are both invalid.
    let ns = parse_solicitation(&dad_frame()).unwrap();
    let unicast = NeighborSolicitation { destination: VIP, ..ns };
    assert_eq!(
        parse_solicitation(&encode_solicitation(&unicast)),
        Err(NdpError::BadDad { destination: VIP, with_option: false })
    );
    let with_option = NeighborSolicitation { source_link_layer: Some(PEER), ..ns };
    assert_eq!(
        parse_solicitation(&encode_solicitation(&with_option)),
        Err(NdpError::BadDad { destination: ns.destination, with_option: true })
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
        let _ = parse_solicitation(&bytes);
        let _ = parse_advertisement(&bytes);
    }

    #[test]
    fn arbitrary_checksummed_messages_never_panic(
        message in proptest::collection::vec(any::<u8>(), 0..96),
        source in any::<[u8; 16]>(),
    ) {
        // Valid envelopes with arbitrary ICMPv6 bodies reach the ND checks instead of failing the checksum.
        let f = icmpv6::encode(OURS, PEER, Ipv6Addr::from(source), ALL_NODES, message);
        if let Ok(ns) = parse_solicitation(&f) {
            prop_assert_eq!(parse_solicitation(&encode_solicitation(&ns)), Ok(ns));
        }
        if let Ok(na) = parse_advertisement(&f) {
            prop_assert_eq!(na.eth_source, PEER);
        }
    }
}
