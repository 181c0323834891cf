//! The heartbeat codec: layout, authentication, and robustness against arbitrary bytes.

use proptest::prelude::*;

use crate::members::wire::{
    BootId, DecodeError, EncodeError, Entry, Heartbeat, KeyError, KeyRing, MAX_DATAGRAM_LEN, MAX_MEMBERS, Report,
    Standing, TAG_LEN, decode, encode, roster_digest,
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
        reads_reports: false,
        report: None,
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
    assert_eq!(bytes.len(), 300, "the longest version-1 heartbeat");
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

fn report(entries: &[Entry]) -> Report {
    Report { roster: 0x1122_3344_5566_7788, entries: entries.to_vec() }
}

#[test]
fn a_report_makes_version_two_with_the_documented_layout() {
    let keys = ring(&[KEY_A]);
    let entries = [
        Entry::new(Some(ms(0)), true, true),
        Entry::new(Some(ms(101)), false, false),
        Entry::new(None, false, true),
        Entry::new(Some(ms(1260)), true, false),
    ];
    let sent = Heartbeat { reads_reports: true, report: Some(report(&entries)), ..beat() };
    let bytes = encode(&sent, &keys).unwrap();
    assert_eq!(bytes[4], 2, "version");
    assert_eq!(bytes[5], 0b1000, "bit 3: reads reports");
    assert_eq!(&bytes[37..45], &0x1122_3344_5566_7788u64.to_be_bytes(), "roster digest after the name");
    assert_eq!(&bytes[45..47], &[0, 4], "member count");
    assert_eq!(&bytes[47..51], &[0xc0, 6, 0x7f, 0x3f], "alive and held bits, age in 20 ms units rounded up, 63 = none");
    assert_eq!(bytes.len(), 51 + TAG_LEN);
    let decoded = decode(&bytes, &keys).unwrap();
    assert_eq!(
        decoded.report.as_ref().map(|r| r.entries.iter().map(|e| e.age()).collect::<Vec<_>>()),
        Some(vec![Some(ms(0)), Some(ms(120)), None, None])
    );
    assert_eq!(decoded.report.map(|r| r.entries[3]), Some(Entry::NONE), "1.26 s is no news");
}

fn ms(n: u64) -> std::time::Duration {
    std::time::Duration::from_millis(n)
}

#[test]
fn without_a_report_the_heartbeat_stays_version_one_and_bit_three_says_whether_the_sender_reads_reports() {
    let keys = ring(&[KEY_A]);
    let bytes = encode(&Heartbeat { reads_reports: true, standing: Standing::Leaving, ..beat() }, &keys).unwrap();
    assert_eq!((bytes[4], bytes[5]), (1, 0b1011));
    let decoded = decode(&bytes, &keys).unwrap();
    assert!(decoded.reads_reports);
    assert_eq!(decoded.standing, Standing::Leaving, "bit 3 does not change the standing");
    assert_eq!(decoded.report, None);
}

#[test]
fn malformed_reports_are_refused_even_when_signed() {
    let keys = ring(&[KEY_A]);
    let good = encode(&Heartbeat { report: Some(report(&[Entry::NONE; 3])), ..beat() }, &keys).unwrap();
    let body = good[..good.len() - TAG_LEN].to_vec();
    // No member, and more members than allowed.
    for count in [0u16, 1025] {
        let mut counted = body.clone();
        counted[45..47].copy_from_slice(&count.to_be_bytes());
        assert_eq!(decode(&resign(&counted, KEY_A), &keys), Err(DecodeError::BadReport), "count {count}");
    }
    // A count that does not match the entries that follow.
    let mut longer = body.clone();
    longer[45..47].copy_from_slice(&9u16.to_be_bytes());
    assert!(matches!(decode(&resign(&longer, KEY_A), &keys), Err(DecodeError::LengthMismatch { .. })));
    // Cut inside the report.
    for len in 0..good.len() {
        assert!(decode(&good[..len], &keys).is_err(), "len {len}");
    }
    // A version nobody sends.
    let mut future = body;
    future[4] = 3;
    assert_eq!(decode(&resign(&future, KEY_A), &keys), Err(DecodeError::UnsupportedVersion(3)));
}

#[test]
fn reports_that_cannot_be_sent_are_refused() {
    let keys = ring(&[KEY_A]);
    for members in [0, MAX_MEMBERS + 1] {
        let bad = Report { roster: 1, entries: vec![Entry::NONE; members] };
        assert_eq!(encode(&Heartbeat { report: Some(bad), ..beat() }, &keys), Err(EncodeError::BadReport { members }));
    }
    let widest = Report { roster: 1, entries: vec![Entry::new(Some(ms(30)), true, true); MAX_MEMBERS] };
    let bytes = encode(&Heartbeat { node: "n".repeat(253), report: Some(widest), ..beat() }, &keys).unwrap();
    assert_eq!(bytes.len(), MAX_DATAGRAM_LEN);
}

#[test]
fn roster_digests_depend_on_every_name_and_where_one_ends() {
    assert_eq!(roster_digest(["a", "b"]), roster_digest(["a", "b"]));
    assert_ne!(roster_digest(["a", "b"]), roster_digest(["b", "a"]));
    assert_ne!(roster_digest(["ab", "c"]), roster_digest(["a", "bc"]));
    assert_ne!(roster_digest(["a"]), roster_digest(["a", "b"]));
}

proptest! {
    #[test]
    fn any_report_round_trips(
        entries in proptest::collection::vec((any::<bool>(), any::<bool>(), 0u8..=63), 1..=MAX_MEMBERS),
        roster in any::<u64>(),
        reads_reports in any::<bool>(),
    ) {
        let keys = ring(&[KEY_A]);
        let entries = entries.into_iter().map(|(alive, held, age)| Entry { alive, held, age }).collect();
        let sent = Heartbeat { reads_reports, report: Some(Report { roster, entries }), ..beat() };
        prop_assert_eq!(decode(&encode(&sent, &keys).unwrap(), &keys), Ok(sent));
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_version_two_header_never_panic(
        count in any::<u16>(),
        tail in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = b"FLBH\x02".to_vec();
        bytes.extend_from_slice(&[0u8; 25]);
        bytes.push(1);
        bytes.push(b'a');
        bytes.extend_from_slice(&[0u8; 8]);
        bytes.extend_from_slice(&count.to_be_bytes());
        bytes.extend_from_slice(&tail);
        prop_assert!(decode(&bytes, &ring(&[KEY_A])).is_err());
    }

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
        let sent = Heartbeat { node, boot: BootId(boot), seq, sent_at_ms, standing, reads_reports: false, report: None };
        prop_assert_eq!(decode(&encode(&sent, &keys).unwrap(), &keys), Ok(sent));
    }
}
