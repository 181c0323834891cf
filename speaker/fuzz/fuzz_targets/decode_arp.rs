//! Feeds arbitrary frames to the ARP decoder, as the responder reads them from its packet socket: it
//! must never panic; what decodes must encode back to a frame that decodes to the same packet; a
//! request's reply must decode as a reply from us, for the address asked about, to the asker.

#![no_main]

use ferrolb_speaker::layer2::MacAddr;
use ferrolb_speaker::layer2::arp::{Operation, build_reply, encode, parse};
use libfuzzer_sys::fuzz_target;

const OURS: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);

fuzz_target!(|frame: &[u8]| {
    let Ok(packet) = parse(frame) else { return };
    assert_eq!(parse(&encode(&packet)), Ok(packet), "re-encoded packet decodes differently");
    if let Some(reply) = build_reply(&packet, OURS) {
        assert_eq!(packet.operation, Operation::Request);
        let reply = parse(&reply).expect("our reply does not decode");
        assert_eq!(reply.operation, Operation::Reply);
        assert_eq!((reply.sender_mac, reply.sender_ip), (OURS, packet.target_ip));
        assert_eq!((reply.target_mac, reply.target_ip), (packet.sender_mac, packet.sender_ip));
    }
});
