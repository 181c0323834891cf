//! The OPEN contents the state machine reads and writes, and what two OPENs negotiate.

use std::net::Ipv4Addr;
use std::time::Duration;

/// What an OPEN says, already decoded: the integrator maps the codec's OPEN to this and back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OpenParams {
    /// BGP version (4).
    pub version: u8,
    /// The speaker's AS, 4-octet: from the AS4 capability when present (RFC 6793), else the
    /// 2-octet My AS field. When sending, the codec writes AS_TRANS in My AS if it exceeds 65535.
    pub asn: u32,
    /// Proposed hold time in seconds.
    pub hold_time: u16,
    /// BGP Identifier.
    pub router_id: Ipv4Addr,
    /// 4-octet AS capability advertised.
    pub four_octet_as: bool,
    /// IPv4 unicast advertised: a multiprotocol capability for it, or no multiprotocol
    /// capability at all (RFC 4760: IPv4 unicast is then implied).
    pub ipv4_unicast: bool,
    /// IPv6 unicast multiprotocol capability advertised.
    pub ipv6_unicast: bool,
    /// Route refresh capability advertised (RFC 2918).
    pub route_refresh: bool,
    /// Extended next hop capability advertised for IPv4 unicast with an IPv6 next hop (RFC 8950).
    pub ipv4_over_ipv6: bool,
    /// Graceful restart capability advertised (RFC 4724), with its restart time in seconds.
    pub graceful_restart: Option<u16>,
}

/// What the two OPENs agreed, given in [`super::Action::Established`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Negotiated {
    /// The smaller of the two hold times; zero means no hold timer and no keepalives.
    pub hold_time: Duration,
    /// How often we send KEEPALIVE; None when the hold time is zero.
    pub keepalive: Option<Duration>,
    /// The peer's AS.
    pub peer_asn: u32,
    /// The peer's BGP Identifier.
    pub peer_router_id: Ipv4Addr,
    /// Whether the peer's AS equals ours (iBGP).
    pub internal: bool,
    /// Both sides speak 4-octet AS numbers.
    pub four_octet_as: bool,
    /// Both sides do IPv4 unicast.
    pub ipv4_unicast: bool,
    /// Both sides do IPv6 unicast.
    pub ipv6_unicast: bool,
    /// Both sides do route refresh.
    pub route_refresh: bool,
    /// Both sides take IPv4 unicast routes with an IPv6 next hop (RFC 8950).
    pub ipv4_over_ipv6: bool,
    /// Both sides advertised graceful restart (RFC 4724): the peer keeps our routes, marked
    /// stale, when the connection ends without a NOTIFICATION.
    pub graceful_restart: bool,
}
