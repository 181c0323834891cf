//! OPEN messages (RFC 4271 section 4.2) and their capabilities (RFC 5492): multiprotocol (4760), route
//! refresh (2918), extended next hop (8950), graceful restart (4724) and 4-octet AS (6793); others are
//! kept raw.
//!
//! Decides whether a received OPEN is well-formed (version, AS 0, identifier 0, hold time 1-2, optional
//! parameter types, capability shapes). Whether the peer's AS and identifier are the expected ones is
//! the session's decision.

use std::net::Ipv4Addr;

use super::error::{DecodeError, EncodeError, Problem};
use super::prefix::{AFI_IPV6, AfiSafi, Family};
use super::reader::Reader;
use crate::notification::{Notification, OpenSubcode};
use crate::wire::BGP_VERSION;

/// The 2-octet AS sent by a speaker whose AS does not fit in 2 octets (RFC 6793).
pub const AS_TRANS: u16 = 23456;

const PARAM_CAPABILITIES: u8 = 2;
const CAP_MULTIPROTOCOL: u8 = 1;
const CAP_ROUTE_REFRESH: u8 = 2;
const CAP_EXTENDED_NEXT_HOP: u8 = 5;
const CAP_GRACEFUL_RESTART: u8 = 64;
const CAP_FOUR_OCTET_AS: u8 = 65;

/// An OPEN message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Open {
    /// The sender's AS: from the 4-octet AS capability when present, else the 2-octet field. Encoded in
    /// the 2-octet field as itself when it fits, else as [`AS_TRANS`].
    pub my_as: u32,
    /// Proposed hold time in seconds (0 or at least 3).
    pub hold_time: u16,
    /// The sender's BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// Capabilities, in the order sent (all in one optional parameter when encoded).
    pub capabilities: Vec<Capability>,
}

/// A capability (RFC 5492).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Capability {
    /// 1: multiprotocol extensions for one AFI/SAFI.
    Multiprotocol(AfiSafi),
    /// 2: route refresh.
    RouteRefresh,
    /// 5: extended next hop encoding (RFC 8950): the NLRI families the sender takes with a next hop
    /// of another address family.
    ExtendedNextHop(Vec<ExtendedNextHop>),
    /// 64: graceful restart.
    GracefulRestart(GracefulRestart),
    /// 65: 4-octet AS numbers, with the sender's AS.
    FourOctetAs(u32),
    /// Any other capability, kept raw.
    Unknown {
        /// Capability code (not one of the above).
        code: u8,
        /// Capability value.
        value: Vec<u8>,
    },
}

/// One entry of the extended next hop capability (RFC 8950 section 3): NLRI of `afi_safi` may carry
/// a next hop of `next_hop_afi`. On the wire: NLRI AFI (2 octets), NLRI SAFI (2), next hop AFI (2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtendedNextHop {
    /// The NLRI's AFI/SAFI.
    pub afi_safi: AfiSafi,
    /// The next hop's AFI.
    pub next_hop_afi: u16,
}

impl ExtendedNextHop {
    /// IPv4 unicast with an IPv6 next hop (AFI 1, SAFI 1, next hop AFI 2): BGP unnumbered.
    pub const IPV4_UNICAST_OVER_IPV6: Self = Self { afi_safi: AfiSafi::IPV4_UNICAST, next_hop_afi: AFI_IPV6 };
}

/// The graceful restart capability's value (RFC 4724 section 3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GracefulRestart {
    /// The 4 restart flags (bit 0x8 = Restart State, 0x4 = Notification, RFC 8538); 0 when not restarting.
    pub restart_flags: u8,
    /// Restart time in seconds, 0..=4095.
    pub restart_time: u16,
    /// Families whose forwarding state is announced, with their flags (0x80 = forwarding preserved).
    pub families: Vec<(AfiSafi, u8)>,
}

impl GracefulRestart {
    /// Restart State flag (R): the sender has restarted, so the receiver must not wait for its
    /// End-of-RIB before sending its own routes.
    pub const RESTART_STATE: u8 = 0x8;
    /// Per-family flag (F): the sender kept forwarding packets of this family across the restart.
    pub const FORWARDING_PRESERVED: u8 = 0x80;

    /// The capability of a speaker that keeps forwarding for `families` across a restart: the
    /// Restart State flag when `restarted`, the Forwarding State flag on every family, and the
    /// restart time capped to its 12 bits. With no families, it only says the sender is
    /// graceful-restart aware.
    pub fn preserving(restart_time: u16, restarted: bool, families: &[AfiSafi]) -> Self {
        GracefulRestart {
            restart_flags: if restarted { Self::RESTART_STATE } else { 0 },
            restart_time: restart_time.min(0x0fff),
            families: families.iter().map(|family| (*family, Self::FORWARDING_PRESERVED)).collect(),
        }
    }
}

