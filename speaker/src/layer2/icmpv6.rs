//! The Ethernet + IPv6 + ICMPv6 envelope of Neighbor Discovery messages, and the ICMPv6 checksum over the
//! IPv6 pseudo-header (RFC 8200 8.1, RFC 4443 2.3).
//!
//! Pure. It decides whether a frame is an untagged IPv6 packet whose next header is ICMPv6 with a valid
//! checksum; which ICMPv6 message it is, and whether it is valid Neighbor Discovery, is [`super::ndp`]'s job.
//! IPv6 extension headers are not followed: Neighbor Discovery is sent without them.

use std::net::Ipv6Addr;

use super::ethernet::{ETHERTYPE_IPV6, EthernetHeader, MacAddr};

/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;
/// IPv6 next-header value of ICMPv6.
pub const NEXT_HEADER_ICMPV6: u8 = 58;

/// An ICMPv6 message with its IPv6 and Ethernet envelope; the checksum has been verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv6Packet<'a> {
    /// Ethernet header of the frame.
    pub ethernet: EthernetHeader,
    /// IPv6 source address.
    pub source: Ipv6Addr,
    /// IPv6 destination address.
    pub destination: Ipv6Addr,
    /// IPv6 hop limit.
    pub hop_limit: u8,
    /// The ICMPv6 message (type, code, checksum, body), without link padding.
    pub message: &'a [u8],
}

/// Why a frame is not a checksum-valid ICMPv6 packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Icmpv6Error {
    /// The frame ends inside the Ethernet or IPv6 header, or before the IPv6 payload length says.
    #[error("frame of {len} bytes is truncated")]
    Truncated {
        /// Length of the frame.
        len: usize,
    },
    /// The ethertype is not IPv6 (a VLAN tag included).
    #[error("ethertype {ethertype:#06x} is not IPv6")]
    NotIpv6 {
        /// The ethertype seen.
        ethertype: u16,
    },
    /// The IP version nibble is not 6.
    #[error("IP version {0} in an IPv6 frame")]
    BadVersion(u8),
    /// The next header is not ICMPv6 (58); extension headers are not followed.
    #[error("next header {0} is not ICMPv6")]
    NotIcmpv6(u8),
    /// The ICMPv6 message is shorter than its 4-byte header.
    #[error("ICMPv6 message of {0} bytes is too short")]
    ShortMessage(usize),
    /// The ICMPv6 checksum does not match.
    #[error("ICMPv6 checksum {found:#06x} is wrong (expected {expected:#06x})")]
    BadChecksum {
        /// Checksum in the packet.
        found: u16,
        /// Checksum computed over the pseudo-header and message.
        expected: u16,
    },
}

/// Parses an Ethernet frame carrying IPv6 + ICMPv6 and verifies the ICMPv6 checksum.
pub fn parse(frame: &[u8]) -> Result<Icmpv6Packet<'_>, Icmpv6Error> {
    let truncated = Icmpv6Error::Truncated { len: frame.len() };
    let (ethernet, ip) = EthernetHeader::parse(frame).ok_or(truncated.clone())?;
    if ethernet.ethertype != ETHERTYPE_IPV6 {
        return Err(Icmpv6Error::NotIpv6 { ethertype: ethernet.ethertype });
    }
    let (header, rest) = ip.split_first_chunk::<IPV6_HEADER_LEN>().ok_or(truncated.clone())?;
    let version = header[0] >> 4;
    if version != 6 {
        return Err(Icmpv6Error::BadVersion(version));
    }
    let payload_len = usize::from(u16::from_be_bytes([header[4], header[5]]));
    let next_header = header[6];
    if next_header != NEXT_HEADER_ICMPV6 {
        return Err(Icmpv6Error::NotIcmpv6(next_header));
    }
    let hop_limit = header[7];
    let source = address_at(header, 8);
    let destination = address_at(header, 24);
    let message = rest.get(..payload_len).ok_or(truncated)?;
    let found = match message {
        [_, _, hi, lo, ..] => u16::from_be_bytes([*hi, *lo]),
        _ => return Err(Icmpv6Error::ShortMessage(message.len())),
    };
    let expected = checksum(source, destination, message);
    if found != expected {
        return Err(Icmpv6Error::BadChecksum { found, expected });
    }
    Ok(Icmpv6Packet { ethernet, source, destination, hop_limit, message })
}

