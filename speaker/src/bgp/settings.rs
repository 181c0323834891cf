//! A configured peer turned into the settings one session runs with. Pure.
//!
//! Decides the session's FSM settings (timers, ASNs, router ID), where to connect from and to,
//! the TTL of outgoing packets and the MD5 key. Two peers with equal [`PeerSettings`] keep the
//! same session across a configuration change; a difference resets it. It does not open
//! anything (the session does).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ferrolb_bgp::fsm::{self, DEFAULT_HOLD_TIME, DEFAULT_RESTART_TIME, RetryBackoff, SessionConfig};
use ferrolb_core::config::{Peer, PeerAsn};

/// TTL of packets to a directly connected eBGP peer. FRR and BIRD send 1 to single-hop eBGP
/// peers and, without `ttl-security`, accept any TTL; 1 also keeps the session from working
/// through a router, which is what a single-hop eBGP peer means. iBGP and multihop use 255.
pub const SINGLE_HOP_TTL: u32 = 1;
/// TTL of packets to iBGP and multihop eBGP peers.
pub const MULTI_HOP_TTL: u32 = 255;

/// How one session runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSettings {
    /// The state machine's settings.
    pub session: SessionConfig,
    /// Where to connect; for an interface peer, `[::]:port`, the router being found on the link.
    pub remote: SocketAddr,
    /// The interface of a BGP unnumbered peer: the session goes to the router found at the other
    /// end of it (see [`super::unnumbered`]), between link-local addresses.
    pub interface: Option<String>,
    /// The local address to bind, if configured.
    pub source: Option<IpAddr>,
    /// TTL (hop limit) of outgoing packets.
    pub ttl: u32,
    /// The TCP MD5 key.
    pub password: Option<String>,
    /// The VRF device the socket is bound to (SO_BINDTODEVICE), if any: the connection, its
    /// route and its source address are the VRF's.
    pub vrf: Option<String>,
}

/// Why a peer cannot have a session from this node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// No router ID: none configured, no IPv4 node address, no IPv4 source address.
    #[error("no router ID: set routerID on the BGPPeer (the node has no IPv4 address to use)")]
    NoRouterId,
    /// The FSM refused the settings.
    #[error(transparent)]
    Invalid(#[from] fsm::ConfigError),
}

impl PeerSettings {
    /// The settings for `peer` on a node with `node_addresses`. The router ID is the peer's
    /// routerID, else the node's first IPv4 address, else an IPv4 source address, else
    /// `local_v4` (the session's local IPv4 address, when the caller knows it).
    pub fn from_peer(
        peer: &Peer,
        node_addresses: &[IpAddr],
        local_v4: Option<Ipv4Addr>,
    ) -> Result<PeerSettings, SettingsError> {
        let router_id = peer
            .router_id
            .or_else(|| node_addresses.iter().find_map(v4))
            .or_else(|| peer.source_address.as_ref().and_then(v4))
            .or(local_v4)
            .ok_or(SettingsError::NoRouterId)?;
        // localASN replaces myASN towards the peer (FRR's `local-as ASN no-prepend replace-as`):
        // the OPEN, the 4-octet AS capability and the AS_PATH of routes sent carry it.
        let local_asn = peer.session_asn();
        let mut session = SessionConfig::new(local_asn, peer.peer_asn, router_id);
        session.hold_time = peer.hold_time.unwrap_or(DEFAULT_HOLD_TIME);
        session.keepalive = peer.keepalive_time;
        // connectTime, as FRR's `timers connect` that MetalLB renders it to: a fixed interval
        // between attempts, which also bounds each attempt. Without it, 5 s doubling to 120 s.
        if let Some(connect) = peer.connect_time {
            session.connect_retry = RetryBackoff::fixed(connect);
        }
        // As MetalLB: a session carries its own address family only, unless dualStackAddressFamily;
        // an unnumbered one carries both, IPv4 routes with an IPv6 next hop (as FRR's
        // `neighbor IFACE interface`, which offers the extended next hop capability).
        (session.ipv4_unicast, session.ipv6_unicast) = peer.families();
        session.ipv4_over_ipv6 = peer.interface.is_some();
        // enableGracefulRestart: FRR's default restart time until the speaker's flag says
        // otherwise (see `with_restart_time`).
        session.graceful_restart = peer.graceful_restart.then_some(DEFAULT_RESTART_TIME);
        session.validate()?;
        let internal = match peer.peer_asn {
            PeerAsn::Fixed(asn) => asn == local_asn,
            PeerAsn::DynamicInternal => true,
            PeerAsn::DynamicExternal => false,
        };
        Ok(PeerSettings {
            session,
            remote: SocketAddr::new(peer.address, peer.port),
            interface: peer.interface.clone(),
            source: peer.source_address,
            ttl: if internal || peer.ebgp_multi_hop { MULTI_HOP_TTL } else { SINGLE_HOP_TTL },
            password: peer.password.clone().filter(|p| !p.is_empty()),
            vrf: peer.vrf.clone().filter(|vrf| !vrf.is_empty()),
        })
    }

