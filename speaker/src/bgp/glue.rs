//! Between the announcer, the codec and the state machine (all of ferrolb-bgp but the announcer):
//! decoded messages and decode errors as FSM events, OPENs both ways, the announcer's routes in
//! the Adj-RIB-Out's terms, and the path context of an established session. Pure.
//!
//! Decides which event a received message or malformed input is, and which next hops a session
//! announces with. It does not read sockets or run the FSM (the session does).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ferrolb_bgp::adj_out::{self, CommunityValue, PathContext, Routes};
use ferrolb_bgp::codec::{AfiSafi, Community, DecodeError, Family, GracefulRestart, LargeCommunity, Message, Open};
use ferrolb_bgp::fsm::{Event, Negotiated, OpenParams};
use ferrolb_bgp::notification::ErrorCode;
use ferrolb_bgp::wire::BGP_VERSION;
use ferrolb_core::config::CommunityValue as ConfiguredCommunity;

use crate::announcer;

/// The capability code of route refresh (RFC 2918).
const CAP_ROUTE_REFRESH: u8 = 2;

/// The announcer's routes for one peer as the Adj-RIB-Out takes them: the prefixes as they are
/// (one `Prefix` type for both), the attributes in BGP's terms.
pub fn routes(desired: &BTreeMap<announcer::Prefix, announcer::RouteAttributes>) -> Routes {
    desired.iter().map(|(prefix, attributes)| (*prefix, route_attributes(attributes))).collect()
}

fn route_attributes(attributes: &announcer::RouteAttributes) -> adj_out::RouteAttributes {
    let communities = attributes
        .communities
        .iter()
        .map(|community| match *community {
            ConfiguredCommunity::Standard(asn, value) => CommunityValue::Standard(Community::new(asn, value)),
            ConfiguredCommunity::Large(global_admin, local_data1, local_data2) => {
                CommunityValue::Large(LargeCommunity { global_admin, local_data1, local_data2 })
            }
        })
        .collect();
    adj_out::RouteAttributes { local_pref: attributes.local_pref, communities }
}

/// What a decoded OPEN says, for the FSM.
pub fn open_params(open: &Open) -> OpenParams {
    let families: Vec<AfiSafi> = open.multiprotocol().collect();
    OpenParams {
        version: BGP_VERSION,
        asn: open.my_as,
        hold_time: open.hold_time,
        router_id: open.bgp_id,
        four_octet_as: open.four_octet_as(),
        ipv4_unicast: families.is_empty() || families.contains(&AfiSafi::IPV4_UNICAST),
        ipv6_unicast: families.contains(&AfiSafi::IPV6_UNICAST),
        route_refresh: open.has_capability(CAP_ROUTE_REFRESH),
        ipv4_over_ipv6: open.ipv4_over_ipv6(),
        graceful_restart: open.graceful_restart().map(|gr| gr.restart_time),
    }
}

/// The OPEN to send for the FSM's parameters: its families, the extended next hop capability
/// for IPv4 unicast over IPv6 when offered (BGP unnumbered), route refresh, 4-octet AS and, when
/// offered, graceful restart. The graceful restart capability says that forwarding is preserved
/// for every family offered (the node's data plane, kube-proxy, does not stop with the speaker),
/// and carries the Restart State flag when `restarted`: the first OPEN of this peer's session
/// since the speaker process started, so that the router sends its routes without waiting for
/// ours first (RFC 4724 section 3).
pub fn open_message(params: &OpenParams, restarted: bool) -> Open {
    let families: Vec<Family> = [(Family::V4, params.ipv4_unicast), (Family::V6, params.ipv6_unicast)]
        .into_iter()
        .filter_map(|(family, offered)| offered.then_some(family))
        .collect();
    let graceful_restart = params.graceful_restart.map(|restart_time| {
        let preserved: Vec<AfiSafi> = families.iter().map(|family| AfiSafi::unicast(*family)).collect();
        GracefulRestart::preserving(restart_time, restarted, &preserved)
    });
    let mut open = Open::for_families(params.asn, params.hold_time, params.router_id, &families, graceful_restart);
    if params.ipv4_over_ipv6 {
        open.offer_ipv4_over_ipv6();
    }
    open
}

