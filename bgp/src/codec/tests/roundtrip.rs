//! Property tests: every message kind round-trips through encode and decode, and no input panics the
//! decoder.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::super::*;
use crate::notification::*;

fn prefix() -> impl Strategy<Value = Prefix> {
    prop_oneof![
        (any::<u32>(), 0u8..=32).prop_map(|(a, l)| Prefix::new(IpAddr::V4(Ipv4Addr::from(a)), l).unwrap()),
        (any::<u128>(), 0u8..=128).prop_map(|(a, l)| Prefix::new(IpAddr::V6(Ipv6Addr::from(a)), l).unwrap()),
    ]
}

/// Prefixes with IPv4 first, as the decoder returns them.
fn prefixes(max: usize) -> impl Strategy<Value = Vec<Prefix>> {
    prop::collection::vec(prefix(), 0..max).prop_map(|mut v| {
        v.sort_by_key(Prefix::family);
        v
    })
}

fn host_v4() -> impl Strategy<Value = Ipv4Addr> {
    (0x0100_0000u32..0xe000_0000).prop_map(Ipv4Addr::from)
}

fn attributes(has_v4: bool, has_v6: bool) -> impl Strategy<Value = RouteAttributes> {
    (
        prop_oneof![Just(Origin::Igp), Just(Origin::Egp), Just(Origin::Incomplete)],
        prop::collection::vec(any::<u32>(), 0..300),
        host_v4(),
        any::<u128>(),
        prop::option::of(any::<u128>()),
        prop::option::of(any::<u32>()),
        prop::collection::vec(any::<u32>().prop_map(Community), 0..20),
        prop::collection::vec(
            (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(g, a, b)| LargeCommunity {
                global_admin: g,
                local_data1: a,
                local_data2: b,
            }),
            0..10,
        ),
    )
        .prop_map(
            move |(origin, as_path, hop4, global, link_local, local_pref, communities, large_communities)| {
                RouteAttributes {
                    origin,
                    as_path,
                    next_hop_v4: has_v4.then_some(hop4),
                    next_hop_v4_ipv6: None,
                    next_hop_v6: has_v6.then(|| Ipv6NextHop {
                        global: Ipv6Addr::from(global),
                        link_local: link_local.map(Ipv6Addr::from),
                    }),
                    local_pref,
                    communities,
                    large_communities,
                }
            },
        )
}

fn update() -> impl Strategy<Value = Update> {
    (prefixes(40), prefixes(40))
        .prop_filter("an empty UPDATE is the IPv4 End-of-RIB", |(w, a)| !w.is_empty() || !a.is_empty())
        .prop_flat_map(|(withdrawn, announced)| {
            let has_v4 = announced.iter().any(|p| p.family() == Family::V4);
            let has_v6 = announced.iter().any(|p| p.family() == Family::V6);
            let attributes = if announced.is_empty() {
                Just(None).boxed()
            } else {
                attributes(has_v4, has_v6).prop_map(Some).boxed()
            };
            (Just(withdrawn), attributes, Just(announced))
        })
        .prop_map(|(withdrawn, attributes, announced)| Update { withdrawn, attributes, announced })
}

fn afi_safi() -> impl Strategy<Value = AfiSafi> {
    prop_oneof![
        Just(AfiSafi::IPV4_UNICAST),
        Just(AfiSafi::IPV6_UNICAST),
        (any::<u16>(), any::<u8>()).prop_map(|(afi, safi)| AfiSafi { afi, safi })
    ]
}

fn capability() -> impl Strategy<Value = Capability> {
    prop_oneof![
        afi_safi().prop_map(Capability::Multiprotocol),
        Just(Capability::RouteRefresh),
        (0u8..16, 0u16..4096, prop::collection::vec((afi_safi(), any::<u8>()), 0..4)).prop_map(
            |(restart_flags, restart_time, families)| Capability::GracefulRestart(GracefulRestart {
                restart_flags,
                restart_time,
                families
            })
        ),
        (
            any::<u8>().prop_filter("unknown codes", |c| ![1, 2, 5, 64, 65].contains(c)),
            prop::collection::vec(any::<u8>(), 0..20)
        )
            .prop_map(|(code, value)| Capability::Unknown { code, value }),
    ]
}

