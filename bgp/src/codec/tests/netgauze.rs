//! Cross-check against netgauze-bgp-pkt: it reads what we encode with the same fields, and we read what
//! it encodes back to the same message.

use std::net::Ipv4Addr;

use netgauze_bgp_pkt::BgpMessage;
use netgauze_bgp_pkt::capabilities::BgpCapability;
use netgauze_bgp_pkt::path_attribute::{AsPath, MpReach, MpUnreach, PathAttributeValue};
use netgauze_bgp_pkt::wire::deserializer::BgpParsingContext;
use netgauze_parse_utils::WritablePdu;
use netgauze_parse_utils::reader::SliceReader;
use netgauze_parse_utils::traits::ParseFromWithOneInput;

use super::super::*;
use super::p;
use crate::notification::*;

fn netgauze_reads(wire: &[u8]) -> BgpMessage {
    let mut reader = SliceReader::new(wire);
    let message = BgpMessage::parse(&mut reader, &mut BgpParsingContext::default()).unwrap();
    assert!(reader.is_empty(), "netgauze left {} octets", reader.remaining());
    message
}

fn netgauze_writes(message: &BgpMessage) -> Vec<u8> {
    let mut out = Vec::new();
    message.write(&mut out).unwrap();
    out
}

/// What netgauze reads of an UPDATE, in our terms.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    withdrawn: Vec<String>,
    announced: Vec<String>,
    origin: Option<u8>,
    as_path: Vec<u32>,
    next_hop_v4: Option<Ipv4Addr>,
    next_hop_v6: Option<(String, Option<String>)>,
    local_pref: Option<u32>,
    communities: Vec<u32>,
    large_communities: Vec<(u32, u32, u32)>,
}

fn seen_by_netgauze(message: &BgpMessage) -> Seen {
    let BgpMessage::Update(update) = message else { panic!("not an UPDATE: {message:?}") };
    let mut seen = Seen {
        withdrawn: update.withdraw_routes().iter().map(|w| w.network().to_string()).collect(),
        announced: update.nlri().iter().map(|n| n.network().to_string()).collect(),
        ..Seen::default()
    };
    for attribute in update.path_attributes() {
        match attribute.value() {
            PathAttributeValue::Origin(origin) => seen.origin = Some(*origin as u8),
            PathAttributeValue::AsPath(AsPath::As4PathSegments(segments)) => {
                seen.as_path = segments.iter().flat_map(|s| s.as_numbers().to_vec()).collect();
            }
            PathAttributeValue::NextHop(hop) => seen.next_hop_v4 = Some(hop.next_hop()),
            PathAttributeValue::LocalPreference(pref) => seen.local_pref = Some(pref.metric()),
            PathAttributeValue::Communities(c) => {
                seen.communities = c.communities().iter().map(|c| c.value()).collect()
            }
            PathAttributeValue::LargeCommunities(c) => {
                seen.large_communities =
                    c.communities().iter().map(|c| (c.global_admin(), c.local_data1(), c.local_data2())).collect();
            }
            PathAttributeValue::MpReach(MpReach::Ipv6Unicast { next_hop_global, next_hop_local, nlri }) => {
                seen.next_hop_v6 = Some((next_hop_global.to_string(), next_hop_local.map(|l| l.to_string())));
                seen.announced.extend(nlri.iter().map(|n| n.network().to_string()));
            }
            PathAttributeValue::MpUnreach(MpUnreach::Ipv6Unicast { nlri }) => {
                seen.withdrawn.extend(nlri.iter().map(|n| n.network().to_string()));
            }
            other => panic!("unexpected attribute {other:?}"),
        }
    }
    seen
}

fn seen_by_us(update: &Update) -> Seen {
    let attributes = update.attributes.clone().unwrap_or_else(|| RouteAttributes::new(vec![], None, None));
    Seen {
        withdrawn: update.withdrawn.iter().map(Prefix::to_string).collect(),
        announced: update.announced.iter().map(Prefix::to_string).collect(),
        origin: update.attributes.as_ref().map(|a| a.origin as u8),
        as_path: attributes.as_path,
        next_hop_v4: attributes.next_hop_v4,
        next_hop_v6: attributes.next_hop_v6.map(|h| (h.global.to_string(), h.link_local.map(|l| l.to_string()))),
        local_pref: attributes.local_pref,
        communities: attributes.communities.iter().map(|c| c.0).collect(),
        large_communities: attributes
            .large_communities
            .iter()
            .map(|l| (l.global_admin, l.local_data1, l.local_data2))
            .collect(),
    }
}

