//! RFC 8950 (IPv4 NLRI with an IPv6 next hop, as BGP unnumbered sends it): the extended next hop
//! capability and IPv4 prefixes in MP_REACH_NLRI, byte-exact, decoded back and packed.

use std::net::{IpAddr, Ipv4Addr};

use super::super::*;
use super::{MARKER, bytes, p};

fn unnumbered_next_hop() -> Ipv6NextHop {
    Ipv6NextHop { global: "2001:db8::2".parse().unwrap(), link_local: Some("fe80::2".parse().unwrap()) }
}

fn v4_over_v6(next_hop: Ipv6NextHop) -> RouteAttributes {
    RouteAttributes { next_hop_v4_ipv6: Some(next_hop), ..RouteAttributes::new(vec![64600], None, None) }
}

#[test]
fn open_offering_ipv4_over_ipv6() {
    let mut open = Open::ferrolb(64600, 90, Ipv4Addr::new(192, 0, 2, 1), None);
    open.offer_ipv4_over_ipv6();
    let expected = bytes(&[
        &[0x00, 0x3b, 0x01],                               // length 59, OPEN
        &[0x04, 0xfc, 0x58, 0x00, 0x5a],                   // version 4, AS 64600, hold 90
        &[0xc0, 0x00, 0x02, 0x01],                         // BGP identifier 192.0.2.1
        &[0x1e, 0x02, 0x1c],                               // 30 octets of parameters: capabilities, 28 octets
        &[0x01, 0x04, 0x00, 0x01, 0x00, 0x01],             // multiprotocol IPv4 unicast
        &[0x01, 0x04, 0x00, 0x02, 0x00, 0x01],             // multiprotocol IPv6 unicast
        &[0x05, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02], // extended next hop: AFI 1, SAFI 1 (2 octets), NH AFI 2
        &[0x02, 0x00],                                     // route refresh
        &[0x41, 0x04, 0x00, 0x00, 0xfc, 0x58],             // 4-octet AS 64600
    ]);
    let wire = Message::Open(open.clone()).to_bytes().unwrap();
    assert_eq!(wire, expected);
    let Some((Message::Open(back), _)) = decode(&wire).unwrap() else { panic!("not an OPEN") };
    assert_eq!(back, open);
    assert!(back.ipv4_over_ipv6());
    assert!(!Open::ferrolb(64600, 90, Ipv4Addr::new(192, 0, 2, 1), None).ipv4_over_ipv6());
}

/// The start of the OPEN FRR 8.4 sent for `neighbor eth0 interface remote-as external` (its
/// multiprotocol IPv4 unicast and extended next hop capabilities, as captured), then 4-octet AS.
#[test]
fn frrs_extended_next_hop_capability_decodes() {
    let mut wire = MARKER.to_vec();
    wire.extend_from_slice(&[0x00, 0x37, 0x01, 0x04, 0xfc, 0x00, 0x00, 0x03, 0xc0, 0x00, 0x02, 0x01, 0x1a]);
    wire.extend_from_slice(&[0x02, 0x06, 0x01, 0x04, 0x00, 0x01, 0x00, 0x01]);
    wire.extend_from_slice(&[0x02, 0x08, 0x05, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02]);
    wire.extend_from_slice(&[0x02, 0x06, 0x41, 0x04, 0x00, 0x00, 0xfc, 0x00]);
    let Some((Message::Open(open), len)) = decode(&wire).unwrap() else { panic!("not an OPEN") };
    assert_eq!(len, wire.len());
    assert_eq!(open.capabilities[1], Capability::ExtendedNextHop(vec![ExtendedNextHop::IPV4_UNICAST_OVER_IPV6]));
    assert!(open.ipv4_over_ipv6());
}

#[test]
fn malformed_extended_next_hop_capabilities_are_refused() {
    for value in [&[][..], &[0x00, 0x01, 0x00, 0x01, 0x00][..], &[0x00, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00][..]] {
        let mut caps = vec![0x05, u8::try_from(value.len()).unwrap()];
        caps.extend_from_slice(value);
        let mut body = vec![0x04, 0xfc, 0x00, 0x00, 0x03, 0xc0, 0x00, 0x02, 0x01];
        body.push(u8::try_from(caps.len() + 2).unwrap());
        body.extend_from_slice(&[0x02, u8::try_from(caps.len()).unwrap()]);
        body.extend_from_slice(&caps);
        let mut wire = MARKER.to_vec();
        wire.extend_from_slice(&u16::try_from(19 + body.len()).unwrap().to_be_bytes());
        wire.push(0x01);
        wire.extend_from_slice(&body);
        let error = decode(&wire).unwrap_err();
        assert!(error.resets_session(), "{value:?}");
        assert_eq!((error.notification.code, error.notification.subcode), (2, 7), "{value:?}");
    }
}

