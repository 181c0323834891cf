//! Byte-exact encodings, spelled octet by octet from RFC 4271, 4760, 6793, 2918, 4724, 1997, 8092.

use std::net::Ipv4Addr;

use super::super::*;
use super::{bytes, p};
use crate::notification::*;

fn encode(message: &Message) -> Vec<u8> {
    message.to_bytes().unwrap()
}

#[test]
fn keepalive_is_a_bare_header() {
    assert_eq!(encode(&Message::Keepalive), bytes(&[&[0x00, 0x13, 0x04]]));
}

#[test]
fn ferrolb_open_with_a_2_octet_as_and_graceful_restart() {
    let open = Open::ferrolb(64600, 90, Ipv4Addr::new(192, 0, 2, 1), Some(120));
    let expected = bytes(&[
        &[0x00, 0x37, 0x01],                   // length 55, OPEN
        &[0x04],                               // version 4
        &[0xfc, 0x58],                         // my AS 64600
        &[0x00, 0x5a],                         // hold time 90
        &[0xc0, 0x00, 0x02, 0x01],             // BGP identifier 192.0.2.1
        &[0x1a],                               // optional parameters: 26 octets
        &[0x02, 0x18],                         // parameter 2 (capabilities), 24 octets
        &[0x01, 0x04, 0x00, 0x01, 0x00, 0x01], // multiprotocol IPv4 unicast
        &[0x01, 0x04, 0x00, 0x02, 0x00, 0x01], // multiprotocol IPv6 unicast
        &[0x02, 0x00],                         // route refresh
        &[0x40, 0x02, 0x00, 0x78],             // graceful restart: flags 0, restart time 120
        &[0x41, 0x04, 0x00, 0x00, 0xfc, 0x58], // 4-octet AS 64600
    ]);
    assert_eq!(encode(&Message::Open(open)), expected);
}

/// A restarted speaker that kept forwarding (RFC 4724 section 3): Restart State set, the 12-bit
/// restart time beside it, and each family with its Forwarding State bit.
#[test]
fn graceful_restart_of_a_restarted_speaker_that_kept_forwarding() {
    let gr = GracefulRestart::preserving(120, true, &[AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]);
    let open = Open::for_families(64600, 90, Ipv4Addr::new(192, 0, 2, 1), &[Family::V4], Some(gr));
    let bytes_out = encode(&Message::Open(open));
    let capability = [
        0x40, 0x0a, // graceful restart, 10 octets
        0x80, 0x78, // R set, restart time 120
        0x00, 0x01, 0x01, 0x80, // IPv4 unicast, forwarding preserved
        0x00, 0x02, 0x01, 0x80, // IPv6 unicast, forwarding preserved
    ];
    assert!(bytes_out.windows(capability.len()).any(|w| w == capability), "{bytes_out:02x?}");
    // Not restarted: flags 0; the time is capped to 12 bits.
    let quiet = GracefulRestart::preserving(5000, false, &[AfiSafi::IPV4_UNICAST]);
    assert_eq!((quiet.restart_flags, quiet.restart_time), (0, 4095));
    assert_eq!(quiet.families, vec![(AfiSafi::IPV4_UNICAST, 0x80)]);
}

#[test]
fn open_with_a_4_octet_as_sends_as_trans() {
    let open = Open::ferrolb(4_200_000_000, 0, Ipv4Addr::new(198, 51, 100, 9), None);
    let expected = bytes(&[
        &[0x00, 0x33, 0x01],
        &[0x04],
        &[0x5b, 0xa0], // AS_TRANS 23456
        &[0x00, 0x00],
        &[0xc6, 0x33, 0x64, 0x09],
        &[0x16, 0x02, 0x14],
        &[0x01, 0x04, 0x00, 0x01, 0x00, 0x01],
        &[0x01, 0x04, 0x00, 0x02, 0x00, 0x01],
        &[0x02, 0x00],
        &[0x41, 0x04, 0xfa, 0x56, 0xea, 0x00], // 4200000000
    ]);
    assert_eq!(encode(&Message::Open(open)), expected);
}