impl Open {
    /// FerroLB's OPEN for a dual-stack session: IPv4 and IPv6 unicast, route refresh, 4-octet AS
    /// and, when `restart_time` is given, graceful restart advertised as not restarting (flags 0)
    /// with no preserved families. [`Open::for_families`] with both families.
    pub fn ferrolb(my_as: u32, hold_time: u16, bgp_id: Ipv4Addr, restart_time: Option<u16>) -> Self {
        let graceful_restart = restart_time.map(|time| GracefulRestart::preserving(time, false, &[]));
        Self::for_families(my_as, hold_time, bgp_id, &[Family::V4, Family::V6], graceful_restart)
    }

    /// FerroLB's OPEN offering unicast for `families` only (one multiprotocol capability each, in
    /// the order given), route refresh, `graceful_restart` when given, and 4-octet AS.
    pub fn for_families(
        my_as: u32,
        hold_time: u16,
        bgp_id: Ipv4Addr,
        families: &[Family],
        graceful_restart: Option<GracefulRestart>,
    ) -> Self {
        let mut capabilities: Vec<Capability> =
            families.iter().map(|family| Capability::Multiprotocol(AfiSafi::unicast(*family))).collect();
        capabilities.push(Capability::RouteRefresh);
        if let Some(graceful_restart) = graceful_restart {
            capabilities.push(Capability::GracefulRestart(graceful_restart));
        }
        capabilities.push(Capability::FourOctetAs(my_as));
        Self { my_as, hold_time, bgp_id, capabilities }
    }

    /// The sender's graceful restart capability, if it sent one.
    pub fn graceful_restart(&self) -> Option<&GracefulRestart> {
        self.capabilities.iter().find_map(|c| match c {
            Capability::GracefulRestart(gr) => Some(gr),
            _ => None,
        })
    }

    /// Adds the extended next hop capability for IPv4 unicast with an IPv6 next hop (RFC 8950),
    /// after the multiprotocol capabilities, as BGP unnumbered sessions offer it.
    pub fn offer_ipv4_over_ipv6(&mut self) {
        let at = self.capabilities.iter().rposition(|c| matches!(c, Capability::Multiprotocol(_))).map_or(0, |i| i + 1);
        let capability = Capability::ExtendedNextHop(vec![ExtendedNextHop::IPV4_UNICAST_OVER_IPV6]);
        self.capabilities.insert(at, capability);
    }

