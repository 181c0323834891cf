//! Ethernet II framing shared by the ARP and NDP codecs: MAC addresses and the 14-byte header.
//!
//! Decides nothing about ARP or IPv6; frames carrying an 802.1Q tag are seen here as ethertype 0x8100 and
//! left to the caller to refuse (the responder's sockets are bound to untagged ethertypes).

use std::fmt;
use std::str::FromStr;

/// Ethertype of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// Ethertype of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// Length of an Ethernet II header (destination, source, ethertype), without any 802.1Q tag.
pub const HEADER_LEN: usize = 14;
/// The shortest frame Ethernet carries, without its FCS; shorter frames are padded with zeros.
pub const MIN_FRAME_LEN: usize = 60;

/// A 48-bit Ethernet MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// 00:00:00:00:00:00, "unknown" in ARP requests.
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// The six octets.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// True for group addresses (the I/G bit is set), broadcast included.
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// True for 00:00:00:00:00:00.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    /// Reads a MAC address from exactly six bytes; `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<MacAddr> {
        <[u8; 6]>::try_from(bytes).ok().map(MacAddr)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// Why a string is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a MAC address (six hex octets separated by ':')")]
pub struct ParseMacError {
    input: String,
}

impl FromStr for MacAddr {
    type Err = ParseMacError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseMacError { input: s.to_string() };
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for slot in &mut out {
            let part = parts.next().ok_or_else(err)?;
            if part.is_empty() || part.len() > 2 {
                return Err(err());
            }
            *slot = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(out))
    }
}

/// The Ethernet II header of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetHeader {
    /// Destination MAC.
    pub destination: MacAddr,
    /// Source MAC.
    pub source: MacAddr,
    /// Ethertype (0x8100 for a tagged frame, which the codecs refuse).
    pub ethertype: u16,
}

impl EthernetHeader {
    /// Splits a frame into its header and payload; `None` when shorter than a header.
    pub fn parse(frame: &[u8]) -> Option<(EthernetHeader, &[u8])> {
        let (header, payload) = frame.split_first_chunk::<HEADER_LEN>()?;
        let (dst, rest) = header.split_first_chunk::<6>()?;
        let (src, ethertype) = rest.split_first_chunk::<6>()?;
        let ethertype = u16::from_be_bytes(*ethertype.first_chunk::<2>()?);
        Some((EthernetHeader { destination: MacAddr(*dst), source: MacAddr(*src), ethertype }, payload))
    }

    /// Appends the 14 header bytes to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.destination.0);
        out.extend_from_slice(&self.source.0);
        out.extend_from_slice(&self.ethertype.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_parses_and_prints() {
        let mac: MacAddr = "02:00:5e:10:00:0a".parse().unwrap();
        assert_eq!(mac, MacAddr([0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a]));
        assert_eq!(mac.to_string(), "02:00:5e:10:00:0a");
        for bad in ["", "02:00:5e:10:00", "02:00:5e:10:00:0a:01", "02:00:5e:10:00:zz", "02:00:5e:10:00:100"] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn multicast_bit() {
        assert!(MacAddr::BROADCAST.is_multicast());
        assert!(MacAddr([0x33, 0x33, 0, 0, 0, 1]).is_multicast());
        assert!(!MacAddr([0x02, 0, 0, 0, 0, 1]).is_multicast());
    }

    #[test]
    fn header_round_trip_and_short_frames() {
        let header =
            EthernetHeader { destination: MacAddr::BROADCAST, source: MacAddr([2, 0, 0, 0, 0, 1]), ethertype: 0x0806 };
        let mut frame = Vec::new();
        header.write(&mut frame);
        frame.push(0xaa);
        let (parsed, payload) = EthernetHeader::parse(&frame).unwrap();
        assert_eq!(parsed, header);
        assert_eq!(payload, &[0xaa]);
        assert!(EthernetHeader::parse(&frame[..13]).is_none());
    }
}