    /// The same settings with this graceful restart time (seconds, capped to the capability's
    /// 12 bits), when graceful restart is enabled; unchanged otherwise.
    pub fn with_restart_time(mut self, seconds: u16) -> Self {
        if self.session.graceful_restart.is_some() {
            self.session.graceful_restart = Some(seconds.min(fsm::MAX_RESTART_TIME));
        }
        self
    }
}

/// Why a graceful restart time from the command line is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestartTimeError {
    /// Not a duration.
    #[error(transparent)]
    Duration(#[from] ferrolb_core::config::DurationError),
    /// Zero, above 4095 s (the capability's 12 bits), or not whole seconds.
    #[error("graceful restart time {0:?} must be whole seconds from 1s to 4095s")]
    OutOfRange(std::time::Duration),
}

/// Reads a graceful restart time as written on the command line: a Go duration of whole seconds
/// from 1s to 4095s, such as `120s` or `2m`. In seconds.
pub fn parse_restart_time(input: &str) -> Result<u16, RestartTimeError> {
    let time = ferrolb_core::config::parse_go_duration(input.trim())?;
    match u16::try_from(time.as_secs()) {
        Ok(seconds) if time.subsec_nanos() == 0 && (1..=fsm::MAX_RESTART_TIME).contains(&seconds) => Ok(seconds),
        _ => Err(RestartTimeError::OutOfRange(time)),
    }
}