#[test]
fn ipv4_prefixes_with_an_ipv6_next_hop_go_in_mp_reach_nlri() {
    let update = Update {
        withdrawn: vec![],
        attributes: Some(v4_over_v6(unnumbered_next_hop())),
        announced: vec![p("203.0.113.10/32")],
    };
    let expected = bytes(&[
        &[0x00, 0x51, 0x02],                                              // length 81, UPDATE
        &[0x00, 0x00, 0x00, 0x3a], // no withdrawn routes, 58 octets of attributes
        &[0x80, 0x0e, 0x2a, 0x00, 0x01, 0x01, 0x20], // MP_REACH_NLRI, 42 octets, AFI 1, SAFI 1, next hop 32
        &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02], // 2001:db8::2
        &[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02], // fe80::2
        &[0x00],                   // reserved
        &[0x20, 0xcb, 0x00, 0x71, 0x0a], // 203.0.113.10/32
        &[0x40, 0x01, 0x01, 0x00], // ORIGIN IGP
        &[0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfc, 0x58], // AS_PATH [64600]; no NEXT_HOP, no NLRI field
    ]);
    let wire = Message::Update(update.clone()).to_bytes().unwrap();
    assert_eq!(wire, expected);
    assert_eq!(decode(&wire).unwrap().unwrap().0, Message::Update(update));
}

#[test]
fn a_link_local_next_hop_alone_takes_16_octets() {
    let next_hop = Ipv6NextHop { global: "fe80::2".parse().unwrap(), link_local: None };
    let update =
        Update { withdrawn: vec![], attributes: Some(v4_over_v6(next_hop)), announced: vec![p("203.0.113.10/32")] };
    let wire = Message::Update(update.clone()).to_bytes().unwrap();
    assert_eq!(wire[23..30], [0x80, 0x0e, 0x1a, 0x00, 0x01, 0x01, 0x10]);
    assert_eq!(wire[30..46], "fe80::2".parse::<std::net::Ipv6Addr>().unwrap().octets());
    assert_eq!(decode(&wire).unwrap().unwrap().0, Message::Update(update));
}

#[test]
fn ipv4_over_ipv6_and_ipv6_prefixes_cannot_share_an_update() {
    let mut attributes = v4_over_v6(unnumbered_next_hop());
    attributes.next_hop_v6 = Some(unnumbered_next_hop());
    let update = Update {
        withdrawn: vec![],
        attributes: Some(attributes.clone()),
        announced: vec![p("203.0.113.10/32"), p("2001:db8:ff::10/128")],
    };
    assert_eq!(update.encode(&mut Vec::new()), Err(EncodeError::TwoMpReach));
    // Packed, each family gets its own UPDATEs.
    let updates = pack_announcements(&attributes, &update.announced).unwrap();
    assert_eq!(updates.len(), 2);
    let mut out = Vec::new();
    assert_eq!(encode_announcements(&attributes, &update.announced, &mut out), Ok(2));
    let mut rest = &out[..];
    let mut announced = Vec::new();
    while let Some((Message::Update(u), n)) = decode(rest).unwrap() {
        let a = u.attributes.unwrap();
        assert_eq!(a.next_hop_v4, None);
        announced.extend(u.announced);
        rest = &rest[n..];
    }
    assert_eq!(announced, update.announced);
}

#[test]
fn many_ipv4_prefixes_over_ipv6_pack_within_4096_octets() {
    let prefixes: Vec<Prefix> =
        (0..3000u32).map(|i| Prefix::host(IpAddr::V4(Ipv4Addr::from(0xc612_0000 + i)))).collect();
    let mut out = Vec::new();
    let count = encode_announcements(&v4_over_v6(unnumbered_next_hop()), &prefixes, &mut out).unwrap();
    assert!(count <= 4, "{count} UPDATEs");
    let mut rest = &out[..];
    let mut seen = 0;
    while let Some((message, n)) = decode(rest).unwrap() {
        assert!(n <= MAX_MESSAGE_LEN);
        let Message::Update(u) = message else { panic!("{message:?}") };
        seen += u.announced.len();
        rest = &rest[n..];
    }
    assert_eq!(seen, 3000);
}