fn address_at(header: &[u8; IPV6_HEADER_LEN], at: usize) -> Ipv6Addr {
    let mut octets = [0u8; 16];
    if let Some(bytes) = header.get(at..at + 16) {
        octets.copy_from_slice(bytes);
    }
    Ipv6Addr::from(octets)
}

/// The ICMPv6 checksum of `message` between `source` and `destination`, computed as if the message's own
/// checksum field (bytes 2..4) were zero.
pub fn checksum(source: Ipv6Addr, destination: Ipv6Addr, message: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut add = |bytes: &[u8]| {
        for pair in bytes.chunks(2) {
            let word = match pair {
                [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                [hi] => u16::from_be_bytes([*hi, 0]),
                _ => 0,
            };
            sum += u64::from(word);
        }
    };
    add(&source.octets());
    add(&destination.octets());
    // Upper-layer length is a u32 in the pseudo-header; a message fits in u32 on any real frame.
    add(&u32::try_from(message.len()).unwrap_or(u32::MAX).to_be_bytes());
    add(&[0, 0, 0, NEXT_HEADER_ICMPV6]);
    add(message.get(..2).unwrap_or(message));
    add(message.get(4..).unwrap_or(&[]));
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // After folding, sum <= 0xffff; the complement is the checksum.
    !(sum as u16)
}

/// Encodes an Ethernet + IPv6 (hop limit 255) frame around `message`, writing its ICMPv6 checksum into
/// bytes 2..4 of the message.
pub fn encode(
    eth_destination: MacAddr,
    eth_source: MacAddr,
    source: Ipv6Addr,
    destination: Ipv6Addr,
    mut message: Vec<u8>,
) -> Vec<u8> {
    let sum = checksum(source, destination, &message);
    if let Some(field) = message.get_mut(2..4) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
    let mut out = Vec::with_capacity(14 + IPV6_HEADER_LEN + message.len());
    EthernetHeader { destination: eth_destination, source: eth_source, ethertype: ETHERTYPE_IPV6 }.write(&mut out);
    out.extend_from_slice(&[0x60, 0, 0, 0]);
    // ND messages are < 1280 bytes; saturate rather than wrap if a caller ever passes more.
    out.extend_from_slice(&u16::try_from(message.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(&[NEXT_HEADER_ICMPV6, 255]);
    out.extend_from_slice(&source.octets());
    out.extend_from_slice(&destination.octets());
    out.extend_from_slice(&message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_a_hand_computed_value() {
        // Echo request 128/0, id 1, seq 1, from fe80::1 to fe80::2, summed word by word below.
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let dst: Ipv6Addr = "fe80::2".parse().unwrap();
        let mut msg = vec![128, 0, 0, 0, 0, 1, 0, 1];
        let sum = checksum(src, dst, &msg);
        // Pseudo-header words: fe80 + 1 + fe80 + 2 + 8 (length) + 58, message words: 8000 + 1 + 1.
        let total: u32 = 0xfe80 + 1 + 0xfe80 + 2 + 8 + 58 + 0x8000 + 1 + 1;
        let folded = (total & 0xffff) + (total >> 16);
        let folded = (folded & 0xffff) + (folded >> 16);
        assert_eq!(sum, !(folded as u16));
        msg[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(checksum(src, dst, &msg), sum, "the checksum field itself is skipped");
    }

    #[test]
    fn odd_length_is_padded_with_a_zero() {
        let a: Ipv6Addr = "::".parse().unwrap();
        assert_eq!(checksum(a, a, &[1, 0, 0, 0, 0xab]), !(0x0100u16 + 0xab00 + 5 + 58));
    }
}