fn updates() -> Vec<Update> {
    let (v4, _) = super::encodings::ebgp_ipv4_update();
    let (v6, _) = super::encodings::ibgp_ipv6_update();
    let mut both = v6.clone();
    both.announced.insert(0, p("198.51.100.0/24"));
    if let Some(a) = both.attributes.as_mut() {
        a.next_hop_v4 = Some(Ipv4Addr::new(192, 0, 2, 1));
        a.communities = (0..70).map(|i| Community::new(64600, i)).collect(); // extended length
        a.large_communities = vec![LargeCommunity { global_admin: 4_200_000_000, local_data1: 7, local_data2: 8 }];
    }
    let withdrawals = Update {
        withdrawn: vec![p("203.0.113.9/32"), p("2001:db8:100::9/128"), p("2001:db8::/32")],
        attributes: None,
        announced: vec![],
    };
    vec![v4, v6, both, withdrawals]
}

#[test]
fn netgauze_reads_our_updates_with_the_same_fields() {
    for update in updates() {
        let wire = Message::Update(update.clone()).to_bytes().unwrap();
        assert_eq!(seen_by_netgauze(&netgauze_reads(&wire)), seen_by_us(&update), "{update:?}");
    }
}

#[test]
fn we_read_what_netgauze_writes_back() {
    for update in updates() {
        let message = Message::Update(update);
        let theirs = netgauze_writes(&netgauze_reads(&message.to_bytes().unwrap()));
        assert_eq!(decode(&theirs), Ok(Some((message, theirs.len()))));
    }
    for family in [Family::V4, Family::V6] {
        let eor = Message::EndOfRib(family);
        let theirs = netgauze_writes(&netgauze_reads(&eor.to_bytes().unwrap()));
        assert_eq!(decode(&theirs), Ok(Some((eor, theirs.len()))));
    }
}

#[test]
fn netgauze_reads_our_open_with_the_same_fields() {
    for my_as in [64600, 4_200_000_000] {
        let open = Open::ferrolb(my_as, 90, Ipv4Addr::new(192, 0, 2, 1), Some(120));
        let message = Message::Open(open.clone());
        let BgpMessage::Open(theirs) = netgauze_reads(&message.to_bytes().unwrap()) else { panic!("not an OPEN") };
        assert_eq!(theirs.version(), 4);
        assert_eq!(theirs.my_as(), if my_as > 0xffff { AS_TRANS } else { 64600 });
        assert_eq!(theirs.my_asn4(), my_as);
        assert_eq!((theirs.hold_time(), theirs.bgp_id()), (90, Ipv4Addr::new(192, 0, 2, 1)));
        let capabilities: Vec<String> = theirs
            .capabilities()
            .iter()
            .map(|c| match c {
                BgpCapability::MultiProtocolExtensions(mp) => format!("mp {:?}", mp.address_type()),
                BgpCapability::RouteRefresh => "route refresh".into(),
                BgpCapability::GracefulRestartCapability(gr) => {
                    format!("gr restart={} time={} families={}", gr.restart(), gr.time(), gr.address_families().len())
                }
                BgpCapability::FourOctetAs(asn) => format!("as4 {}", asn.asn4()),
                other => format!("{other:?}"),
            })
            .collect();
        let expected = ["mp Ipv4Unicast", "mp Ipv6Unicast", "route refresh", "gr restart=false time=120 families=0"];
        assert_eq!(capabilities[..4], expected);
        assert_eq!(capabilities[4], format!("as4 {my_as}"));
        let back = netgauze_writes(&BgpMessage::Open(theirs));
        assert_eq!(decode(&back), Ok(Some((message, back.len()))));
    }
}

#[test]
fn we_read_what_netgauze_writes_for_the_other_kinds() {
    let messages = [
        Message::Keepalive,
        Message::Notification(Notification::cease(CeaseSubcode::AdministrativeReset)),
        Message::Notification(Notification::update(UpdateSubcode::MissingWellKnownAttribute, vec![3])),
        Message::RouteRefresh(RouteRefresh { afi_safi: AfiSafi::IPV6_UNICAST }),
    ];
    for message in messages {
        let theirs = netgauze_writes(&netgauze_reads(&message.to_bytes().unwrap()));
        assert_eq!(decode(&theirs), Ok(Some((message, theirs.len()))));
    }
}
