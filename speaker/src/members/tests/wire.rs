//! The heartbeat codec: layout, authentication, and robustness against arbitrary bytes.

use proptest::prelude::*;

use crate::members::wire::{
    BootId, DecodeError, EncodeError, Heartbeat, KeyError, KeyRing, MAX_DATAGRAM_LEN, Standing, TAG_LEN, decode, encode,
};

const KEY_A: &[u8] = b"0123456789abcdef-key-a";
const KEY_B: &[u8] = b"0123456789abcdef-key-b";

fn ring(keys: &[&[u8]]) -> KeyRing {
    KeyRing::new(keys.iter().copied()).unwrap()
}

fn beat() -> Heartbeat {
    Heartbeat {
        node: "node-a".into(),
        boot: BootId(0x0102_0304_0506_0708),
        seq: 42,
        sent_at_ms: 1_700_000_000_123,
        standing: Standing::Member,
    }
}

#[test]
fn layout_is_the_documented_one() {
    let bytes = encode(&beat(), &ring(&[KEY_A])).unwrap();
    assert_eq!(bytes.len(), 31 + 6 + TAG_LEN);
    assert_eq!(&bytes[0..4], b"FLBH");
    assert_eq!(bytes[4], 1, "version");
    assert_eq!(bytes[5], 0, "flags");
    assert_eq!(&bytes[6..14], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&bytes[14..22], &42u64.to_be_bytes());
    assert_eq!(&bytes[22..30], &1_700_000_000_123u64.to_be_bytes());
    assert_eq!(bytes[30], 6);
    assert_eq!(&bytes[31..37], b"node-a");
}

#[test]
fn tag_is_truncated_hmac_sha256_over_the_body() {
    use hmac::{Hmac, KeyInit, Mac};
    let bytes = encode(&beat(), &ring(&[KEY_A])).unwrap();
    let (body, tag) = bytes.split_at(bytes.len() - TAG_LEN);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(KEY_A).unwrap();
    mac.update(body);
    assert_eq!(&mac.finalize().into_bytes()[..TAG_LEN], tag);
}

#[test]
fn round_trip_keeps_every_field() {
    let keys = ring(&[KEY_A]);
    for standing in [Standing::Member, Standing::SteppingDown, Standing::Leaving, Standing::Restarting] {
        let sent = Heartbeat { standing, ..beat() };
        assert_eq!(decode(&encode(&sent, &keys).unwrap(), &keys), Ok(sent));
    }
}

#[test]
fn stepping_down_sets_flag_bit_zero_and_unknown_flag_bits_are_ignored() {
    let keys = ring(&[KEY_A]);
    let bytes = encode(&Heartbeat { standing: Standing::SteppingDown, ..beat() }, &keys).unwrap();
    assert_eq!(bytes[5], 1);
    // A future sender sets another bit; it is authenticated, so re-sign the body.
    let mut body = bytes[..bytes.len() - TAG_LEN].to_vec();
    body[5] = 0b1000_0000;
    let resigned = resign(&body, KEY_A);
    assert_eq!(decode(&resigned, &keys).map(|b| b.standing), Ok(Standing::Member));
}

#[test]
fn leaving_sets_bits_zero_and_one_so_a_receiver_knowing_only_bit_zero_still_steps_it_down() {
    let keys = ring(&[KEY_A]);
    let bytes = encode(&Heartbeat { standing: Standing::Leaving, ..beat() }, &keys).unwrap();
    assert_eq!(bytes[5], 0b11);
    assert_eq!(bytes[4], 1, "the wire version stays 1");
    // Bit 1 without bit 0 is not sent by this version: reserved, read as a plain member.
    let mut body = bytes[..bytes.len() - TAG_LEN].to_vec();
    body[5] = 0b10;
    assert_eq!(decode(&resign(&body, KEY_A), &keys).map(|b| b.standing), Ok(Standing::Member));
}

#[test]
fn restarting_sets_bit_two_alone_so_a_receiver_that_does_not_know_it_reads_a_member() {
    let keys = ring(&[KEY_A]);
    let bytes = encode(&Heartbeat { standing: Standing::Restarting, ..beat() }, &keys).unwrap();
    assert_eq!(bytes[5], 0b100);
    assert_eq!(bytes[4], 1, "the wire version stays 1");
    // With bit 0, the sender takes no part: stepping down wins over restarting.
    let mut body = bytes[..bytes.len() - TAG_LEN].to_vec();
    body[5] = 0b101;
    assert_eq!(decode(&resign(&body, KEY_A), &keys).map(|b| b.standing), Ok(Standing::SteppingDown));
}

fn resign(body: &[u8], key: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(body);
    let mut out = body.to_vec();
    out.extend_from_slice(&mac.finalize().into_bytes()[..TAG_LEN]);
    out
}