fn open() -> impl Strategy<Value = Open> {
    (1u32.., prop_oneof![Just(0u16), 3u16..], 1u32.., prop::collection::vec(capability(), 0..8), any::<bool>())
        .prop_map(|(my_as, hold_time, id, mut capabilities, four_octet)| {
            // Without the capability the AS travels in 2 octets (AS_TRANS when it does not fit).
            let my_as = if four_octet || my_as <= 0xffff {
                if four_octet {
                    capabilities.push(Capability::FourOctetAs(my_as));
                }
                my_as
            } else {
                u32::from(AS_TRANS)
            };
            Open { my_as, hold_time, bgp_id: Ipv4Addr::from(id), capabilities }
        })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        open().prop_map(Message::Open),
        update().prop_map(Message::Update),
        prop_oneof![Just(Family::V4), Just(Family::V6)].prop_map(Message::EndOfRib),
        (any::<u8>(), any::<u8>(), prop::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(code, subcode, data)| Message::Notification(Notification { code, subcode, data })),
        Just(Message::Keepalive),
        afi_safi().prop_map(|afi_safi| Message::RouteRefresh(RouteRefresh { afi_safi })),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(message in message()) {
        let wire = message.to_bytes().unwrap();
        prop_assert!(wire.len() <= MAX_MESSAGE_LEN);
        prop_assert_eq!(decode(&wire), Ok(Some((message, wire.len()))));
        prop_assert_eq!(decode(&wire[..wire.len() - 1]), Ok(None));
    }

    #[test]
    fn packed_updates_round_trip(v4 in prop::collection::vec(any::<u32>(), 0..2000), v6 in prop::collection::vec(any::<u128>(), 0..500)) {
        let prefixes: Vec<Prefix> = v4.iter().map(|&a| Prefix::host(IpAddr::V4(Ipv4Addr::from(a))))
            .chain(v6.iter().map(|&a| Prefix::host(IpAddr::V6(Ipv6Addr::from(a))))).collect();
        let next_hop = Ipv6NextHop { global: "2001:db8::1".parse().unwrap(), link_local: None };
        let attributes = RouteAttributes::new(vec![64600], Some(Ipv4Addr::new(192, 0, 2, 1)), Some(next_hop));
        let mut wire = Vec::new();
        let count = encode_announcements(&attributes, &prefixes, &mut wire).unwrap();
        let mut rest = &wire[..];
        let mut announced = Vec::new();
        for _ in 0..count {
            let (Message::Update(update), len) = decode(rest).unwrap().unwrap() else { panic!("not an UPDATE") };
            announced.extend(update.announced);
            rest = &rest[len..];
        }
        prop_assert!(rest.is_empty());
        prop_assert_eq!(announced, prefixes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(buf in prop::collection::vec(any::<u8>(), 0..600)) {
        check_outcome(&buf);
    }

    #[test]
    fn arbitrary_bodies_behind_a_valid_header_never_panic(message_type in 1u8..=5, body in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut buf = vec![0xff; 16];
        buf.extend_from_slice(&u16::try_from(19 + body.len()).unwrap().to_be_bytes());
        buf.push(message_type);
        buf.extend_from_slice(&body);
        check_outcome(&buf);
    }

    #[test]
    fn mutated_messages_never_panic(message in message(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut wire = message.to_bytes().unwrap();
        for (at, value) in flips {
            let i = at.index(wire.len());
            wire[i] = value;
        }
        check_outcome(&wire);
    }
}

/// Decoding either wants more, or consumes a whole message, or reports a header/OPEN/UPDATE error.
fn check_outcome(buf: &[u8]) {
    match decode(buf) {
        Ok(None) => assert!(buf.len() < MAX_MESSAGE_LEN),
        Ok(Some((_, len))) => assert!((HEADER_LEN..=buf.len().min(MAX_MESSAGE_LEN)).contains(&len)),
        Err(e) => {
            assert!((1..=3).contains(&e.notification.code), "{e}");
            if !e.resets_session() {
                assert_eq!(e.notification.code, 3);
                assert!(e.message_len.is_some_and(|len| len <= buf.len()));
            }
        }
    }
}
