//! Every malformed input maps to the NOTIFICATION RFC 4271 section 6 prescribes and, for UPDATEs, to the
//! RFC 7606 treatment.

use super::super::*;
use super::bytes;

/// A whole message of `message_type` around `body`, with the right length.
fn message(message_type: u8, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(19 + body.len()).unwrap().to_be_bytes();
    bytes(&[&len, &[message_type], body])
}

/// An UPDATE with these raw fields and right lengths.
fn update(withdrawn: &[u8], attributes: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut body = u16::try_from(withdrawn.len()).unwrap().to_be_bytes().to_vec();
    body.extend_from_slice(withdrawn);
    body.extend_from_slice(&u16::try_from(attributes.len()).unwrap().to_be_bytes());
    body.extend_from_slice(attributes);
    body.extend_from_slice(nlri);
    message(2, &body)
}

/// A well-formed OPEN body: version 4, AS 64600, hold 90, id 192.0.2.1, then `params`.
fn open_body(params: &[u8]) -> Vec<u8> {
    let mut body = vec![0x04, 0xfc, 0x58, 0x00, 0x5a, 0xc0, 0x00, 0x02, 0x01, u8::try_from(params.len()).unwrap()];
    body.extend_from_slice(params);
    body
}

const ORIGIN: &[u8] = &[0x40, 0x01, 0x01, 0x00];
const AS_PATH: &[u8] = &[0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfc, 0x58];
const NEXT_HOP: &[u8] = &[0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x01];
const NLRI: &[u8] = &[0x18, 0xcb, 0x00, 0x71];

/// The mandatory attributes with `extra` appended.
fn with(extra: &[u8]) -> Vec<u8> {
    [ORIGIN, AS_PATH, NEXT_HOP, extra].concat()
}

struct Case {
    name: &'static str,
    input: Vec<u8>,
    code: u8,
    subcode: u8,
    data: Vec<u8>,
    treatment: Treatment,
}

fn case(name: &'static str, input: Vec<u8>, (code, subcode): (u8, u8), data: &[u8], treatment: Treatment) -> Case {
    Case { name, input, code, subcode, data: data.to_vec(), treatment }
}

fn header_and_open_cases() -> Vec<Case> {
    use Treatment::SessionReset as Reset;
    let mut bad_marker = message(4, &[]);
    bad_marker[3] = 0xfe;
    let mp_v4 = [0x02, 0x06, 0x01, 0x04, 0x00, 0x01, 0x00, 0x01];
    let mut as_zero = open_body(&mp_v4);
    as_zero[1..3].copy_from_slice(&[0, 0]);
    let mut version3 = open_body(&[]);
    version3[0] = 3;
    let mut hold1 = open_body(&[]);
    hold1[3..5].copy_from_slice(&[0, 1]);
    let mut id_zero = open_body(&[]);
    id_zero[5..9].copy_from_slice(&[0; 4]);
    let mut overrun = open_body(&mp_v4);
    overrun[9] = 9;
    vec![
        case("marker", bad_marker, (1, 1), &[], Reset),
        case("length below 19", bytes(&[&[0x00, 0x12, 0x04]]), (1, 2), &[0x00, 0x12], Reset),
        case("length above 4096", bytes(&[&[0x10, 0x01, 0x02]]), (1, 2), &[0x10, 0x01], Reset),
        case("KEEPALIVE with a body", message(4, &[0]), (1, 2), &[0x00, 0x14], Reset),
        case("short OPEN", message(1, &[0; 9]), (1, 2), &[0x00, 0x1c], Reset),
        case("short UPDATE", message(2, &[0; 3]), (1, 2), &[0x00, 0x16], Reset),
        case("short NOTIFICATION", message(3, &[6]), (1, 2), &[0x00, 0x14], Reset),
        case("long ROUTE-REFRESH", message(5, &[0; 5]), (1, 2), &[0x00, 0x18], Reset),
        case("unknown type", message(9, &[]), (1, 3), &[0x09], Reset),
        case("version 3", message(1, &version3), (2, 1), &[0x00, 0x04], Reset),
        case("AS 0", message(1, &as_zero), (2, 2), &[], Reset),
        case("4-octet AS 0", message(1, &open_body(&[0x02, 0x06, 0x41, 0x04, 0, 0, 0, 0])), (2, 2), &[], Reset),
        case("identifier 0", message(1, &id_zero), (2, 3), &[], Reset),
        case("authentication parameter", message(1, &open_body(&[0x01, 0x01, 0x00])), (2, 4), &[], Reset),
        case("hold time 1", message(1, &hold1), (2, 6), &[], Reset),
        case(
            "short 4-octet AS capability",
            message(1, &open_body(&[0x02, 0x04, 0x41, 0x02, 0xfc, 0x58])),
            (2, 7),
            &[0x41, 0x02, 0xfc, 0x58],
            Reset,
        ),
        case(
            "route refresh capability with a value",
            message(1, &open_body(&[0x02, 0x03, 0x02, 0x01, 0x00])),
            (2, 7),
            &[0x02, 0x01, 0x00],
            Reset,
        ),
        case("parameters overrun", message(1, &overrun), (2, 0), &[], Reset),
        case(
            "capability overruns its parameter",
            message(1, &open_body(&[0x02, 0x03, 0x41, 0x04, 0x00])),
            (2, 0),
            &[],
            Reset,
        ),
    ]
}

