//! Packing many prefixes into few UPDATEs of at most 4096 octets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::super::*;

fn attributes() -> RouteAttributes {
    let next_hop = Ipv6NextHop { global: "2001:db8::1".parse().unwrap(), link_local: None };
    let mut attributes = RouteAttributes::new(vec![64600], Some(Ipv4Addr::new(192, 0, 2, 1)), Some(next_hop));
    attributes.communities = vec![Community::new(64600, 1)];
    attributes
}

fn hosts_v4(n: u32) -> Vec<Prefix> {
    (0..n).map(|i| Prefix::host(IpAddr::V4(Ipv4Addr::from(0xcb00_7100 + i)))).collect()
}

fn hosts_v6(n: u128) -> Vec<Prefix> {
    let base = u128::from("2001:db8:100::".parse::<Ipv6Addr>().unwrap());
    (0..n).map(|i| Prefix::host(IpAddr::V6(Ipv6Addr::from(base + i)))).collect()
}

/// Decodes a stream of messages, checking each is at most 4096 octets.
fn decode_stream(mut wire: &[u8]) -> Vec<Update> {
    let mut updates = Vec::new();
    while !wire.is_empty() {
        let (message, len) = decode(wire).unwrap().unwrap();
        assert!(len <= MAX_MESSAGE_LEN);
        let Message::Update(update) = message else { panic!("not an UPDATE: {message:?}") };
        updates.push(update);
        wire = &wire[len..];
    }
    updates
}

#[test]
fn announcements_fill_messages_and_lose_nothing() {
    let prefixes: Vec<Prefix> = hosts_v4(2000).into_iter().chain(hosts_v6(1000)).collect();
    let mut wire = Vec::new();
    let count = encode_announcements(&attributes(), &prefixes, &mut wire).unwrap();
    let updates = decode_stream(&wire);
    assert_eq!(updates.len(), count);
    // IPv4: 4096 - 23 - 27 attribute octets = 4046 octets, 5 a host: 809 per UPDATE (4095 octets) -> 3.
    // IPv6: 4096 - 23 - 20 attribute octets - 25 for MP_REACH_NLRI = 4028 octets, 17 a host: 236 -> 5.
    assert_eq!(count, 3 + 5);
    assert_eq!(updates[0].announced.len(), 809);
    assert_eq!(decode(&wire).unwrap().unwrap().1, 4095);
    assert_eq!(updates[3].announced.len(), 236);
    let announced: Vec<Prefix> = updates.iter().flat_map(|u| u.announced.clone()).collect();
    assert_eq!(announced, prefixes);
    assert_eq!(pack_announcements(&attributes(), &prefixes).unwrap().len(), count);
}

#[test]
fn withdrawals_fill_messages_and_lose_nothing() {
    let prefixes: Vec<Prefix> = hosts_v6(500).into_iter().chain(hosts_v4(1000)).collect();
    let mut wire = Vec::new();
    let count = encode_withdrawals(&prefixes, &mut wire);
    let updates = decode_stream(&wire);
    // IPv4: 4073 / 5 = 814 per UPDATE -> 2; IPv6: 4066 / 17 = 239 per UPDATE -> 3.
    assert_eq!((count, updates.len()), (5, 5));
    let mut withdrawn: Vec<Prefix> = updates.iter().flat_map(|u| u.withdrawn.clone()).collect();
    let mut expected = prefixes.clone();
    withdrawn.sort();
    expected.sort();
    assert_eq!(withdrawn, expected);
    assert_eq!(pack_withdrawals(&prefixes).len(), 5);
}

#[test]
fn packing_refuses_what_cannot_be_sent() {
    let mut huge = attributes();
    huge.communities = (0..1100).map(Community).collect();
    assert_eq!(
        encode_announcements(&huge, &hosts_v4(1), &mut Vec::new()),
        Err(EncodeError::AttributesTooLong { length: 4 + 9 + 7 + 4 + 4400 })
    );
    let mut v4_only = attributes();
    v4_only.next_hop_v6 = None;
    assert_eq!(pack_announcements(&v4_only, &hosts_v6(1)), Err(EncodeError::MissingIpv6NextHop));
    assert_eq!(pack_announcements(&attributes(), &[]), Ok(vec![]));
}