/// What a received message means to the FSM. ROUTE-REFRESH in Established is the session's to
/// answer; here it is an [`Event::UpdateMsg`] (a message that restarts the hold timer).
pub fn message_event(message: Message) -> Event {
    match message {
        Message::Open(open) => Event::BgpOpen(open_params(&open)),
        Message::Keepalive => Event::KeepAliveMsg,
        Message::Notification(n) => Event::NotifMsg(n),
        Message::Update(_) | Message::EndOfRib(_) | Message::RouteRefresh(_) => Event::UpdateMsg,
    }
}

/// What malformed input means to the FSM, and how many octets to skip to go on reading:
/// `(event, Some(len))` when RFC 7606 keeps the session (the message still counts as received),
/// `(event, None)` when the session is reset (the connection's input is then worthless).
pub fn decode_error_event(error: &DecodeError) -> (Event, Option<usize>) {
    let notification = error.notification.clone();
    if let (false, Some(len)) = (error.resets_session(), error.message_len) {
        return (Event::UpdateMsgErr { notification, session_reset: false }, Some(len));
    }
    let event = match error.notification.error_code() {
        Some(ErrorCode::MessageHeader) => Event::BgpHeaderErr(notification),
        Some(ErrorCode::OpenMessage) => Event::BgpOpenMsgErr(notification),
        _ => Event::UpdateMsgErr { notification, session_reset: true },
    };
    (event, None)
}

/// The path context of a session that reached Established over a connection from `local`.
/// The next hop of the session's own family is the connection's local address (for an IPv6
/// session whose local address is not global, as for the other family: see below). The next hop
/// of the other family, used only when the session carries it (dualStackAddressFamily), is the
/// first usable address of that family on the interface the connection runs over (`beside`,
/// the addresses of the interface holding `local`, when known), else, when that interface is
/// unknown, the node's first such address. None: routes of that family are not sent.
pub fn path_context(
    negotiated: &Negotiated,
    local_asn: u32,
    local: SocketAddr,
    node_addresses: &[IpAddr],
    beside: Option<&[IpAddr]>,
) -> PathContext {
    let candidates = beside.unwrap_or(node_addresses);
    let other_v4 = || {
        candidates.iter().find_map(|a| match a {
            IpAddr::V4(v4) if usable_v4(v4) => Some(*v4),
            _ => None,
        })
    };
    let other_v6 = || {
        candidates.iter().find_map(|a| match a {
            IpAddr::V6(v6) if global_v6(v6) => Some(*v6),
            _ => None,
        })
    };
    let (next_hop_v4, next_hop_v6) = match local.ip() {
        IpAddr::V4(v4) => (Some(v4), other_v6()),
        IpAddr::V6(v6) if global_v6(&v6) => (other_v4(), Some(v6)),
        IpAddr::V6(_) => (other_v4(), other_v6()),
    };
    // A session between link-local addresses (BGP unnumbered) sends ours with the global one.
    let link_local_v6 = match local.ip() {
        IpAddr::V6(v6) if v6.is_unicast_link_local() => Some(v6),
        _ => None,
    };
    PathContext {
        local_asn,
        internal: negotiated.internal,
        next_hop_v4,
        next_hop_v6,
        link_local_v6,
        ipv4_over_ipv6: negotiated.ipv4_over_ipv6,
        ipv4: negotiated.ipv4_unicast,
        ipv6: negotiated.ipv6_unicast,
    }
}

/// What an established session that carries `offered` families leaves out: for each family
/// offered but not carried, why (the peer did not offer it, or no next hop of it is known).
/// Empty when every family offered goes out.
pub fn families_left_out(offered: (bool, bool), path: &PathContext, local: SocketAddr) -> Vec<String> {
    let mut out = Vec::new();
    for (family, wanted, negotiated, next_hop) in [
        ("IPv4", offered.0, path.ipv4, path.carries(Family::V4)),
        ("IPv6", offered.1, path.ipv6, path.carries(Family::V6)),
    ] {
        if !wanted {
            continue;
        }
        if !negotiated {
            out.push(format!("{family} routes are not sent: the peer did not offer {family} unicast"));
        } else if !next_hop {
            out.push(format!(
                "{family} routes are not sent: the node has no {family} address on the interface of {} to use as \
                 next hop",
                local.ip()
            ));
        }
    }
    out
}