fn update_cases() -> Vec<Case> {
    use Treatment::{AttributeDiscard as Discard, SessionReset as Reset, TreatAsWithdraw as Withdraw};
    let mut withdrawn_overrun = update(&[], &[], &[]);
    withdrawn_overrun[20] = 9;
    let mut attributes_overrun = update(&[], &with(&[]), NLRI);
    attributes_overrun[25] = 0xff; // ORIGIN's length
    let mp_unreach = [0x80, 0x0f, 0x03, 0x00, 0x02, 0x01];
    let bad_origin_flags = [0xc0, 0x01, 0x01, 0x00];
    let long_origin = [0x40, 0x01, 0x02, 0x00, 0x00];
    let origin_3 = [0x40, 0x01, 0x01, 0x03];
    let long_next_hop = [0x40, 0x03, 0x05, 0xc0, 0x00, 0x02, 0x01, 0x00];
    let multicast_hop = [0x40, 0x03, 0x04, 0xe0, 0x00, 0x00, 0x01];
    let zero_hop = [0x40, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00];
    let short_local_pref = [0x40, 0x05, 0x03, 0x00, 0x00, 0x64];
    let long_atomic = [0x40, 0x06, 0x01, 0x00];
    let atomic_optional = [0x80, 0x06, 0x00];
    let short_aggregator = [0xc0, 0x07, 0x06, 0xfc, 0x58, 0xc0, 0x00, 0x02, 0x01];
    let short_communities = [0xc0, 0x08, 0x03, 0xfc, 0x58, 0x00];
    let short_large = [0xc0, 0x20, 0x08, 0, 0, 0xfc, 0x58, 0, 0, 0, 1];
    let unknown_well_known = [0x40, 0x63, 0x01, 0x07];
    let mp_reach_bad_next_hop = [0x80, 0x0e, 0x0a, 0x00, 0x02, 0x01, 0x04, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00];
    let mp_reach_transitive = [0xc0, 0x0e, 0x05, 0x00, 0x02, 0x01, 0x00, 0x00];
    let mut mp_reach_129 = vec![0x80, 0x0e, 0x16, 0x00, 0x02, 0x01, 0x10];
    mp_reach_129.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x81]);
    vec![
        case("withdrawn length overruns", withdrawn_overrun, (3, 1), &[], Reset),
        case("attribute overruns the list", attributes_overrun, (3, 1), &[], Withdraw),
        case("MP_UNREACH_NLRI twice", update(&[], &[mp_unreach, mp_unreach].concat(), &[]), (3, 1), &[], Reset),
        case(
            "unknown well-known attribute",
            update(&[], &with(&unknown_well_known), NLRI),
            (3, 2),
            &unknown_well_known,
            Reset,
        ),
        case("no attributes for the NLRI", update(&[], &[], NLRI), (3, 3), &[1], Withdraw),
        case("no NEXT_HOP for the NLRI", update(&[], &[ORIGIN, AS_PATH].concat(), NLRI), (3, 3), &[3], Withdraw),
        case(
            "ORIGIN flagged optional",
            update(&[], &[&bad_origin_flags[..], AS_PATH, NEXT_HOP].concat(), NLRI),
            (3, 4),
            &bad_origin_flags,
            Withdraw,
        ),
        case(
            "ATOMIC_AGGREGATE flagged optional",
            update(&[], &with(&atomic_optional), NLRI),
            (3, 4),
            &atomic_optional,
            Discard,
        ),
        case(
            "MP_REACH_NLRI flagged transitive",
            update(&[], &mp_reach_transitive, &[]),
            (3, 4),
            &mp_reach_transitive,
            Reset,
        ),
        case(
            "ORIGIN of 2 octets",
            update(&[], &[&long_origin[..], AS_PATH, NEXT_HOP].concat(), NLRI),
            (3, 5),
            &long_origin,
            Withdraw,
        ),
        case(
            "NEXT_HOP of 5 octets",
            update(&[], &[ORIGIN, AS_PATH, &long_next_hop[..]].concat(), NLRI),
            (3, 5),
            &long_next_hop,
            Withdraw,
        ),
        case(
            "LOCAL_PREF of 3 octets",
            update(&[], &with(&short_local_pref), NLRI),
            (3, 5),
            &short_local_pref,
            Withdraw,
        ),
        case("ATOMIC_AGGREGATE with a value", update(&[], &with(&long_atomic), NLRI), (3, 5), &long_atomic, Discard),
        case("AGGREGATOR of 6 octets", update(&[], &with(&short_aggregator), NLRI), (3, 5), &short_aggregator, Discard),
        case("ORIGIN 3", update(&[], &[&origin_3[..], AS_PATH, NEXT_HOP].concat(), NLRI), (3, 6), &origin_3, Withdraw),
        case(
            "multicast NEXT_HOP",
            update(&[], &[ORIGIN, AS_PATH, &multicast_hop[..]].concat(), NLRI),
            (3, 8),
            &multicast_hop,
            Withdraw,
        ),
        case(
            "NEXT_HOP 0.0.0.0",
            update(&[], &[ORIGIN, AS_PATH, &zero_hop[..]].concat(), NLRI),
            (3, 8),
            &zero_hop,
            Withdraw,
        ),
        case(
            "COMMUNITIES of 3 octets",
            update(&[], &with(&short_communities), NLRI),
            (3, 9),
            &short_communities,
            Withdraw,
        ),
        case("LARGE_COMMUNITY of 8 octets", update(&[], &with(&short_large), NLRI), (3, 9), &short_large, Withdraw),
        case(
            "IPv4 next hop in an IPv6 MP_REACH_NLRI",
            update(&[], &mp_reach_bad_next_hop, &[]),
            (3, 9),
            &mp_reach_bad_next_hop,
            Reset,
        ),
        case("NLRI prefix of 33 bits", update(&[], &with(&[]), &[0x21, 1, 2, 3, 4, 5]), (3, 10), &[], Reset),
        case("NLRI prefix cut short", update(&[], &with(&[]), &[0x18, 0xcb]), (3, 10), &[], Reset),
        case("withdrawn prefix of 40 bits", update(&[0x28, 1, 2, 3, 4, 5], &[], &[]), (3, 10), &[], Reset),
        case("MP_REACH_NLRI prefix of 129 bits", update(&[], &mp_reach_129, &[]), (3, 10), &[], Reset),
        case(
            "AS_PATH segment type 5",
            update(&[], &[ORIGIN, &[0x40, 0x02, 0x06, 0x05, 0x01, 0, 0, 0xfc, 0x58], NEXT_HOP].concat(), NLRI),
            (3, 11),
            &[],
            Withdraw,
        ),
        case(
            "AS_PATH segment without AS numbers",
            update(&[], &[ORIGIN, &[0x40, 0x02, 0x02, 0x02, 0x00], NEXT_HOP].concat(), NLRI),
            (3, 11),
            &[],
            Withdraw,
        ),
        case(
            "AS_PATH segment overruns",
            update(&[], &[ORIGIN, &[0x40, 0x02, 0x06, 0x02, 0x02, 0, 0, 0xfc, 0x58], NEXT_HOP].concat(), NLRI),
            (3, 11),
            &[],
            Withdraw,
        ),
        case(
            "the worst treatment wins",
            update(&[], &[&long_atomic[..], &origin_3[..], AS_PATH, NEXT_HOP].concat(), NLRI),
            (3, 6),
            &origin_3,
            Withdraw,
        ),
    ]
}

