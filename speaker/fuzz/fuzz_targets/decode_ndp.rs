//! Feeds arbitrary frames to the ICMPv6 and NDP decoders, as the responder reads them: they must never
//! panic; a solicitation that decodes must encode back to one that decodes the same; the advertisement
//! we would answer it with must decode, for the same target, with our link-layer address.

#![no_main]

use ferrolb_speaker::layer2::MacAddr;
use ferrolb_speaker::layer2::icmpv6;
use ferrolb_speaker::layer2::ndp::{
    answer_solicitation, encode_advertisement, encode_solicitation, parse_advertisement, parse_solicitation,
};
use libfuzzer_sys::fuzz_target;

const OURS: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);

fuzz_target!(|frame: &[u8]| {
    if let Ok(packet) = icmpv6::parse(frame) {
        assert!(packet.message.len() <= frame.len());
    }
    if let Ok(advertisement) = parse_advertisement(frame) {
        assert_eq!(parse_advertisement(&encode_advertisement(&advertisement)), Ok(advertisement));
    }
    let Ok(solicitation) = parse_solicitation(frame) else { return };
    assert_eq!(parse_solicitation(&encode_solicitation(&solicitation)), Ok(solicitation));
    let answer = answer_solicitation(&solicitation, OURS);
    let decoded = parse_advertisement(&encode_advertisement(&answer)).expect("our answer does not decode");
    assert_eq!(decoded.target, solicitation.target);
    assert_eq!(decoded.target_link_layer, Some(OURS));
});