#[test]
fn single_family_opens_offer_that_family_only() {
    let v4 = Open::for_families(64600, 90, Ipv4Addr::new(192, 0, 2, 1), &[Family::V4], None);
    let expected = bytes(&[
        &[0x00, 0x2d, 0x01],                   // length 45, OPEN
        &[0x04],                               // version 4
        &[0xfc, 0x58],                         // my AS 64600
        &[0x00, 0x5a],                         // hold time 90
        &[0xc0, 0x00, 0x02, 0x01],             // BGP identifier 192.0.2.1
        &[0x10],                               // optional parameters: 16 octets
        &[0x02, 0x0e],                         // parameter 2 (capabilities), 14 octets
        &[0x01, 0x04, 0x00, 0x01, 0x00, 0x01], // multiprotocol IPv4 unicast
        &[0x02, 0x00],                         // route refresh
        &[0x41, 0x04, 0x00, 0x00, 0xfc, 0x58], // 4-octet AS 64600
    ]);
    assert_eq!(encode(&Message::Open(v4.clone())), expected);
    assert_eq!(v4.multiprotocol().collect::<Vec<_>>(), [AfiSafi::IPV4_UNICAST]);
    let v6 = Open::for_families(64600, 90, Ipv4Addr::new(192, 0, 2, 1), &[Family::V6], None);
    assert_eq!(v6.multiprotocol().collect::<Vec<_>>(), [AfiSafi::IPV6_UNICAST]);
    let both = Open::for_families(
        64600,
        90,
        Ipv4Addr::new(192, 0, 2, 1),
        &[Family::V4, Family::V6],
        Some(GracefulRestart::preserving(120, false, &[])),
    );
    assert_eq!(both, Open::ferrolb(64600, 90, Ipv4Addr::new(192, 0, 2, 1), Some(120)));
}

#[test]
fn unknown_capabilities_are_sent_raw() {
    let open = Open {
        my_as: 65001,
        hold_time: 3,
        bgp_id: Ipv4Addr::new(192, 0, 2, 2),
        capabilities: vec![Capability::Unknown { code: 70, value: vec![0xab] }],
    };
    let expected = bytes(&[
        &[0x00, 0x22, 0x01, 0x04, 0xfd, 0xe9, 0x00, 0x03, 0xc0, 0x00, 0x02, 0x02],
        &[0x05, 0x02, 0x03, 0x46, 0x01, 0xab],
    ]);
    assert_eq!(encode(&Message::Open(open)), expected);
}

#[test]
fn notifications_carry_code_subcode_and_data() {
    let cases = [
        (Notification::cease(CeaseSubcode::AdministrativeShutdown), bytes(&[&[0x00, 0x15, 0x03, 0x06, 0x02]])),
        (Notification::hold_timer_expired(), bytes(&[&[0x00, 0x15, 0x03, 0x04, 0x00]])),
        (
            Notification::header(HeaderSubcode::BadMessageLength, vec![0x00, 0x12]),
            bytes(&[&[0x00, 0x17, 0x03, 0x01, 0x02, 0x00, 0x12]]),
        ),
        (
            unsupported_capability(&[Capability::FourOctetAs(64600)]),
            bytes(&[&[0x00, 0x1b, 0x03, 0x02, 0x07, 0x41, 0x04, 0x00, 0x00, 0xfc, 0x58]]),
        ),
    ];
    for (notification, expected) in cases {
        assert_eq!(encode(&Message::Notification(notification.clone())), expected, "{notification}");
    }
}

#[test]
fn route_refresh_names_afi_and_safi() {
    let message = Message::RouteRefresh(RouteRefresh { afi_safi: AfiSafi::IPV6_UNICAST });
    assert_eq!(encode(&message), bytes(&[&[0x00, 0x17, 0x05, 0x00, 0x02, 0x00, 0x01]]));
}

