//! IPv6 Neighbor Discovery (RFC 4861) for the addresses this node answers for: parse Neighbor
//! Solicitations, build solicited and unsolicited Neighbor Advertisements, and the solicited-node multicast
//! group (and its MAC) that solicitations for an address are sent to.
//!
//! Pure. It applies RFC 4861 7.1.1's validity rules (hop limit 255, code 0, checksum, length, target not
//! multicast, options well formed, DAD rules); whether the target is ours is the responder's business.

use std::net::Ipv6Addr;

use super::ethernet::MacAddr;
use super::icmpv6::{self, Icmpv6Error};

const TYPE_NEIGHBOR_SOLICITATION: u8 = 135;
const TYPE_NEIGHBOR_ADVERTISEMENT: u8 = 136;
const OPTION_SOURCE_LINK_LAYER: u8 = 1;
const OPTION_TARGET_LINK_LAYER: u8 = 2;
/// Bytes before the options in an NS or NA: type, code, checksum, 4 bytes flags/reserved, target.
const FIXED_LEN: usize = 24;
const FLAG_ROUTER: u8 = 0x80;
const FLAG_SOLICITED: u8 = 0x40;
const FLAG_OVERRIDE: u8 = 0x20;

/// ff02::1, all nodes on the link.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// A valid Neighbor Solicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighborSolicitation {
    /// Ethernet source of the frame.
    pub eth_source: MacAddr,
    /// Ethernet destination of the frame.
    pub eth_destination: MacAddr,
    /// IPv6 source: the solicitor, or `::` for Duplicate Address Detection.
    pub source: Ipv6Addr,
    /// IPv6 destination: the target's solicited-node group, or the target itself when unicast.
    pub destination: Ipv6Addr,
    /// The address whose link-layer address is asked for.
    pub target: Ipv6Addr,
    /// The solicitor's MAC from the source link-layer address option, if present.
    pub source_link_layer: Option<MacAddr>,
}

impl NeighborSolicitation {
    /// True for Duplicate Address Detection (source `::`): the answer goes to all nodes.
    pub fn is_dad(&self) -> bool {
        self.source.is_unspecified()
    }
}

/// A Neighbor Advertisement, as we build it or read it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighborAdvertisement {
    /// Ethernet destination of the frame.
    pub eth_destination: MacAddr,
    /// Ethernet source of the frame.
    pub eth_source: MacAddr,
    /// IPv6 source.
    pub source: Ipv6Addr,
    /// IPv6 destination.
    pub destination: Ipv6Addr,
    /// Router flag.
    pub router: bool,
    /// Solicited flag: an answer to a solicitation.
    pub solicited: bool,
    /// Override flag: replace a cached link-layer address.
    pub override_flag: bool,
    /// The address advertised.
    pub target: Ipv6Addr,
    /// The MAC advertised for `target` (target link-layer address option), if present.
    pub target_link_layer: Option<MacAddr>,
}

/// Why a frame is not a valid Neighbor Solicitation (or Advertisement).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NdpError {
    /// Not a checksum-valid ICMPv6 packet.
    #[error(transparent)]
    Envelope(#[from] Icmpv6Error),
    /// ND packets must come with hop limit 255, proof they were not forwarded.
    #[error("hop limit {0} is not 255")]
    HopLimit(u8),
    /// Another ICMPv6 message, or a nonzero code.
    #[error("ICMPv6 type {icmp_type} code {code} is not the expected Neighbor Discovery message")]
    WrongMessage {
        /// ICMPv6 type.
        icmp_type: u8,
        /// ICMPv6 code.
        code: u8,
    },
    /// The message is shorter than the fixed 24 bytes.
    #[error("Neighbor Discovery message of {0} bytes is too short")]
    ShortMessage(usize),
    /// The target is a multicast address.
    #[error("target {0} is multicast")]
    MulticastTarget(Ipv6Addr),
    /// An option has length zero or runs past the message.
    #[error("option at byte {offset} is malformed")]
    BadOption {
        /// Offset of the option within the ICMPv6 message.
        offset: usize,
    },
    /// A link-layer address option is not 8 bytes (one 6-byte MAC).
    #[error("link-layer address option of {units} units is not an Ethernet address")]
    BadLinkLayerOption {
        /// Option length in units of 8 bytes.
        units: u8,
    },
    /// A DAD solicitation (source ::) must go to a solicited-node group and carry no source link-layer address.
    #[error("DAD solicitation to {destination} (with source link-layer option: {with_option}) is invalid")]
    BadDad {
        /// IPv6 destination.
        destination: Ipv6Addr,
        /// Whether a source link-layer address option was present.
        with_option: bool,
    },
    /// The IPv6 source is a multicast address.
    #[error("source {0} is multicast")]
    MulticastSource(Ipv6Addr),
}