#[test]
fn every_malformed_message_maps_to_its_notification_and_treatment() {
    for c in header_and_open_cases().into_iter().chain(update_cases()) {
        let error = decode(&c.input).expect_err(c.name);
        assert_eq!(
            (error.notification.code, error.notification.subcode, &error.notification.data),
            (c.code, c.subcode, &c.data),
            "{}: {error}",
            c.name
        );
        assert_eq!(error.treatment, c.treatment, "{}: {error}", c.name);
        if c.treatment != Treatment::SessionReset {
            assert_eq!(error.message_len, Some(c.input.len()), "{}", c.name);
        }
    }
}

#[test]
fn a_session_skips_an_update_treated_as_withdraw_and_reads_on() {
    let mut stream = update(&[], &[&[0x40, 0x01, 0x01, 0x05][..], AS_PATH, NEXT_HOP].concat(), NLRI);
    stream.extend_from_slice(&message(4, &[]));
    let error = decode(&stream).unwrap_err();
    assert!(!error.resets_session());
    let skip = error.message_len.unwrap();
    assert_eq!(decode(&stream[skip..]).unwrap(), Some((Message::Keepalive, 19)));
}

#[test]
fn duplicate_attributes_other_than_mp_ones_are_dropped() {
    let second_origin = [0x40, 0x01, 0x01, 0x02];
    let (message, _) = decode(&update(&[], &with(&second_origin), NLRI)).unwrap().unwrap();
    let Message::Update(update) = message else { panic!("not an UPDATE: {message:?}") };
    assert_eq!(update.attributes.unwrap().origin, Origin::Igp);
}

