//! Feeds arbitrary bytes to the BGP message decoder, as a session reads a stream: it must never panic,
//! and what it reports must be consistent (a consumed length within the input and 19..=4096 octets, an
//! error with a NOTIFICATION code 1 to 3, a length to skip whenever the session survives).

#![no_main]

use ferrolb_bgp::codec::{HEADER_LEN, MAX_MESSAGE_LEN, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    loop {
        let len = match decode(rest) {
            Ok(None) => break,
            Ok(Some((_, len))) => len,
            Err(e) if e.resets_session() => {
                assert!((1..=3).contains(&e.notification.code), "{e}");
                break;
            }
            Err(e) => {
                assert_eq!(e.notification.code, 3, "{e}");
                e.message_len.expect("a surviving UPDATE error says how much to skip")
            }
        };
        assert!((HEADER_LEN..=MAX_MESSAGE_LEN).contains(&len), "consumed {len}");
        rest = rest.get(len..).expect("consumed more than the input");
    }
});