/// Parses and validates a Neighbor Solicitation frame (RFC 4861 7.1.1).
pub fn parse_solicitation(frame: &[u8]) -> Result<NeighborSolicitation, NdpError> {
    let packet = icmpv6::parse(frame)?;
    let (target, options) = fixed_part(&packet, TYPE_NEIGHBOR_SOLICITATION)?;
    let source_link_layer = link_layer_option(options, OPTION_SOURCE_LINK_LAYER)?;
    if packet.source.is_unspecified() {
        let to_group = solicited_node_multicast(target) == packet.destination;
        if !to_group || source_link_layer.is_some() {
            return Err(NdpError::BadDad { destination: packet.destination, with_option: source_link_layer.is_some() });
        }
    }
    Ok(NeighborSolicitation {
        eth_source: packet.ethernet.source,
        eth_destination: packet.ethernet.destination,
        source: packet.source,
        destination: packet.destination,
        target,
        source_link_layer,
    })
}

/// Parses and validates a Neighbor Advertisement frame (RFC 4861 7.1.2, except the DAD-specific rule).
pub fn parse_advertisement(frame: &[u8]) -> Result<NeighborAdvertisement, NdpError> {
    let packet = icmpv6::parse(frame)?;
    let (target, options) = fixed_part(&packet, TYPE_NEIGHBOR_ADVERTISEMENT)?;
    let flags = packet.message.get(4).copied().unwrap_or(0);
    Ok(NeighborAdvertisement {
        eth_destination: packet.ethernet.destination,
        eth_source: packet.ethernet.source,
        source: packet.source,
        destination: packet.destination,
        router: flags & FLAG_ROUTER != 0,
        solicited: flags & FLAG_SOLICITED != 0,
        override_flag: flags & FLAG_OVERRIDE != 0,
        target,
        target_link_layer: link_layer_option(options, OPTION_TARGET_LINK_LAYER)?,
    })
}

/// Checks what NS and NA share and returns the target and the options bytes.
fn fixed_part<'a>(packet: &icmpv6::Icmpv6Packet<'a>, icmp_type: u8) -> Result<(Ipv6Addr, &'a [u8]), NdpError> {
    if packet.hop_limit != 255 {
        return Err(NdpError::HopLimit(packet.hop_limit));
    }
    if packet.source.is_multicast() {
        return Err(NdpError::MulticastSource(packet.source));
    }
    let (fixed, options) = packet.message.split_first_chunk::<FIXED_LEN>().ok_or(match packet.message {
        [t, c, ..] if (*t, *c) != (icmp_type, 0) => NdpError::WrongMessage { icmp_type: *t, code: *c },
        _ => NdpError::ShortMessage(packet.message.len()),
    })?;
    if (fixed[0], fixed[1]) != (icmp_type, 0) {
        return Err(NdpError::WrongMessage { icmp_type: fixed[0], code: fixed[1] });
    }
    let mut octets = [0u8; 16];
    octets.copy_from_slice(&fixed[8..]);
    let target = Ipv6Addr::from(octets);
    if target.is_multicast() {
        return Err(NdpError::MulticastTarget(target));
    }
    Ok((target, options))
}

/// Walks all options (each must have a nonzero length and fit) and returns the MAC of the first one of
/// `wanted` type; other option types are skipped, as RFC 4861 asks.
fn link_layer_option(options: &[u8], wanted: u8) -> Result<Option<MacAddr>, NdpError> {
    let mut found = None;
    let mut offset = 0usize;
    while offset < options.len() {
        let bad = NdpError::BadOption { offset: FIXED_LEN + offset };
        let (kind, units) = match options.get(offset..offset + 2) {
            Some([kind, units]) => (*kind, *units),
            _ => return Err(bad),
        };
        let len = usize::from(units) * 8;
        let body = options.get(offset..offset + len).filter(|_| len > 0).ok_or(bad)?;
        if kind == wanted && found.is_none() {
            if units != 1 {
                return Err(NdpError::BadLinkLayerOption { units });
            }
            found = body.get(2..8).and_then(MacAddr::from_slice);
        }
        offset += len;
    }
    Ok(found)
}