#[test]
fn end_of_rib_markers() {
    assert_eq!(encode(&Message::EndOfRib(Family::V4)), bytes(&[&[0x00, 0x17, 0x02, 0x00, 0x00, 0x00, 0x00]]));
    let v6 = bytes(&[&[0x00, 0x1d, 0x02, 0x00, 0x00, 0x00, 0x06], &[0x80, 0x0f, 0x03, 0x00, 0x02, 0x01]]);
    assert_eq!(encode(&Message::EndOfRib(Family::V6)), v6);
}

/// eBGP, IPv4: ORIGIN, AS_PATH, NEXT_HOP, COMMUNITIES, LARGE_COMMUNITY, then the NLRI field.
pub(super) fn ebgp_ipv4_update() -> (Update, Vec<u8>) {
    let mut attributes = RouteAttributes::new(vec![64600], Some(Ipv4Addr::new(192, 0, 2, 1)), None);
    attributes.communities = vec![Community::new(64600, 100)];
    attributes.large_communities = vec![LargeCommunity { global_admin: 64600, local_data1: 1, local_data2: 2 }];
    let update = Update {
        withdrawn: vec![],
        attributes: Some(attributes),
        announced: vec![p("203.0.113.7/32"), p("203.0.113.0/24")],
    };
    let expected = bytes(&[
        &[0x00, 0x4a, 0x02],                                     // length 74, UPDATE
        &[0x00, 0x00],                                           // no withdrawn routes
        &[0x00, 0x2a],                                           // 42 octets of attributes
        &[0x40, 0x01, 0x01, 0x00],                               // ORIGIN IGP
        &[0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfc, 0x58], // AS_PATH: AS_SEQUENCE [64600]
        &[0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x01],             // NEXT_HOP 192.0.2.1
        &[0xc0, 0x08, 0x04, 0xfc, 0x58, 0x00, 0x64],             // COMMUNITIES 64600:100
        &[0xc0, 0x20, 0x0c, 0x00, 0x00, 0xfc, 0x58, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02], // 64600:1:2
        &[0x20, 0xcb, 0x00, 0x71, 0x07],                         // 203.0.113.7/32
        &[0x18, 0xcb, 0x00, 0x71],                               // 203.0.113.0/24
    ]);
    (update, expected)
}

/// iBGP, IPv6: MP_REACH_NLRI first (global and link-local next hop), ORIGIN, empty AS_PATH, LOCAL_PREF.
pub(super) fn ibgp_ipv6_update() -> (Update, Vec<u8>) {
    let next_hop = Ipv6NextHop { global: "2001:db8::1".parse().unwrap(), link_local: Some("fe80::1".parse().unwrap()) };
    let mut attributes = RouteAttributes::new(vec![], None, Some(next_hop));
    attributes.local_pref = Some(100);
    let update = Update {
        withdrawn: vec![],
        attributes: Some(attributes),
        announced: vec![p("2001:db8:100::5/128"), p("2001:db8:100::/120")],
    };
    let expected = bytes(&[
        &[0x00, 0x6e, 0x02, 0x00, 0x00, 0x00, 0x57], // length 110, no withdrawn, 87 octets of attributes
        &[0x80, 0x0e, 0x46, 0x00, 0x02, 0x01, 0x20], // MP_REACH_NLRI, 70 octets, AFI 2, SAFI 1, next hop 32
        &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01], // 2001:db8::1
        &[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01], // fe80::1
        &[0x00],                                     // reserved
        &[0x80, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05], // 2001:db8:100::5/128
        &[0x78, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0], // 2001:db8:100::/120
        &[0x40, 0x01, 0x01, 0x00],                   // ORIGIN IGP
        &[0x40, 0x02, 0x00],                         // AS_PATH empty
        &[0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0x64], // LOCAL_PREF 100
    ]);
    (update, expected)
}

#[test]
fn ipv4_announcement() {
    let (update, expected) = ebgp_ipv4_update();
    assert_eq!(encode(&Message::Update(update)), expected);
}

#[test]
fn ipv6_announcement() {
    let (update, expected) = ibgp_ipv6_update();
    assert_eq!(encode(&Message::Update(update)), expected);
}

