//! ARP for IPv4 over Ethernet (RFC 826, RFC 5227): parse requests and replies, build our replies and the
//! gratuitous frames sent when this node takes an address.
//!
//! Pure: bytes in, typed values or bytes out. It decides whether a frame is a well-formed Ethernet/IPv4
//! ARP packet; whether to answer it (is the address ours, on this interface) is the responder's business.

use std::net::Ipv4Addr;

use super::ethernet::{ETHERTYPE_ARP, EthernetHeader, HEADER_LEN, MIN_FRAME_LEN, MacAddr};

/// Length of the ARP payload for Ethernet/IPv4.
pub const PACKET_LEN: usize = 28;
const HTYPE_ETHERNET: u16 = 1;
const PTYPE_IPV4: u16 = 0x0800;

/// The ARP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Who has `target_ip`? (1)
    Request,
    /// `sender_ip` is at `sender_mac` (2)
    Reply,
}

/// An Ethernet/IPv4 ARP packet with the Ethernet addresses it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket {
    /// Ethernet destination of the frame.
    pub eth_destination: MacAddr,
    /// Ethernet source of the frame.
    pub eth_source: MacAddr,
    /// Request or reply.
    pub operation: Operation,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address (0.0.0.0 in an RFC 5227 probe).
    pub sender_ip: Ipv4Addr,
    /// Target hardware address (ignored in requests).
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl ArpPacket {
    /// A gratuitous packet announces its own address: sender and target IP are the same.
    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip == self.target_ip
    }
}

/// Why a frame is not an ARP packet we understand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArpError {
    /// The frame ends before the Ethernet header and the 28-byte ARP packet do.
    #[error("frame of {len} bytes is too short for Ethernet + ARP")]
    Truncated {
        /// Length of the frame.
        len: usize,
    },
    /// The ethertype is not ARP (a VLAN tag included).
    #[error("ethertype {ethertype:#06x} is not ARP")]
    NotArp {
        /// The ethertype seen.
        ethertype: u16,
    },
    /// Hardware type or length is not Ethernet (1, 6).
    #[error("hardware type {htype} length {hlen} is not Ethernet")]
    NotEthernet {
        /// Hardware type.
        htype: u16,
        /// Hardware address length.
        hlen: u8,
    },
    /// Protocol type or length is not IPv4 (0x0800, 4).
    #[error("protocol type {ptype:#06x} length {plen} is not IPv4")]
    NotIpv4 {
        /// Protocol type.
        ptype: u16,
        /// Protocol address length.
        plen: u8,
    },
    /// The operation is neither request nor reply (RARP, InARP, ...).
    #[error("ARP operation {0} is neither request nor reply")]
    UnknownOperation(u16),
}

/// Parses an Ethernet frame carrying ARP; trailing padding is ignored.
pub fn parse(frame: &[u8]) -> Result<ArpPacket, ArpError> {
    let truncated = ArpError::Truncated { len: frame.len() };
    let (eth, payload) = EthernetHeader::parse(frame).ok_or(truncated.clone())?;
    if eth.ethertype != ETHERTYPE_ARP {
        return Err(ArpError::NotArp { ethertype: eth.ethertype });
    }
    let p: &[u8; PACKET_LEN] = payload.first_chunk().ok_or(truncated)?;
    let be16 = |at: usize| u16::from_be_bytes([p[at], p[at + 1]]);
    let (htype, hlen, ptype, plen) = (be16(0), p[4], be16(2), p[5]);
    if htype != HTYPE_ETHERNET || hlen != 6 {
        return Err(ArpError::NotEthernet { htype, hlen });
    }
    if ptype != PTYPE_IPV4 || plen != 4 {
        return Err(ArpError::NotIpv4 { ptype, plen });
    }
    let operation = match be16(6) {
        1 => Operation::Request,
        2 => Operation::Reply,
        other => return Err(ArpError::UnknownOperation(other)),
    };
    let mac = |at: usize| MacAddr([p[at], p[at + 1], p[at + 2], p[at + 3], p[at + 4], p[at + 5]]);
    let ip = |at: usize| Ipv4Addr::new(p[at], p[at + 1], p[at + 2], p[at + 3]);
    Ok(ArpPacket {
        eth_destination: eth.destination,
        eth_source: eth.source,
        operation,
        sender_mac: mac(8),
        sender_ip: ip(14),
        target_mac: mac(18),
        target_ip: ip(24),
    })
}