fn usable_v4(v4: &Ipv4Addr) -> bool {
    !v4.is_unspecified() && !v4.is_loopback()
}

fn global_v6(v6: &Ipv6Addr) -> bool {
    !v6.is_unspecified() && !v6.is_loopback() && !v6.is_unicast_link_local() && v6.to_ipv4_mapped().is_none()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ferrolb_bgp::codec::{self, Capability, Treatment, decode};
    use ferrolb_bgp::notification::Notification;
    use std::time::Duration;

    /// What a session with the lab's router negotiates: hold 3 s, both families, no graceful restart.
    pub(crate) fn negotiated(internal: bool) -> Negotiated {
        Negotiated {
            hold_time: Duration::from_secs(3),
            keepalive: Some(Duration::from_secs(1)),
            peer_asn: 64512,
            peer_router_id: Ipv4Addr::new(192, 0, 2, 1),
            internal,
            four_octet_as: true,
            ipv4_unicast: true,
            ipv6_unicast: true,
            route_refresh: true,
            ipv4_over_ipv6: false,
            graceful_restart: false,
        }
    }

    #[test]
    fn open_round_trips_through_params() {
        let params = OpenParams {
            version: 4,
            asn: 4_200_000_001,
            hold_time: 3,
            router_id: Ipv4Addr::new(192, 0, 2, 2),
            four_octet_as: true,
            ipv4_unicast: true,
            ipv6_unicast: true,
            route_refresh: true,
            ipv4_over_ipv6: false,
            graceful_restart: None,
        };
        let variants = [
            params.clone(),
            OpenParams { ipv4_over_ipv6: true, ..params.clone() },
            OpenParams { graceful_restart: Some(120), ..params },
        ];
        for (params, restarted) in variants.into_iter().flat_map(|p| [(p.clone(), false), (p, true)]) {
            let bytes = Message::Open(open_message(&params, restarted)).to_bytes().unwrap();
            let (message, _) = decode(&bytes).unwrap().unwrap();
            assert_eq!(message_event(message), Event::BgpOpen(params));
        }
    }

    #[test]
    fn open_without_multiprotocol_means_ipv4_only() {
        let open = Open { my_as: 64512, hold_time: 90, bgp_id: Ipv4Addr::new(192, 0, 2, 1), capabilities: vec![] };
        let p = open_params(&open);
        assert!(p.ipv4_unicast && !p.ipv6_unicast && !p.four_octet_as && !p.route_refresh);
        assert_eq!(p.asn, 64512);
        let v6 = Open { capabilities: vec![Capability::Multiprotocol(AfiSafi::IPV6_UNICAST)], ..open };
        let p = open_params(&v6);
        assert!(!p.ipv4_unicast && p.ipv6_unicast);
    }

    #[test]
    fn messages_as_events() {
        assert_eq!(message_event(Message::Keepalive), Event::KeepAliveMsg);
        assert_eq!(message_event(Message::EndOfRib(codec::Family::V6)), Event::UpdateMsg);
        let cease = Notification { code: 6, subcode: 3, data: vec![] };
        assert_eq!(message_event(Message::Notification(cease)), Event::NotifMsg(Notification::new(6, 3, vec![])));
    }

    #[test]
    fn decode_errors_as_events() {
        // A bad marker: header error, session reset.
        let mut bad_marker = Message::Keepalive.to_bytes().unwrap();
        bad_marker[0] = 0;
        let e = decode(&bad_marker).unwrap_err();
        let (event, skip) = decode_error_event(&e);
        assert!(matches!(event, Event::BgpHeaderErr(ref n) if n.code == 1), "{event:?}");
        assert_eq!(skip, None);

        let open_err = DecodeError {
            problem: codec::Problem::UnsupportedVersion(3),
            treatment: Treatment::SessionReset,
            notification: Notification { code: 2, subcode: 1, data: vec![0, 4] },
            message_len: Some(29),
        };
        assert!(matches!(decode_error_event(&open_err), (Event::BgpOpenMsgErr(_), None)));

        let withdraw = DecodeError { treatment: Treatment::TreatAsWithdraw, ..open_err.clone() };
        let update_reset = DecodeError { notification: Notification { code: 3, subcode: 1, data: vec![] }, ..open_err };
        assert!(matches!(decode_error_event(&withdraw), (Event::UpdateMsgErr { session_reset: false, .. }, Some(29))));
        assert!(matches!(decode_error_event(&update_reset), (Event::UpdateMsgErr { session_reset: true, .. }, None)));
    }

    #[test]
    fn announcer_routes_in_adj_out_terms() {
        let prefix = |network: &str, length| announcer::Prefix::new(network.parse().unwrap(), length).unwrap();
        let tagged = announcer::RouteAttributes {
            local_pref: Some(150),
            communities: [ConfiguredCommunity::Large(64600, 1, 2), ConfiguredCommunity::Standard(64600, 7)].into(),
        };
        let desired = BTreeMap::from([
            (prefix("203.0.113.0", 24), tagged),
            (prefix("2001:db8::1", 128), announcer::RouteAttributes::default()),
        ]);
        // A /33 cannot go out because it cannot be built: the announcer's prefix is the codec's.
        assert!(announcer::Prefix::new("203.0.113.9".parse().unwrap(), 33).is_err());
        let got = routes(&desired);
        let large = LargeCommunity { global_admin: 64600, local_data1: 1, local_data2: 2 };
        let expected = Routes::from([
            (
                codec::Prefix::new("203.0.113.0".parse().unwrap(), 24).unwrap(),
                adj_out::RouteAttributes {
                    local_pref: Some(150),
                    communities: [CommunityValue::Standard(Community::new(64600, 7)), CommunityValue::Large(large)]
                        .into(),
                },
            ),
            (codec::Prefix::host("2001:db8::1".parse().unwrap()), adj_out::RouteAttributes::default()),
        ]);
        assert_eq!(got, expected);
        let order: Vec<_> = got.values().next().unwrap().communities.iter().copied().collect();
        assert_eq!(order, [CommunityValue::Standard(Community::new(64600, 7)), CommunityValue::Large(large)]);
    }

    /// The OPEN the FSM asks for on a session's first connection, in a speaker that did not
    /// just start.
    pub(crate) fn first_open(settings: &crate::bgp::settings::PeerSettings) -> Open {
        use ferrolb_bgp::fsm::{Action, Session};
        let mut fsm = Session::new(settings.session.clone()).unwrap();
        let now = std::time::Instant::now();
        fsm.step(now, Event::ManualStart);
        let params = fsm
            .step(now, Event::TcpCrAcked)
            .into_iter()
            .find_map(|action| match action {
                Action::SendOpen(params) => Some(params),
                _ => None,
            })
            .expect("an OPEN once connected");
        open_message(&params, false)
    }

    #[test]
    fn local_asn_is_the_open_as_and_the_as_path() {
        use crate::bgp::settings::{PeerSettings, tests::peer};
        let mut p = peer();
        p.local_asn = Some(4_200_000_001);
        let settings = PeerSettings::from_peer(&p, &[], Some(Ipv4Addr::new(192, 0, 2, 2))).unwrap();
        let open = first_open(&settings);
        assert_eq!(open.my_as, 4_200_000_001);
        assert!(open.capabilities.contains(&Capability::FourOctetAs(4_200_000_001)), "{open:?}");
        // On the wire: AS_TRANS in the 2-octet My AS, the real AS in the capability.
        let bytes = Message::Open(open).to_bytes().unwrap();
        assert_eq!(bytes[20..22], codec::AS_TRANS.to_be_bytes());
        let path = path_context(
            &negotiated(false),
            settings.session.local_asn,
            "192.0.2.22:40000".parse().unwrap(),
            &[],
            None,
        );
        let wire = path.wire_attributes(&adj_out::RouteAttributes::default());
        assert_eq!(wire.as_path, vec![4_200_000_001], "replace-as: localASN alone, no myASN");

        // Without localASN: myASN, as before.
        let plain = PeerSettings::from_peer(&peer(), &[], Some(Ipv4Addr::new(192, 0, 2, 2))).unwrap();
        let open = first_open(&plain);
        assert_eq!(open.my_as, 64600);
        assert!(open.capabilities.contains(&Capability::FourOctetAs(64600)));
    }

    #[test]
    fn next_hops_by_session_family() {
        let node: Vec<IpAddr> =
            vec!["fe80::1".parse().unwrap(), "2001:db8::2".parse().unwrap(), "192.0.2.2".parse().unwrap()];
        let v4 = path_context(&negotiated(false), 64600, "192.0.2.22:40000".parse().unwrap(), &node, None);
        assert_eq!(v4.next_hop_v4, Some(Ipv4Addr::new(192, 0, 2, 22)));
        assert_eq!(v4.next_hop_v6, Some("2001:db8::2".parse().unwrap()));
        let v6 = path_context(&negotiated(true), 64600, "[2001:db8::22]:40000".parse().unwrap(), &node, None);
        assert_eq!(v6.next_hop_v4, Some(Ipv4Addr::new(192, 0, 2, 2)));
        assert_eq!(v6.next_hop_v6, Some("2001:db8::22".parse().unwrap()));
        assert!(v6.internal);
        let bare = path_context(&negotiated(false), 64600, "192.0.2.22:40000".parse().unwrap(), &[], None);
        assert_eq!(bare.next_hop_v6, None);
    }

    #[test]
    fn the_other_familys_next_hop_comes_from_the_sessions_interface() {
        let node: Vec<IpAddr> = vec!["2001:db8::2".parse().unwrap(), "192.0.2.2".parse().unwrap()];
        let local: SocketAddr = "192.0.2.22:40000".parse().unwrap();
        // The interface holding 192.0.2.22 also has 2001:db8:1::22 (and a link-local address).
        let beside: Vec<IpAddr> =
            vec!["192.0.2.22".parse().unwrap(), "fe80::22".parse().unwrap(), "2001:db8:1::22".parse().unwrap()];
        let path = path_context(&negotiated(false), 64600, local, &node, Some(&beside));
        assert_eq!(path.next_hop_v6, Some("2001:db8:1::22".parse().unwrap()), "not the node's 2001:db8::2");
        assert_eq!(path.next_hop_v4, Some(Ipv4Addr::new(192, 0, 2, 22)));
        assert!(families_left_out((true, true), &path, local).is_empty());

        // The interface has no global IPv6 address: no IPv6 next hop, even though the node has one.
        let v4_only: Vec<IpAddr> = vec!["192.0.2.22".parse().unwrap(), "fe80::22".parse().unwrap()];
        let path = path_context(&negotiated(false), 64600, local, &node, Some(&v4_only));
        assert_eq!(path.next_hop_v6, None);
        assert!(!path.carries(Family::V6) && path.carries(Family::V4));
        let left_out = families_left_out((true, true), &path, local);
        assert_eq!(left_out.len(), 1, "{left_out:?}");
        assert!(left_out[0].starts_with("IPv6 routes are not sent: the node has no IPv6 address"), "{left_out:?}");

        // An IPv6 session: the IPv4 next hop from its interface.
        let local6: SocketAddr = "[2001:db8:1::22]:40000".parse().unwrap();
        let path = path_context(&negotiated(false), 64600, local6, &node, Some(&beside));
        assert_eq!(path.next_hop_v4, Some(Ipv4Addr::new(192, 0, 2, 22)));

        // The peer did not offer IPv6: said so.
        let mut v4_peer = negotiated(false);
        v4_peer.ipv6_unicast = false;
        let path = path_context(&v4_peer, 64600, local, &node, Some(&beside));
        assert_eq!(
            families_left_out((true, true), &path, local),
            ["IPv6 routes are not sent: the peer did not offer IPv6 unicast"]
        );
        // A single-family session does not miss the other family.
        assert!(families_left_out((true, false), &path, local).is_empty());
    }

    #[test]
    fn opens_offer_the_sessions_families() {
        use crate::bgp::settings::{PeerSettings, tests::peer};
        use ferrolb_core::config::Peer;
        let id = Some(Ipv4Addr::new(192, 0, 2, 2));
        let multiprotocol = |p: &Peer| {
            let open = first_open(&PeerSettings::from_peer(p, &[], id).unwrap());
            open.multiprotocol().collect::<Vec<_>>()
        };
        let v6 = Peer { address: "2001:db8::1".parse().unwrap(), ..peer() };
        assert_eq!(multiprotocol(&peer()), [AfiSafi::IPV4_UNICAST]);
        assert_eq!(multiprotocol(&v6), [AfiSafi::IPV6_UNICAST]);
        let both = [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST];
        assert_eq!(multiprotocol(&Peer { dual_stack: true, ..peer() }), both);
        assert_eq!(multiprotocol(&Peer { dual_stack: true, ..v6 }), both);
    }

    /// BGP unnumbered: the OPEN offers both families and IPv4 over IPv6; once both sides offered
    /// it, IPv4 routes go with the IPv6 next hop, global and link-local, from the interface.
    #[test]
    fn an_unnumbered_session_offers_and_uses_ipv4_over_ipv6() {
        use crate::bgp::settings::PeerSettings;
        use ferrolb_bgp::codec::ExtendedNextHop;
        use ferrolb_core::config::{Peer, PeerAsn};
        let p = Peer::on_interface("router", 64600, PeerAsn::Fixed(64512), "eth1");
        let open = first_open(&PeerSettings::from_peer(&p, &[], Some(Ipv4Addr::new(192, 0, 2, 2))).unwrap());
        assert_eq!(open.multiprotocol().collect::<Vec<_>>(), [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]);
        assert_eq!(open.capabilities[2], Capability::ExtendedNextHop(vec![ExtendedNextHop::IPV4_UNICAST_OVER_IPV6]));

        let local: SocketAddr = "[fe80::2]:40000".parse().unwrap();
        let eth1: Vec<IpAddr> = vec!["fe80::2".parse().unwrap(), "2001:db8::2".parse().unwrap()];
        let both = Negotiated { ipv4_over_ipv6: true, ..negotiated(false) };
        let path = path_context(&both, 64600, local, &[], Some(&eth1));
        assert_eq!(path.link_local_v6, Some("fe80::2".parse().unwrap()));
        assert_eq!(path.next_hop_v6, Some("2001:db8::2".parse().unwrap()));
        assert!(path.ipv4_over_ipv6 && path.carries(Family::V4) && path.carries(Family::V6));
        assert!(families_left_out((true, true), &path, local).is_empty());

        // The router did not offer it: no IPv4 next hop on the link, so no IPv4 routes, and said so.
        let path = path_context(&negotiated(false), 64600, local, &[], Some(&eth1));
        assert!(!path.carries(Family::V4) && path.carries(Family::V6));
        let left_out = families_left_out((true, true), &path, local);
        assert!(left_out[0].starts_with("IPv4 routes are not sent"), "{left_out:?}");
    }

    #[test]
    fn graceful_restart_is_advertised_only_when_the_peer_enables_it() {
        use crate::bgp::settings::{PeerSettings, tests::peer};
        use ferrolb_core::config::Peer;
        let plain = first_open(&PeerSettings::from_peer(&peer(), &[], Some(Ipv4Addr::new(192, 0, 2, 2))).unwrap());
        assert_eq!(plain.graceful_restart(), None, "{plain:?}");

        let gr = Peer { graceful_restart: true, dual_stack: true, ..peer() };
        let settings = PeerSettings::from_peer(&gr, &[], Some(Ipv4Addr::new(192, 0, 2, 2))).unwrap();
        let open = first_open(&settings);
        let both = vec![(AfiSafi::IPV4_UNICAST, 0x80), (AfiSafi::IPV6_UNICAST, 0x80)];
        let expected = GracefulRestart { restart_flags: 0, restart_time: 120, families: both.clone() };
        assert_eq!(open.graceful_restart(), Some(&expected), "FRR's default restart time, forwarding kept");

        // The first OPEN after the process starts says it restarted; the restart time follows
        // the speaker's flag.
        let settings = settings.with_restart_time(30);
        let fsm = ferrolb_bgp::fsm::Session::new(settings.session.clone()).unwrap();
        let params = fsm.local_open().clone();
        let open = open_message(&params, true);
        let expected = GracefulRestart { restart_flags: 0x8, restart_time: 30, families: both };
        assert_eq!(open.graceful_restart(), Some(&expected));

        // A session of its own family only preserves that family.
        let v4 = Peer { graceful_restart: true, ..peer() };
        let open = first_open(&PeerSettings::from_peer(&v4, &[], Some(Ipv4Addr::new(192, 0, 2, 2))).unwrap());
        assert_eq!(open.graceful_restart().map(|gr| gr.families.clone()), Some(vec![(AfiSafi::IPV4_UNICAST, 0x80)]));
    }
}
