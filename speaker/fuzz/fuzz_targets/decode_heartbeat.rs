//! Feeds arbitrary datagrams to the member heartbeat decoder, as the prober reads them from UDP: it must
//! never panic, and what decodes must encode back to a datagram that decodes the same. Random bytes
//! almost never carry a valid tag, so when the first byte is odd the rest is signed with the key first:
//! the fuzzer then explores what lies behind the tag check (names, flags, reports).

#![no_main]

use ferrolb_speaker::members::wire::{KeyRing, TAG_LEN, decode, encode};
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const KEY: &[u8] = b"fuzzing-member-key-0123456789";

fuzz_target!(|data: &[u8]| {
    let keys = KeyRing::new([KEY]).expect("a valid key");
    let datagram = match data.split_first() {
        Some((mode, body)) if mode % 2 == 1 => {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(KEY).expect("any key length");
            mac.update(body);
            let tag = mac.finalize().into_bytes();
            let mut signed = body.to_vec();
            signed.extend_from_slice(&tag[..TAG_LEN]);
            signed
        }
        _ => data.to_vec(),
    };
    let Ok(beat) = decode(&datagram, &keys) else { return };
    let again = encode(&beat, &keys).expect("what decodes can be encoded");
    assert_eq!(decode(&again, &keys), Ok(beat));
});