/// Builds the reply to `request` saying `request.target_ip` is at `our_mac`, sent to the requester.
///
/// Returns `None` when `request` is not a request. The reply goes to the sender hardware address of the ARP
/// packet (RFC 826), which for an RFC 5227 probe (sender IP 0.0.0.0) is still the prober's MAC.
pub fn build_reply(request: &ArpPacket, our_mac: MacAddr) -> Option<Vec<u8>> {
    if request.operation != Operation::Request {
        return None;
    }
    Some(encode(&ArpPacket {
        eth_destination: request.sender_mac,
        eth_source: our_mac,
        operation: Operation::Reply,
        sender_mac: our_mac,
        sender_ip: request.target_ip,
        target_mac: request.sender_mac,
        target_ip: request.sender_ip,
    }))
}

/// Builds a broadcast gratuitous ARP request for `ip` (an RFC 5227 announcement: target MAC zero).
pub fn build_gratuitous_request(our_mac: MacAddr, ip: Ipv4Addr) -> Vec<u8> {
    encode(&ArpPacket {
        eth_destination: MacAddr::BROADCAST,
        eth_source: our_mac,
        operation: Operation::Request,
        sender_mac: our_mac,
        sender_ip: ip,
        target_mac: MacAddr::ZERO,
        target_ip: ip,
    })
}

/// Builds a broadcast gratuitous ARP reply for `ip`; the target MAC is ours too (RFC 5944 4.6), since some
/// hosts update their caches only from replies.
pub fn build_gratuitous_reply(our_mac: MacAddr, ip: Ipv4Addr) -> Vec<u8> {
    encode(&ArpPacket {
        eth_destination: MacAddr::BROADCAST,
        eth_source: our_mac,
        operation: Operation::Reply,
        sender_mac: our_mac,
        sender_ip: ip,
        target_mac: our_mac,
        target_ip: ip,
    })
}