#[test]
fn every_tampered_byte_is_rejected() {
    let keys = ring(&[KEY_A]);
    let bytes = encode(&beat(), &keys).unwrap();
    for i in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x01;
        let err = decode(&tampered, &keys).unwrap_err();
        let expected_kinds = match i {
            0..=3 => matches!(err, DecodeError::BadMagic),
            4 => matches!(err, DecodeError::UnsupportedVersion(0)),
            30 => matches!(err, DecodeError::LengthMismatch { .. }),
            _ => err == DecodeError::BadTag,
        };
        assert!(expected_kinds, "byte {i}: {err:?}");
    }
}

#[test]
fn wrong_key_is_rejected_and_rotation_accepts_any_key_but_signs_with_the_first() {
    let a = ring(&[KEY_A]);
    let b = ring(&[KEY_B]);
    let rotating = ring(&[KEY_B, KEY_A]);
    let from_a = encode(&beat(), &a).unwrap();
    let from_rotating = encode(&beat(), &rotating).unwrap();
    assert_eq!(decode(&from_a, &b), Err(DecodeError::BadTag));
    assert_eq!(decode(&from_a, &rotating), Ok(beat()));
    assert_eq!(decode(&from_rotating, &b), Ok(beat()), "signed with the first key");
    assert_eq!(decode(&from_rotating, &a), Err(DecodeError::BadTag));
}

#[test]
fn truncated_and_extended_datagrams_are_malformed() {
    let keys = ring(&[KEY_A]);
    let bytes = encode(&beat(), &keys).unwrap();
    for len in 0..bytes.len() {
        let err = decode(&bytes[..len], &keys).unwrap_err();
        assert!(matches!(err, DecodeError::TooShort { .. } | DecodeError::LengthMismatch { .. }), "len {len}: {err:?}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(decode(&longer, &keys), Err(DecodeError::LengthMismatch { len: 54, expected: 53 }));
}

#[test]
fn node_names_out_of_bounds_are_refused() {
    let keys = ring(&[KEY_A]);
    let max = "n".repeat(253);
    let bytes = encode(&Heartbeat { node: max.clone(), ..beat() }, &keys).unwrap();
    assert_eq!(bytes.len(), MAX_DATAGRAM_LEN);
    assert_eq!(decode(&bytes, &keys).map(|b| b.node), Ok(max));
    for node in [String::new(), "n".repeat(254), "n".repeat(300)] {
        let len = node.len();
        assert_eq!(encode(&Heartbeat { node, ..beat() }, &keys), Err(EncodeError::BadNodeName { len }));
    }
    let mut empty_name = encode(&beat(), &keys).unwrap();
    empty_name[30] = 0;
    assert_eq!(decode(&empty_name, &keys), Err(DecodeError::EmptyNodeName));
}

#[test]
fn a_signed_name_that_is_not_utf8_is_malformed() {
    let mut body = encode(&beat(), &ring(&[KEY_A])).unwrap();
    body.truncate(body.len() - TAG_LEN);
    body[31] = 0xff;
    assert_eq!(decode(&resign(&body, KEY_A), &ring(&[KEY_A])), Err(DecodeError::NodeNameNotUtf8));
}

#[test]
fn key_rings_refuse_no_keys_and_short_keys_and_do_not_print_keys() {
    assert_eq!(KeyRing::new(Vec::<Vec<u8>>::new()).unwrap_err(), KeyError::NoKeys);
    assert_eq!(KeyRing::new([KEY_A, b"short"]).unwrap_err(), KeyError::TooShort { index: 1, len: 5 });
    let keys = ring(&[KEY_A, KEY_B]);
    assert_eq!(keys.len(), 2);
    let printed = format!("{keys:?}");
    assert!(!printed.contains("0123456789"), "{printed}");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_never_authenticate(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let decoded = decode(&bytes, &ring(&[KEY_A]));
        prop_assert!(decoded.is_err());
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_header_never_panic(
        name_len in any::<u8>(),
        tail in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = b"FLBH\x01".to_vec();
        bytes.extend_from_slice(&[0u8; 25]);
        bytes.push(name_len);
        bytes.extend_from_slice(&tail);
        prop_assert!(decode(&bytes, &ring(&[KEY_A])).is_err());
    }

    #[test]
    fn any_heartbeat_round_trips(
        node in "[a-z0-9][a-z0-9.-]{0,252}",
        boot in any::<u64>(),
        seq in any::<u64>(),
        sent_at_ms in any::<u64>(),
        standing in prop_oneof![Just(Standing::Member), Just(Standing::SteppingDown), Just(Standing::Leaving), Just(Standing::Restarting)],
    ) {
        let keys = ring(&[KEY_A]);
        let sent = Heartbeat { node, boot: BootId(boot), seq, sent_at_ms, standing };
        prop_assert_eq!(decode(&encode(&sent, &keys).unwrap(), &keys), Ok(sent));
    }
}