fn v4(address: &IpAddr) -> Option<Ipv4Addr> {
    match address {
        IpAddr::V4(v4) => Some(*v4),
        IpAddr::V6(_) => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn restart_time_flag_takes_whole_seconds_up_to_4095() {
        assert_eq!(parse_restart_time("120s"), Ok(120));
        assert_eq!(parse_restart_time("2m"), Ok(120));
        assert_eq!(parse_restart_time("4095s"), Ok(4095));
        assert_eq!(parse_restart_time("1s"), Ok(1));
        for bad in ["0s", "4096s", "1.5s", "500ms", "soon", "120"] {
            assert!(parse_restart_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn graceful_restart_offers_frrs_default_time_or_the_flags() {
        let plain = PeerSettings::from_peer(&peer(), &node(), None).unwrap();
        assert_eq!(plain.session.graceful_restart, None);
        assert_eq!(plain.clone().with_restart_time(30).session.graceful_restart, None, "not enabled: stays off");
        let gr = PeerSettings::from_peer(&Peer { graceful_restart: true, ..peer() }, &node(), None).unwrap();
        assert_eq!(gr.session.graceful_restart, Some(120));
        assert_eq!(gr.with_restart_time(30).session.graceful_restart, Some(30));
    }

    /// A configured peer: the lab's router (192.0.2.1:179, AS 64512) for our AS 64600, every
    /// optional setting absent. Other tests change what they need.
    pub(crate) fn peer() -> Peer {
        Peer::new("router", 64600, PeerAsn::Fixed(64512), "192.0.2.1".parse().unwrap())
    }

    fn node() -> Vec<IpAddr> {
        vec!["2001:db8::2".parse().unwrap(), "192.0.2.2".parse().unwrap()]
    }

    #[test]
    fn router_id_choice() {
        type Case = (&'static str, fn(&mut Peer), Vec<IpAddr>, Option<Ipv4Addr>, Result<Ipv4Addr, SettingsError>);
        let cases: Vec<Case> = vec![
            (
                "configured",
                |p| p.router_id = Some(Ipv4Addr::new(10, 0, 0, 1)),
                node(),
                None,
                Ok(Ipv4Addr::new(10, 0, 0, 1)),
            ),
            ("node's first IPv4", |_| {}, node(), None, Ok(Ipv4Addr::new(192, 0, 2, 2))),
            (
                "source address",
                |p| p.source_address = Some("192.0.2.9".parse().unwrap()),
                vec![],
                None,
                Ok(Ipv4Addr::new(192, 0, 2, 9)),
            ),
            ("local address", |_| {}, vec![], Some(Ipv4Addr::new(192, 0, 2, 7)), Ok(Ipv4Addr::new(192, 0, 2, 7))),
            ("none", |_| {}, vec!["2001:db8::2".parse().unwrap()], None, Err(SettingsError::NoRouterId)),
        ];
        for (name, change, addresses, local, expected) in cases {
            let mut p = peer();
            change(&mut p);
            let got = PeerSettings::from_peer(&p, &addresses, local).map(|s| s.session.router_id);
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn ttl_timers_and_password() {
        let s = PeerSettings::from_peer(&peer(), &node(), None).unwrap();
        assert_eq!(s.ttl, SINGLE_HOP_TTL);
        assert_eq!(s.session.hold_time, DEFAULT_HOLD_TIME);
        assert_eq!(s.remote, "192.0.2.1:179".parse().unwrap());
        assert_eq!(s.password, None);

        let mut p = peer();
        p.ebgp_multi_hop = true;
        p.hold_time = Some(Duration::from_secs(3));
        p.connect_time = Some(Duration::from_secs(2));
        p.password = Some("pw".into());
        let s = PeerSettings::from_peer(&p, &node(), None).unwrap();
        assert_eq!(s.ttl, MULTI_HOP_TTL);
        assert_eq!(s.session.hold_time, Duration::from_secs(3));
        assert_eq!(s.session.connect_retry, RetryBackoff::fixed(Duration::from_secs(2)));
        assert_eq!(s.password.as_deref(), Some("pw"));

        let mut ibgp = peer();
        ibgp.peer_asn = PeerAsn::Fixed(64600);
        assert_eq!(PeerSettings::from_peer(&ibgp, &node(), None).unwrap().ttl, MULTI_HOP_TTL);
    }

    #[test]
    fn local_asn_replaces_my_asn_towards_the_peer() {
        let plain = PeerSettings::from_peer(&peer(), &node(), None).unwrap();
        assert_eq!(plain.session.local_asn, 64600);
        let mut p = peer();
        p.local_asn = Some(4_200_000_001);
        let s = PeerSettings::from_peer(&p, &node(), None).unwrap();
        assert_eq!(s.session.local_asn, 4_200_000_001);
        assert_eq!(s.ttl, SINGLE_HOP_TTL, "still eBGP");
        assert_ne!(s, plain, "a localASN change resets the session");
    }

    #[test]
    fn a_session_offers_its_own_family_unless_dual_stack() {
        let families = |p: &Peer| {
            let s = PeerSettings::from_peer(p, &node(), None).unwrap();
            (s.session.ipv4_unicast, s.session.ipv6_unicast)
        };
        let v4 = peer();
        let v6 = Peer { address: "2001:db8::1".parse().unwrap(), ..peer() };
        assert_eq!(families(&v4), (true, false));
        assert_eq!(families(&v6), (false, true));
        assert_eq!(families(&Peer { dual_stack: true, ..v4.clone() }), (true, true));
        assert_eq!(families(&Peer { dual_stack: true, ..v6 }), (true, true));
        let dual = PeerSettings::from_peer(&Peer { dual_stack: true, ..v4.clone() }, &node(), None).unwrap();
        assert_ne!(dual, PeerSettings::from_peer(&v4, &node(), None).unwrap(), "a change resets the session");
    }

    /// The ConnectRetry timers the FSM arms while the peer cannot be reached.
    fn retry_delays(settings: &PeerSettings, failures: usize) -> Vec<Duration> {
        use ferrolb_bgp::fsm::{Action, Event, Session, Timer};
        let mut fsm = Session::new(settings.session.clone()).unwrap();
        let now = std::time::Instant::now();
        let mut delays = Vec::new();
        let mut record = |actions: Vec<Action>| {
            for action in actions {
                if let Action::StartTimer(Timer::ConnectRetry, delay) = action {
                    delays.push(delay);
                }
            }
        };
        record(fsm.step(now, Event::ManualStart));
        for _ in 0..failures {
            // The attempt fails; the timer runs out in Active and the next attempt starts.
            record(fsm.step(now, Event::TcpConnectionFails));
            record(fsm.step(now, Event::ConnectRetryTimerExpires));
        }
        // An attempt that hangs is abandoned when the timer runs out in Connect.
        record(fsm.step(now, Event::ConnectRetryTimerExpires));
        delays
    }

    #[test]
    fn connect_time_is_the_fixed_retry_interval_and_attempt_timeout() {
        let secs = Duration::from_secs;
        let p = Peer { connect_time: Some(secs(10)), ..peer() };
        let fixed = retry_delays(&PeerSettings::from_peer(&p, &node(), None).unwrap(), 4);
        assert!(fixed.len() >= 9 && fixed.iter().all(|d| *d == secs(10)), "{fixed:?}");
        // Without connectTime: 5 s, doubling to 120 s.
        let default = retry_delays(&PeerSettings::from_peer(&peer(), &node(), None).unwrap(), 6);
        assert_eq!(default.first(), Some(&secs(5)));
        assert!(default.contains(&secs(40)) && default.iter().all(|d| *d <= secs(120)), "{default:?}");
    }

    #[test]
    fn an_interface_peer_offers_both_families_and_ipv4_over_ipv6() {
        let p = Peer::on_interface("router", 64600, PeerAsn::Fixed(64512), "eth1");
        let s = PeerSettings::from_peer(&p, &node(), None).unwrap();
        assert_eq!(s.interface.as_deref(), Some("eth1"));
        assert!(s.session.ipv4_unicast && s.session.ipv6_unicast && s.session.ipv4_over_ipv6);
        assert_eq!(s.ttl, SINGLE_HOP_TTL);
        let numbered = PeerSettings::from_peer(&peer(), &node(), None).unwrap();
        assert!(!numbered.session.ipv4_over_ipv6);
        let other_link = Peer::on_interface("router", 64600, PeerAsn::Fixed(64512), "eth2");
        assert_ne!(PeerSettings::from_peer(&other_link, &node(), None).unwrap(), s, "another link, another session");
    }

    #[test]
    fn the_vrf_is_part_of_the_settings() {
        let plain = PeerSettings::from_peer(&peer(), &node(), None).unwrap();
        assert_eq!(plain.vrf, None);
        let red = PeerSettings::from_peer(&Peer { vrf: Some("red".into()), ..peer() }, &node(), None).unwrap();
        assert_eq!(red.vrf.as_deref(), Some("red"));
        assert_ne!(red, plain, "moving a peer into a VRF resets its session");
    }

    #[test]
    fn invalid_hold_time_is_an_error() {
        let mut p = peer();
        p.hold_time = Some(Duration::from_secs(2));
        assert!(matches!(PeerSettings::from_peer(&p, &node(), None), Err(SettingsError::Invalid(_))));
    }

    #[test]
    fn node_selector_changes_do_not_change_settings() {
        let a = PeerSettings::from_peer(&peer(), &node(), None).unwrap();
        let mut p = peer();
        p.node_selectors = vec![Default::default()];
        assert_eq!(PeerSettings::from_peer(&p, &node(), None).unwrap(), a);
    }
}