#[test]
fn unknown_optional_attributes_and_well_formed_others_are_accepted() {
    let extras = [
        &[0xc0, 0x63, 0x02, 0xaa, 0xbb][..],                  // unknown optional transitive
        &[0x80, 0x04, 0x04, 0, 0, 0, 5],                      // MED
        &[0x40, 0x06, 0x00],                                  // ATOMIC_AGGREGATE
        &[0xe0, 0x07, 0x08, 0, 0, 0xfc, 0x58, 0xc0, 0, 2, 1], // AGGREGATOR, partial
        &[0x80, 0x09, 0x04, 0xc0, 0, 2, 9],                   // ORIGINATOR_ID
        &[0x80, 0x0a, 0x04, 0xc0, 0, 2, 9],                   // CLUSTER_LIST
    ]
    .concat();
    let (message, len) = decode(&update(&[], &with(&extras), NLRI)).unwrap().unwrap();
    let Message::Update(update) = message else { panic!("not an UPDATE: {message:?}") };
    assert_eq!(len, 19 + 4 + 20 + extras.len() + 4);
    assert_eq!(update.announced, vec![super::p("203.0.113.0/24")]);
    assert_eq!(update.attributes.unwrap().as_path, vec![64600]);
}

#[test]
fn partial_input_asks_for_more() {
    let whole = Message::Keepalive.to_bytes().unwrap();
    for cut in 0..whole.len() {
        assert_eq!(decode(&whole[..cut]), Ok(None), "{cut} octets");
    }
    let mut two = whole.clone();
    two.extend_from_slice(&Message::EndOfRib(Family::V6).to_bytes().unwrap());
    assert_eq!(decode(&two), Ok(Some((Message::Keepalive, 19))));
    assert_eq!(decode(&two[19..]), Ok(Some((Message::EndOfRib(Family::V6), 29))));
}

#[test]
fn a_decode_error_reads_as_problem_treatment_and_notification_octets() {
    let mut bad_length = Message::Keepalive.to_bytes().unwrap();
    bad_length[17] = 0x12;
    let e = decode(&bad_length).unwrap_err();
    assert_eq!(
        e.to_string(),
        "message length 18 is not valid for message type 4 (SessionReset, NOTIFICATION 1/2 data 00 12)"
    );
}
