//! What a session has sent its peer (its Adj-RIB-Out) and the UPDATEs that bring the peer from
//! that to the announcer's desired set. Pure.
//!
//! Decides which desired routes a session can carry (the family was negotiated and a next hop
//! exists), the attributes they go out with (eBGP: AS_PATH [our AS], no LOCAL_PREF; iBGP:
//! empty AS_PATH, LOCAL_PREF defaulting to 100), and the difference to send: withdrawals of
//! routes no longer wanted, announcements of new routes and of routes whose attributes changed,
//! grouped by equal attributes so that many prefixes share an UPDATE. It does not decide which
//! routes are desired (the announcer does) or when to send (the session does); the integrator
//! hands the desired routes over in this module's terms ([`Routes`]).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::codec::{self, Community, EncodeError, Family, Ipv6NextHop, LargeCommunity, Prefix};

/// LOCAL_PREF sent to iBGP peers when no advertisement sets one (RFC 4271's common default).
pub const DEFAULT_LOCAL_PREF: u32 = 100;

/// A community a route carries, of either kind. Standard ones sort before large ones, each by
/// value, which is the order they go out in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommunityValue {
    /// An RFC 1997 community.
    Standard(Community),
    /// An RFC 8092 large community.
    Large(LargeCommunity),
}

/// What the announcer chose for a route besides its prefix; the session adds ORIGIN, AS_PATH and
/// the next hops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteAttributes {
    /// LOCAL_PREF (sent to iBGP peers only).
    pub local_pref: Option<u32>,
    /// Communities, standard and large.
    pub communities: BTreeSet<CommunityValue>,
}

/// Routes by prefix, as the announcer wants them and as a session records what it sent.
pub type Routes = BTreeMap<Prefix, RouteAttributes>;

/// What an established session knows about the paths it announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathContext {
    /// Our AS.
    pub local_asn: u32,
    /// iBGP (the peer's AS is ours).
    pub internal: bool,
    /// NEXT_HOP for IPv4 routes; None: IPv4 routes are not sent.
    pub next_hop_v4: Option<Ipv4Addr>,
    /// Global next hop for IPv6 routes; None: IPv6 routes are not sent, unless `link_local_v6` is set.
    pub next_hop_v6: Option<Ipv6Addr>,
    /// Our link-local address on the link to the peer (BGP unnumbered): sent after the global
    /// next hop (32 octets, RFC 2545), or alone in its place when there is no global one.
    pub link_local_v6: Option<Ipv6Addr>,
    /// IPv4 routes go with the IPv6 next hop (RFC 8950, negotiated with the extended next hop
    /// capability) instead of `next_hop_v4`.
    pub ipv4_over_ipv6: bool,
    /// IPv4 unicast was negotiated.
    pub ipv4: bool,
    /// IPv6 unicast was negotiated.
    pub ipv6: bool,
}

impl PathContext {
    /// Whether routes of `family` can go out on this session.
    pub fn carries(&self, family: Family) -> bool {
        match family {
            Family::V4 if self.ipv4_over_ipv6 => self.ipv4 && self.ipv6_next_hop().is_some(),
            Family::V4 => self.ipv4 && self.next_hop_v4.is_some(),
            Family::V6 => self.ipv6 && self.ipv6_next_hop().is_some(),
        }
    }

    /// The IPv6 next hop as it goes out: the global address, with our link-local one when known;
    /// the link-local one alone when there is no global one.
    pub fn ipv6_next_hop(&self) -> Option<Ipv6NextHop> {
        match (self.next_hop_v6, self.link_local_v6) {
            (Some(global), link_local) => Some(Ipv6NextHop { global, link_local }),
            (None, Some(link_local)) => Some(Ipv6NextHop { global: link_local, link_local: None }),
            (None, None) => None,
        }
    }

    /// The desired routes this session can carry, with LOCAL_PREF as it goes out (none on eBGP,
    /// 100 by default on iBGP), so that equal wire attributes compare equal.
    pub fn sendable(&self, desired: &Routes) -> Routes {
        desired
            .iter()
            .filter(|(prefix, _)| self.carries(prefix.family()))
            .map(|(prefix, attributes)| {
                let local_pref =
                    if self.internal { Some(attributes.local_pref.unwrap_or(DEFAULT_LOCAL_PREF)) } else { None };
                (*prefix, RouteAttributes { local_pref, communities: attributes.communities.clone() })
            })
            .collect()
    }