    /// The AFI/SAFIs the sender announced multiprotocol capabilities for.
    pub fn multiprotocol(&self) -> impl Iterator<Item = AfiSafi> + '_ {
        self.capabilities.iter().filter_map(|c| match c {
            Capability::Multiprotocol(afi_safi) => Some(*afi_safi),
            _ => None,
        })
    }

    /// Whether the sender announced a capability with this code.
    pub fn has_capability(&self, code: u8) -> bool {
        self.capabilities.iter().any(|c| c.code() == code)
    }

    /// Whether the sender takes IPv4 unicast routes with an IPv6 next hop (RFC 8950).
    pub fn ipv4_over_ipv6(&self) -> bool {
        self.capabilities.iter().any(|c| {
            matches!(c, Capability::ExtendedNextHop(entries) if entries.contains(&ExtendedNextHop::IPV4_UNICAST_OVER_IPV6))
        })
    }

    /// Whether the sender supports 4-octet AS numbers.
    pub fn four_octet_as(&self) -> bool {
        self.has_capability(CAP_FOUR_OCTET_AS)
    }

    /// Appends the body.
    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut caps = Vec::new();
        for capability in &self.capabilities {
            capability.check_len()?;
            capability.encode(&mut caps);
        }
        let params_len = if caps.is_empty() { 0 } else { caps.len() + 2 };
        let params_len8 =
            u8::try_from(params_len).map_err(|_| EncodeError::OptionalParametersTooLong { length: params_len })?;
        out.push(BGP_VERSION);
        let as2 = u16::try_from(self.my_as).unwrap_or(AS_TRANS);
        out.extend_from_slice(&as2.to_be_bytes());
        out.extend_from_slice(&self.hold_time.to_be_bytes());
        out.extend_from_slice(&self.bgp_id.octets());
        out.push(params_len8);
        if !caps.is_empty() {
            out.push(PARAM_CAPABILITIES);
            out.push(params_len8.saturating_sub(2));
            out.extend_from_slice(&caps);
        }
        Ok(())
    }

    /// Reads and checks a body (the header guaranteed at least 10 octets).
    pub(crate) fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(body);
        let malformed = || reset(Problem::MalformedOpen, OpenSubcode::Unspecific, Vec::new());
        let version = reader.u8().ok_or_else(malformed)?;
        if version != BGP_VERSION {
            return Err(DecodeError::reset(Problem::UnsupportedVersion(version), Notification::unsupported_version()));
        }
        let as2 = reader.u16().ok_or_else(malformed)?;
        let hold_time = reader.u16().ok_or_else(malformed)?;
        let bgp_id = Ipv4Addr::from(reader.array::<4>().ok_or_else(malformed)?);
        let params_len = reader.u8().ok_or_else(malformed)?;
        if reader.remaining() != usize::from(params_len) {
            return Err(malformed());
        }
        if as2 == 0 {
            return Err(reset(Problem::BadPeerAs(0), OpenSubcode::BadPeerAs, Vec::new()));
        }
        if hold_time == 1 || hold_time == 2 {
            return Err(reset(Problem::UnacceptableHoldTime(hold_time), OpenSubcode::UnacceptableHoldTime, Vec::new()));
        }
        if bgp_id.is_unspecified() {
            return Err(reset(Problem::BadBgpIdentifier, OpenSubcode::BadBgpIdentifier, Vec::new()));
        }
        let mut capabilities = Vec::new();
        while !reader.is_empty() {
            let param_type = reader.u8().ok_or_else(malformed)?;
            let len = reader.u8().ok_or_else(malformed)?;
            let value = reader.take(usize::from(len)).ok_or_else(malformed)?;
            if param_type != PARAM_CAPABILITIES {
                let problem = Problem::UnsupportedOptionalParameter(param_type);
                return Err(reset(problem, OpenSubcode::UnsupportedOptionalParameter, Vec::new()));
            }
            decode_capabilities(value, &mut capabilities)?;
        }
        let four_octet = capabilities.iter().find_map(|c| match c {
            Capability::FourOctetAs(asn) => Some(*asn),
            _ => None,
        });
        let my_as = four_octet.unwrap_or(u32::from(as2));
        if my_as == 0 {
            return Err(reset(Problem::BadPeerAs(0), OpenSubcode::BadPeerAs, Vec::new()));
        }
        Ok(Self { my_as, hold_time, bgp_id, capabilities })
    }
}

impl Capability {
    /// The capability code.
    pub fn code(&self) -> u8 {
        match self {
            Self::Multiprotocol(_) => CAP_MULTIPROTOCOL,
            Self::RouteRefresh => CAP_ROUTE_REFRESH,
            Self::ExtendedNextHop(_) => CAP_EXTENDED_NEXT_HOP,
            Self::GracefulRestart(_) => CAP_GRACEFUL_RESTART,
            Self::FourOctetAs(_) => CAP_FOUR_OCTET_AS,
            Self::Unknown { code, .. } => *code,
        }
    }

    fn value_len(&self) -> usize {
        match self {
            Self::Multiprotocol(_) | Self::FourOctetAs(_) => 4,
            Self::RouteRefresh => 0,
            Self::ExtendedNextHop(entries) => 6 * entries.len(),
            Self::GracefulRestart(gr) => 2 + 4 * gr.families.len(),
            Self::Unknown { value, .. } => value.len(),
        }
    }

    fn check_len(&self) -> Result<(), EncodeError> {
        let length = self.value_len();
        if length > usize::from(u8::MAX) {
            return Err(EncodeError::CapabilityTooLong { code: self.code(), length });
        }
        Ok(())
    }

    /// Appends code, length and value (a value over 255 octets is cut; [`Open`] encoding refuses those).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let len = u8::try_from(self.value_len()).unwrap_or(u8::MAX);
        out.push(self.code());
        out.push(len);
        match self {
            Self::Multiprotocol(afi_safi) => {
                out.extend_from_slice(&afi_safi.afi.to_be_bytes());
                out.push(0);
                out.push(afi_safi.safi);
            }
            Self::RouteRefresh => {}
            Self::ExtendedNextHop(entries) => {
                // 42 entries fill 252 octets; a longer list is cut (Open encoding refuses it).
                for entry in entries.iter().take(42) {
                    out.extend_from_slice(&entry.afi_safi.afi.to_be_bytes());
                    out.extend_from_slice(&u16::from(entry.afi_safi.safi).to_be_bytes());
                    out.extend_from_slice(&entry.next_hop_afi.to_be_bytes());
                }
            }
            Self::GracefulRestart(gr) => {
                let word = (u16::from(gr.restart_flags & 0x0f) << 12) | (gr.restart_time & 0x0fff);
                out.extend_from_slice(&word.to_be_bytes());
                for (afi_safi, flags) in gr.families.iter().take(63) {
                    out.extend_from_slice(&afi_safi.afi.to_be_bytes());
                    out.push(afi_safi.safi);
                    out.push(*flags);
                }
            }
            Self::FourOctetAs(asn) => out.extend_from_slice(&asn.to_be_bytes()),
            Self::Unknown { value, .. } => out.extend(value.iter().take(usize::from(len))),
        }
    }
}