/// Encodes a packet as a minimum-size (60-byte, zero-padded) Ethernet frame.
pub fn encode(packet: &ArpPacket) -> Vec<u8> {
    let mut out = Vec::with_capacity(MIN_FRAME_LEN);
    EthernetHeader { destination: packet.eth_destination, source: packet.eth_source, ethertype: ETHERTYPE_ARP }
        .write(&mut out);
    out.extend_from_slice(&HTYPE_ETHERNET.to_be_bytes());
    out.extend_from_slice(&PTYPE_IPV4.to_be_bytes());
    out.extend_from_slice(&[6, 4]);
    let op: u16 = match packet.operation {
        Operation::Request => 1,
        Operation::Reply => 2,
    };
    out.extend_from_slice(&op.to_be_bytes());
    out.extend_from_slice(&packet.sender_mac.0);
    out.extend_from_slice(&packet.sender_ip.octets());
    out.extend_from_slice(&packet.target_mac.0);
    out.extend_from_slice(&packet.target_ip.octets());
    debug_assert_eq!(out.len(), HEADER_LEN + PACKET_LEN);
    out.resize(MIN_FRAME_LEN, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: MacAddr = MacAddr([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
    const PEER: MacAddr = MacAddr([0x02, 0x00, 0x00, 0x00, 0x00, 0x99]);
    const VIP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 200);
    const PEER_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 99);
    const PAD: [u8; 18] = [0; 18];

    /// A broadcast "who has 198.51.100.200? tell 198.51.100.99" from 02:00:00:00:00:99, written by hand.
    fn request_frame() -> Vec<u8> {
        let mut f = vec![
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // eth dst
            0x02, 0x00, 0x00, 0x00, 0x00, 0x99, // eth src
            0x08, 0x06, // ARP
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, // Ethernet, IPv4, 6, 4
            0x00, 0x01, // request
            0x02, 0x00, 0x00, 0x00, 0x00, 0x99, 198, 51, 100, 99, // sender
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 198, 51, 100, 200, // target
        ];
        f.extend_from_slice(&PAD);
        f
    }

    #[test]
    fn parses_a_request() {
        let p = parse(&request_frame()).unwrap();
        assert_eq!(
            p,
            ArpPacket {
                eth_destination: MacAddr::BROADCAST,
                eth_source: PEER,
                operation: Operation::Request,
                sender_mac: PEER,
                sender_ip: PEER_IP,
                target_mac: MacAddr::ZERO,
                target_ip: VIP,
            }
        );
        assert!(!p.is_gratuitous());
    }

    #[test]
    fn reply_is_byte_exact() {
        let reply = build_reply(&parse(&request_frame()).unwrap(), OURS).unwrap();
        let mut expected = vec![
            0x02, 0x00, 0x00, 0x00, 0x00, 0x99, // to the requester
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // from us
            0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, //
            0x00, 0x02, // reply
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 198, 51, 100, 200, // sender: our MAC, the owned IP
            0x02, 0x00, 0x00, 0x00, 0x00, 0x99, 198, 51, 100, 99, // target: the requester
        ];
        expected.extend_from_slice(&PAD);
        assert_eq!(reply, expected);
    }

    #[test]
    fn gratuitous_request_and_reply_are_byte_exact() {
        let mut request = vec![
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, //
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, //
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 198, 51, 100, 200, //
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 198, 51, 100, 200,
        ];
        request.extend_from_slice(&PAD);
        assert_eq!(build_gratuitous_request(OURS, VIP), request);

        let mut reply = vec![
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, //
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, //
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 198, 51, 100, 200, //
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 198, 51, 100, 200,
        ];
        reply.extend_from_slice(&PAD);
        assert_eq!(build_gratuitous_reply(OURS, VIP), reply);
        assert!(parse(&reply).unwrap().is_gratuitous());
    }

    #[test]
    fn no_reply_to_a_reply() {
        let reply = parse(&build_gratuitous_reply(OURS, VIP)).unwrap();
        assert_eq!(build_reply(&reply, OURS), None);
    }

    #[test]
    fn build_then_parse_round_trips() {
        let packet = ArpPacket {
            eth_destination: PEER,
            eth_source: OURS,
            operation: Operation::Reply,
            sender_mac: OURS,
            sender_ip: VIP,
            target_mac: PEER,
            target_ip: PEER_IP,
        };
        assert_eq!(parse(&encode(&packet)), Ok(packet));
        let unpadded = &encode(&packet)[..HEADER_LEN + PACKET_LEN];
        assert_eq!(parse(unpadded), Ok(packet), "padding is optional");
    }

    #[test]
    fn malformed_frames_are_errors() {
        let good = request_frame();
        let with = |at: usize, value: u8| {
            let mut f = good.clone();
            f[at] = value;
            f
        };
        let cases: Vec<(&str, Vec<u8>, ArpError)> = vec![
            ("empty", vec![], ArpError::Truncated { len: 0 }),
            ("header only", good[..14].to_vec(), ArpError::Truncated { len: 14 }),
            ("one byte short", good[..41].to_vec(), ArpError::Truncated { len: 41 }),
            ("IPv4 ethertype", with(13, 0x00), ArpError::NotArp { ethertype: 0x0800 }),
            (
                "VLAN tagged",
                {
                    let mut f = with(12, 0x81);
                    f[13] = 0;
                    f
                },
                ArpError::NotArp { ethertype: 0x8100 },
            ),
            ("hardware type 6", with(15, 6), ArpError::NotEthernet { htype: 6, hlen: 6 }),
            ("hardware length 8", with(18, 8), ArpError::NotEthernet { htype: 1, hlen: 8 }),
            (
                "protocol IPv6",
                {
                    let mut f = with(16, 0x86);
                    f[17] = 0xdd;
                    f
                },
                ArpError::NotIpv4 { ptype: 0x86dd, plen: 4 },
            ),
            ("protocol length 16", with(19, 16), ArpError::NotIpv4 { ptype: 0x0800, plen: 16 }),
            ("RARP request", with(21, 3), ArpError::UnknownOperation(3)),
        ];
        for (name, frame, want) in cases {
            assert_eq!(parse(&frame), Err(want), "{name}");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..128)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn arp_shaped_bytes_never_panic(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let mut frame = request_frame()[..14].to_vec();
            frame.extend_from_slice(&tail);
            if let Ok(p) = parse(&frame) {
                prop_assert_eq!(parse(&encode(&p)), Ok(p));
            }
        }
    }
    use proptest::prop_assert_eq;
}