    /// The wire attributes of a route with these (already [`PathContext::sendable`]) attributes.
    pub fn wire_attributes(&self, attributes: &RouteAttributes) -> codec::RouteAttributes {
        let as_path = if self.internal { Vec::new() } else { vec![self.local_asn] };
        let next_hop_v6 = self.ipv6_next_hop();
        let mut wire = if self.ipv4_over_ipv6 {
            codec::RouteAttributes {
                next_hop_v4_ipv6: next_hop_v6,
                ..codec::RouteAttributes::new(as_path, None, next_hop_v6)
            }
        } else {
            codec::RouteAttributes::new(as_path, self.next_hop_v4, next_hop_v6)
        };
        wire.local_pref = attributes.local_pref;
        for community in &attributes.communities {
            match *community {
                CommunityValue::Standard(community) => wire.communities.push(community),
                CommunityValue::Large(large) => wire.large_communities.push(large),
            }
        }
        wire
    }
}

/// The difference between what was sent and what should be.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    /// Prefixes to withdraw (sent, no longer wanted), in prefix order.
    pub withdraw: Vec<Prefix>,
    /// Prefixes to announce (new, or with changed attributes), grouped by equal attributes;
    /// groups in attribute order, prefixes in prefix order.
    pub announce: Vec<(RouteAttributes, Vec<Prefix>)>,
}

impl Changes {
    /// Nothing to send.
    pub fn is_empty(&self) -> bool {
        self.withdraw.is_empty() && self.announce.is_empty()
    }
}

/// The changes that take a peer holding `sent` to holding `wanted`.
pub fn diff(sent: &Routes, wanted: &Routes) -> Changes {
    let withdraw = sent.keys().filter(|prefix| !wanted.contains_key(prefix)).copied().collect();
    let mut groups: BTreeMap<(Option<u32>, &BTreeSet<CommunityValue>), Vec<Prefix>> = BTreeMap::new();
    for (prefix, attributes) in wanted {
        if sent.get(prefix) != Some(attributes) {
            groups.entry((attributes.local_pref, &attributes.communities)).or_default().push(*prefix);
        }
    }
    let announce = groups
        .into_iter()
        .map(|((local_pref, communities), prefixes)| {
            (RouteAttributes { local_pref, communities: communities.clone() }, prefixes)
        })
        .collect();
    Changes { withdraw, announce }
}

/// What one [`AdjOut::sync`] encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncStats {
    /// UPDATE messages.
    pub updates: usize,
    /// Prefixes announced.
    pub announced: usize,
    /// Prefixes withdrawn.
    pub withdrawn: usize,
}

/// The routes a session has sent to its peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdjOut {
    sent: Routes,
}

impl AdjOut {
    /// What the peer holds from us.
    pub fn sent(&self) -> &Routes {
        &self.sent
    }

    /// Forgets everything (the session went down: the peer dropped our routes).
    pub fn clear(&mut self) {
        self.sent.clear();
    }

    /// Appends to `out` the UPDATEs (withdrawals first) that bring the peer to the sendable part
    /// of `desired`, and records it as sent.
    pub fn sync(
        &mut self,
        desired: &Routes,
        context: &PathContext,
        out: &mut Vec<u8>,
    ) -> Result<SyncStats, EncodeError> {
        let wanted = context.sendable(desired);
        let changes = diff(&self.sent, &wanted);
        let mut stats = SyncStats::default();
        stats.updates += codec::encode_withdrawals(&changes.withdraw, out);
        stats.withdrawn = changes.withdraw.len();
        for (attributes, prefixes) in &changes.announce {
            stats.updates += codec::encode_announcements(&context.wire_attributes(attributes), prefixes, out)?;
            stats.announced += prefixes.len();
        }
        self.sent = wanted;
        Ok(stats)
    }

