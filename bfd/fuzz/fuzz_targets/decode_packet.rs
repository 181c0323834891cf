//! Feeds arbitrary bytes to the BFD Control packet decoder, as one UDP payload: it must never panic,
//! and a packet it accepts must survive encoding and decoding again unchanged (the length field
//! aside: encode always writes 24, the packet without authentication).

#![no_main]

use ferrolb_bfd::packet::{ControlPacket, PACKET_LEN, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = decode(data) {
        assert!(usize::from(packet.length) >= PACKET_LEN && usize::from(packet.length) <= data.len());
        let encoded = packet.encode();
        let again = decode(&encoded).expect("a re-encoded accepted packet decodes");
        assert_eq!(again, ControlPacket { length: PACKET_LEN as u8, ..packet });
        assert_eq!(again.encode(), encoded);
    }
});