#[test]
fn withdrawals_of_both_families() {
    let update =
        Update { withdrawn: vec![p("198.51.100.0/24"), p("2001:db8::/32")], attributes: None, announced: vec![] };
    let expected = bytes(&[
        &[0x00, 0x26, 0x02],
        &[0x00, 0x04, 0x18, 0xc6, 0x33, 0x64], // withdrawn 198.51.100.0/24
        &[0x00, 0x0b],                         // 11 octets of attributes
        &[0x80, 0x0f, 0x08, 0x00, 0x02, 0x01, 0x20, 0x20, 0x01, 0x0d, 0xb8], // MP_UNREACH 2001:db8::/32
    ]);
    assert_eq!(encode(&Message::Update(update)), expected);
}

#[test]
fn attributes_past_255_octets_use_the_extended_length() {
    let mut attributes = RouteAttributes::new(vec![], Some(Ipv4Addr::new(192, 0, 2, 1)), None);
    attributes.communities = (0..70).map(|i| Community::new(64600, i)).collect();
    let update = Update { withdrawn: vec![], attributes: Some(attributes), announced: vec![p("203.0.113.1/32")] };
    let wire = encode(&Message::Update(update));
    let communities_at = 19 + 4 + 4 + 3 + 7; // after ORIGIN, AS_PATH (empty), NEXT_HOP
    assert_eq!(wire[communities_at..communities_at + 4], [0xd0, 0x08, 0x01, 0x18]); // 280 octets
    assert_eq!(wire[communities_at + 4..communities_at + 8], [0xfc, 0x58, 0x00, 0x00]);
}

#[test]
fn as_paths_past_255_numbers_take_several_segments() {
    let as_path: Vec<u32> = (1..=256).collect();
    let attributes = RouteAttributes::new(as_path, Some(Ipv4Addr::new(192, 0, 2, 1)), None);
    let update = Update { withdrawn: vec![], attributes: Some(attributes), announced: vec![p("203.0.113.1/32")] };
    let wire = encode(&Message::Update(update.clone()));
    let as_path_at = 19 + 4 + 4;
    assert_eq!(wire[as_path_at..as_path_at + 6], [0x50, 0x02, 0x04, 0x04, 0x02, 0xff]); // 1028 octets
    let second = as_path_at + 4 + 2 + 255 * 4;
    assert_eq!(wire[second..second + 6], [0x02, 0x01, 0x00, 0x00, 0x01, 0x00]); // [256]
    assert_eq!(decode(&wire).unwrap().unwrap().0, Message::Update(update));
}

#[test]
fn prefixes_drop_their_host_bits() {
    let prefix = Prefix::new("203.0.113.77".parse().unwrap(), 25).unwrap();
    assert_eq!(prefix.to_string(), "203.0.113.0/25");
    assert_eq!(Prefix::new("2001:db8::1".parse().unwrap(), 129), Err(PrefixLengthError { len: 129, max: 128 }));
}

#[test]
fn encoding_refuses_what_cannot_be_sent() {
    let v4_only = RouteAttributes::new(vec![], Some(Ipv4Addr::new(192, 0, 2, 1)), None);
    let cases = [
        (
            Update { withdrawn: vec![], attributes: None, announced: vec![p("203.0.113.1/32")] },
            EncodeError::MissingAttributes,
        ),
        (
            Update { withdrawn: vec![], attributes: Some(v4_only.clone()), announced: vec![p("2001:db8::1/128")] },
            EncodeError::MissingIpv6NextHop,
        ),
        (
            Update {
                withdrawn: vec![],
                attributes: Some(RouteAttributes::new(vec![], None, None)),
                announced: vec![p("203.0.113.1/32")],
            },
            EncodeError::MissingIpv4NextHop,
        ),
        (
            Update { withdrawn: vec![p("203.0.113.1/32"); 1000], attributes: None, announced: vec![] },
            EncodeError::MessageTooLong { length: 5000 },
        ),
    ];
    for (update, error) in cases {
        let mut out = vec![1, 2, 3];
        assert_eq!(update.encode(&mut out), Err(error));
        assert_eq!(out, [1, 2, 3], "a failed encoding leaves the buffer as it was");
    }
}