    /// Appends to `out` every route sent so far again (the peer asked for a ROUTE-REFRESH).
    pub fn resend(&mut self, context: &PathContext, out: &mut Vec<u8>) -> Result<SyncStats, EncodeError> {
        let everything = std::mem::take(&mut self.sent);
        let mut stats = SyncStats::default();
        for (attributes, prefixes) in diff(&Routes::new(), &everything).announce {
            stats.updates += codec::encode_announcements(&context.wire_attributes(&attributes), &prefixes, out)?;
            stats.announced += prefixes.len();
        }
        self.sent = everything;
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::tests::p;
    use crate::codec::{Message, decode};
    use std::net::IpAddr;

    fn standard(asn: u16, value: u16) -> CommunityValue {
        CommunityValue::Standard(Community::new(asn, value))
    }

    fn attrs(local_pref: Option<u32>, communities: &[CommunityValue]) -> RouteAttributes {
        RouteAttributes { local_pref, communities: communities.iter().copied().collect() }
    }

    fn routes(entries: &[(&str, RouteAttributes)]) -> Routes {
        entries.iter().map(|(prefix, a)| (p(prefix), a.clone())).collect()
    }

    fn ebgp() -> PathContext {
        PathContext {
            local_asn: 64600,
            internal: false,
            next_hop_v4: Some(Ipv4Addr::new(192, 0, 2, 2)),
            next_hop_v6: Some("2001:db8::2".parse().unwrap()),
            link_local_v6: None,
            ipv4_over_ipv6: false,
            ipv4: true,
            ipv6: true,
        }
    }

    fn decode_all(mut bytes: &[u8]) -> Vec<Message> {
        let mut messages = Vec::new();
        while let Some((m, n)) = decode(bytes).unwrap() {
            messages.push(m);
            bytes = &bytes[n..];
        }
        assert!(bytes.is_empty());
        messages
    }

    #[test]
    fn diff_table() {
        let plain = attrs(None, &[]);
        let tagged = attrs(None, &[standard(64600, 1)]);
        let cases: Vec<(&str, Routes, Routes, Changes)> = vec![
            ("nothing", routes(&[]), routes(&[]), Changes::default()),
            (
                "new routes grouped by attributes",
                routes(&[]),
                routes(&[
                    ("203.0.113.1/32", plain.clone()),
                    ("203.0.113.2/32", tagged.clone()),
                    ("2001:db8::1/128", plain.clone()),
                ]),
                Changes {
                    withdraw: vec![],
                    announce: vec![
                        (plain.clone(), vec![p("203.0.113.1/32"), p("2001:db8::1/128")]),
                        (tagged.clone(), vec![p("203.0.113.2/32")]),
                    ],
                },
            ),
            (
                "unchanged routes are not resent",
                routes(&[("203.0.113.1/32", plain.clone())]),
                routes(&[("203.0.113.1/32", plain.clone())]),
                Changes::default(),
            ),
            (
                "removed withdrawn, changed re-announced",
                routes(&[("203.0.113.1/32", plain.clone()), ("203.0.113.2/32", plain.clone())]),
                routes(&[("203.0.113.2/32", tagged.clone())]),
                Changes {
                    withdraw: vec![p("203.0.113.1/32")],
                    announce: vec![(tagged.clone(), vec![p("203.0.113.2/32")])],
                },
            ),
        ];
        for (name, sent, wanted, expected) in cases {
            assert_eq!(diff(&sent, &wanted), expected, "{name}");
        }
    }

    #[test]
    fn sendable_applies_session_type_and_families() {
        let desired = routes(&[
            ("203.0.113.1/32", attrs(Some(200), &[])),
            ("203.0.113.2/32", attrs(None, &[])),
            ("2001:db8::1/128", attrs(None, &[])),
        ]);
        let e = ebgp().sendable(&desired);
        assert!(e.values().all(|a| a.local_pref.is_none()), "no LOCAL_PREF on eBGP");
        let i = PathContext { internal: true, ..ebgp() }.sendable(&desired);
        assert_eq!(i[&p("203.0.113.1/32")].local_pref, Some(200));
        assert_eq!(i[&p("203.0.113.2/32")].local_pref, Some(DEFAULT_LOCAL_PREF));
        let v4_only = PathContext { next_hop_v6: None, ..ebgp() }.sendable(&desired);
        assert_eq!(v4_only.keys().copied().collect::<Vec<_>>(), vec![p("203.0.113.1/32"), p("203.0.113.2/32")]);
        let no_v4 = PathContext { ipv4: false, ..ebgp() }.sendable(&desired);
        assert_eq!(no_v4.keys().copied().collect::<Vec<_>>(), vec![p("2001:db8::1/128")]);
    }

    #[test]
    fn wire_attributes_ebgp_and_ibgp() {
        let large = LargeCommunity { global_admin: 64600, local_data1: 1, local_data2: 2 };
        let a = attrs(Some(150), &[standard(64600, 7), CommunityValue::Large(large)]);
        let e =
            ebgp().wire_attributes(&ebgp().sendable(&routes(&[("203.0.113.1/32", a.clone())]))[&p("203.0.113.1/32")]);
        assert_eq!(e.as_path, vec![64600]);
        assert_eq!(e.local_pref, None);
        assert_eq!(e.next_hop_v4, Some(Ipv4Addr::new(192, 0, 2, 2)));
        assert_eq!(e.communities, vec![Community::new(64600, 7)]);
        assert_eq!(e.large_communities, vec![LargeCommunity { global_admin: 64600, local_data1: 1, local_data2: 2 }]);
        let ibgp = PathContext { internal: true, ..ebgp() };
        let i = ibgp.wire_attributes(&a);
        assert!(i.as_path.is_empty());
        assert_eq!(i.local_pref, Some(150));
    }

    #[test]
    fn sync_sends_differences_only_and_records_them() {
        let ctx = ebgp();
        let mut adj = AdjOut::default();
        let mut out = Vec::new();
        let first = routes(&[("203.0.113.1/32", attrs(None, &[])), ("2001:db8::1/128", attrs(None, &[]))]);
        let stats = adj.sync(&first, &ctx, &mut out).unwrap();
        assert_eq!(stats, SyncStats { updates: 2, announced: 2, withdrawn: 0 });
        let messages = decode_all(&out);
        let Message::Update(v4) = &messages[0] else { panic!("{messages:?}") };
        assert_eq!(v4.announced, vec![codec::Prefix::host("203.0.113.1".parse().unwrap())]);
        assert_eq!(v4.attributes.as_ref().unwrap().as_path, vec![64600]);

        out.clear();
        let stats = adj.sync(&first, &ctx, &mut out).unwrap();
        assert_eq!(stats, SyncStats::default());
        assert!(out.is_empty());

        let second = routes(&[("2001:db8::1/128", attrs(None, &[]))]);
        let stats = adj.sync(&second, &ctx, &mut out).unwrap();
        assert_eq!(stats, SyncStats { updates: 1, announced: 0, withdrawn: 1 });
        let messages = decode_all(&out);
        let Message::Update(w) = &messages[0] else { panic!("{messages:?}") };
        assert_eq!(w.withdrawn, vec![codec::Prefix::host(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1)))]);
        assert_eq!(adj.sent().len(), 1);