/// Reads the capabilities of one optional parameter.
fn decode_capabilities(bytes: &[u8], out: &mut Vec<Capability>) -> Result<(), DecodeError> {
    let mut reader = Reader::new(bytes);
    let malformed = || reset(Problem::MalformedOpen, OpenSubcode::Unspecific, Vec::new());
    while !reader.is_empty() {
        let start = reader.rest();
        let code = reader.u8().ok_or_else(malformed)?;
        let len = reader.u8().ok_or_else(malformed)?;
        let value = reader.take(usize::from(len)).ok_or_else(malformed)?;
        let whole = start.get(..2 + usize::from(len)).unwrap_or(start);
        let capability = decode_capability(code, value).ok_or_else(|| {
            reset(Problem::MalformedCapability { code }, OpenSubcode::UnsupportedCapability, whole.to_vec())
        })?;
        out.push(capability);
    }
    Ok(())
}

/// One capability; `None` when a known one has a value of the wrong shape.
fn decode_capability(code: u8, value: &[u8]) -> Option<Capability> {
    let mut reader = Reader::new(value);
    let capability = match code {
        CAP_MULTIPROTOCOL => {
            let afi = reader.u16()?;
            let _reserved = reader.u8()?;
            let safi = reader.u8()?;
            Capability::Multiprotocol(AfiSafi { afi, safi })
        }
        CAP_ROUTE_REFRESH => Capability::RouteRefresh,
        CAP_EXTENDED_NEXT_HOP => {
            if value.is_empty() || !value.len().is_multiple_of(6) {
                return None;
            }
            let mut entries = Vec::with_capacity(value.len() / 6);
            while !reader.is_empty() {
                let afi = reader.u16()?;
                // The SAFI takes 2 octets here; SAFIs are 1 octet everywhere else, so a larger
                // value names no SAFI this speaker knows and is kept as 255 (reserved).
                let safi = u8::try_from(reader.u16()?).unwrap_or(u8::MAX);
                let next_hop_afi = reader.u16()?;
                entries.push(ExtendedNextHop { afi_safi: AfiSafi { afi, safi }, next_hop_afi });
            }
            Capability::ExtendedNextHop(entries)
        }
        CAP_GRACEFUL_RESTART => {
            let word = reader.u16()?;
            if !reader.remaining().is_multiple_of(4) {
                return None;
            }
            let mut families = Vec::with_capacity(reader.remaining() / 4);
            while !reader.is_empty() {
                let afi = reader.u16()?;
                let safi = reader.u8()?;
                let flags = reader.u8()?;
                families.push((AfiSafi { afi, safi }, flags));
            }
            // The 4 flag bits are the top of the word; the restart time is the low 12.
            let restart_flags = u8::try_from(word >> 12).ok()?;
            Capability::GracefulRestart(GracefulRestart { restart_flags, restart_time: word & 0x0fff, families })
        }
        CAP_FOUR_OCTET_AS => {
            // AS 0 is well-formed here and refused as a bad peer AS by the caller (RFC 7607).
            Capability::FourOctetAs(reader.u32()?)
        }
        _ => return Some(Capability::Unknown { code, value: value.to_vec() }),
    };
    reader.is_empty().then_some(capability)
}

fn reset(problem: Problem, subcode: OpenSubcode, data: Vec<u8>) -> DecodeError {
    DecodeError::reset(problem, Notification::open(subcode, data))
}

/// 2/7 Unsupported Capability, listing `capabilities` (e.g. the 4-octet AS one a peer lacks).
pub fn unsupported_capability(capabilities: &[Capability]) -> Notification {
    let mut data = Vec::new();
    for capability in capabilities {
        capability.encode(&mut data);
    }
    Notification::open(OpenSubcode::UnsupportedCapability, data)
}