/// The answer to `solicitation` for its target, from `our_mac`.
///
/// A solicitation from a unicast address gets a solicited advertisement (S and O set) sent to the
/// solicitor's address and MAC (its source link-layer option, else the frame's source). A DAD solicitation
/// (source `::`) gets the unsolicited form sent to all nodes (S clear, O set), as RFC 4861 7.2.4 requires.
pub fn answer_solicitation(solicitation: &NeighborSolicitation, our_mac: MacAddr) -> NeighborAdvertisement {
    if solicitation.is_dad() {
        return unsolicited_advertisement(solicitation.target, our_mac);
    }
    NeighborAdvertisement {
        eth_destination: solicitation.source_link_layer.unwrap_or(solicitation.eth_source),
        eth_source: our_mac,
        source: solicitation.target,
        destination: solicitation.source,
        router: false,
        solicited: true,
        override_flag: true,
        target: solicitation.target,
        target_link_layer: Some(our_mac),
    }
}

/// The unsolicited advertisement of `target` at `our_mac` to all nodes (O set, S clear), sent when this node
/// takes the address.
pub fn unsolicited_advertisement(target: Ipv6Addr, our_mac: MacAddr) -> NeighborAdvertisement {
    NeighborAdvertisement {
        eth_destination: multicast_mac(ALL_NODES),
        eth_source: our_mac,
        source: target,
        destination: ALL_NODES,
        router: false,
        solicited: false,
        override_flag: true,
        target,
        target_link_layer: Some(our_mac),
    }
}

/// Encodes an advertisement as an Ethernet frame with hop limit 255 and a correct checksum.
pub fn encode_advertisement(na: &NeighborAdvertisement) -> Vec<u8> {
    let mut flags = 0u8;
    for (set, bit) in [(na.router, FLAG_ROUTER), (na.solicited, FLAG_SOLICITED), (na.override_flag, FLAG_OVERRIDE)] {
        if set {
            flags |= bit;
        }
    }
    let mut message = vec![TYPE_NEIGHBOR_ADVERTISEMENT, 0, 0, 0, flags, 0, 0, 0];
    message.extend_from_slice(&na.target.octets());
    if let Some(mac) = na.target_link_layer {
        message.extend_from_slice(&[OPTION_TARGET_LINK_LAYER, 1]);
        message.extend_from_slice(&mac.0);
    }
    icmpv6::encode(na.eth_destination, na.eth_source, na.source, na.destination, message)
}

/// Encodes a solicitation as an Ethernet frame (for tests and tools; the speaker never solicits).
pub fn encode_solicitation(ns: &NeighborSolicitation) -> Vec<u8> {
    let mut message = vec![TYPE_NEIGHBOR_SOLICITATION, 0, 0, 0, 0, 0, 0, 0];
    message.extend_from_slice(&ns.target.octets());
    if let Some(mac) = ns.source_link_layer {
        message.extend_from_slice(&[OPTION_SOURCE_LINK_LAYER, 1]);
        message.extend_from_slice(&mac.0);
    }
    icmpv6::encode(ns.eth_destination, ns.eth_source, ns.source, ns.destination, message)
}

/// The solicited-node multicast group of `address`: ff02::1:ff00:0/104 plus its low 24 bits.
pub fn solicited_node_multicast(address: Ipv6Addr) -> Ipv6Addr {
    let [.., a, b, c] = address.octets();
    Ipv6Addr::from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, a, b, c])
}

/// The Ethernet MAC of an IPv6 multicast group: 33:33 plus its low 32 bits (RFC 2464 7).
pub fn multicast_mac(group: Ipv6Addr) -> MacAddr {
    let [.., a, b, c, d] = group.octets();
    MacAddr([0x33, 0x33, a, b, c, d])
}

#[cfg(test)]
#[path = "ndp_tests.rs"]
mod tests;