        out.clear();
        let stats = adj.resend(&ctx, &mut out).unwrap();
        assert_eq!(stats.announced, 1);
        assert_eq!(adj.sent().len(), 1);
    }

    /// An unnumbered session: no IPv4 next hop, IPv4 routes with the IPv6 one (global and
    /// link-local) in MP_REACH_NLRI; with no global address, the link-local one alone.
    #[test]
    fn ipv4_over_ipv6_sends_ipv4_routes_with_the_ipv6_next_hop() {
        let ll: Ipv6Addr = "fe80::2".parse().unwrap();
        let ctx = PathContext { next_hop_v4: None, link_local_v6: Some(ll), ipv4_over_ipv6: true, ..ebgp() };
        let desired = routes(&[("203.0.113.1/32", attrs(None, &[])), ("2001:db8:ff::1/128", attrs(None, &[]))]);
        assert_eq!(ctx.sendable(&desired).len(), 2);
        let mut out = Vec::new();
        let stats = AdjOut::default().sync(&desired, &ctx, &mut out).unwrap();
        assert_eq!(stats, SyncStats { updates: 2, announced: 2, withdrawn: 0 });
        let both = Ipv6NextHop { global: "2001:db8::2".parse().unwrap(), link_local: Some(ll) };
        for message in decode_all(&out) {
            let Message::Update(u) = message else { panic!("{message:?}") };
            let a = u.attributes.unwrap();
            assert_eq!(a.next_hop_v4, None);
            match u.announced[0].family() {
                Family::V4 => assert_eq!(a.next_hop_v4_ipv6, Some(both)),
                Family::V6 => assert_eq!(a.next_hop_v6, Some(both)),
            }
        }
        let no_global = PathContext { next_hop_v6: None, ..ctx.clone() };
        assert_eq!(no_global.ipv6_next_hop(), Some(Ipv6NextHop { global: ll, link_local: None }));
        assert!(no_global.carries(Family::V4) && no_global.carries(Family::V6));
        let nothing = PathContext { link_local_v6: None, ..no_global };
        assert!(!nothing.carries(Family::V4) && !nothing.carries(Family::V6));
        // Without RFC 8950 negotiated, IPv4 routes need an IPv4 next hop.
        assert!(!PathContext { ipv4_over_ipv6: false, ..ctx }.carries(Family::V4));
    }

    #[test]
    fn ten_thousand_prefixes_pack_into_few_updates() {
        let desired: Routes = (0..10_000u32)
            .map(|i| (Prefix::host(IpAddr::V4(Ipv4Addr::from(0xc633_0000 + i))), attrs(None, &[])))
            .collect();
        let mut out = Vec::new();
        let stats = AdjOut::default().sync(&desired, &ebgp(), &mut out).unwrap();
        assert_eq!(stats.announced, 10_000);
        assert!(stats.updates <= 13, "{} UPDATEs", stats.updates);
        assert_eq!(decode_all(&out).len(), stats.updates);
    }
}
