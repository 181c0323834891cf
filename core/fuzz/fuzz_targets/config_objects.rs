//! Feeds configuration objects (pools, advertisements, peers, BFD profiles, communities) to the
//! decoder and the validator, structure-aware: each object is a JSON map whose keys are mostly the
//! CRDs' field names and whose values mostly addresses, ASNs, durations, selectors and names the
//! kinds take, nested at random, so the fuzzer reaches validation rather than stopping at JSON
//! shape. Decoding and validating must never panic, must give the same verdicts twice, and every
//! problem must name the field it is about.

#![no_main]

use ferrolb_core::config_objects::{Raw, decode};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const FIELDS: [&str; 56] = [
    "addresses",
    "autoAssign",
    "avoidBuggyIPs",
    "serviceAllocation",
    "priority",
    "namespaces",
    "namespaceSelectors",
    "serviceSelectors",
    "matchLabels",
    "matchExpressions",
    "key",
    "operator",
    "values",
    "ipAddressPools",
    "ipAddressPoolSelectors",
    "nodeSelectors",
    "interfaces",
    "aggregationLength",
    "aggregationLengthV6",
    "localPref",
    "communities",
    "peers",
    "myASN",
    "peerASN",
    "peerAddress",
    "sourceAddress",
    "peerPort",
    "holdTime",
    "keepaliveTime",
    "connectTime",
    "routerID",
    "password",
    "passwordSecret",
    "name",
    "namespace",
    "bfdProfile",
    "enableGracefulRestart",
    "ebgpMultiHop",
    "vrf",
    "dynamicASN",
    "localASN",
    "interface",
    "disableMP",
    "dualStackAddressFamily",
    "receiveInterval",
    "transmitInterval",
    "detectMultiplier",
    "echoInterval",
    "echoMode",
    "passiveMode",
    "minimumTtl",
    "value",
    "nodeSelector",
    "node",
    "weight",
    "preference",
];

const WORDS: [&str; 32] = [
    "198.51.100.0/24",
    "198.51.100.10-198.51.100.20",
    "2001:db8::/64",
    "2001:db8::1-2001:db8::ff",
    "203.0.113.1",
    "2001:db8::1",
    "192.0.2.0/33",
    "64512",
    "4200000000",
    "10s",
    "90s",
    "0s",
    "1h",
    "3",
    "In",
    "NotIn",
    "Exists",
    "DoesNotExist",
    "large:64512:1:2",
    "64512:100",
    "no-advertise",
    "eth0",
    "default",
    "ferrolb-system",
    "pool-a",
    "peer-a",
    "bfd-a",
    "external",
    "internal",
    "red",
    "",
    "-1",
];

#[derive(Arbitrary, Debug)]
enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Word(u8),
    Text(String),
    List(Vec<Val>),
    Map(Vec<(u8, Val)>),
}

#[derive(Arbitrary, Debug)]
struct Object {
    name: u8,
    namespace: bool,
    spec: Vec<(u8, Val)>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    pools: Vec<Object>,
    l2: Vec<Object>,
    bgp: Vec<Object>,
    peers: Vec<Object>,
    bfd: Vec<Object>,
    communities: Vec<Object>,
}

fn json(v: &Val, depth: u8) -> Value {
    match v {
        Val::Null => Value::Null,
        Val::Bool(b) => json!(b),
        Val::Int(i) => json!(i),
        Val::Word(w) => json!(WORDS[usize::from(*w) % WORDS.len()]),
        Val::Text(t) => json!(t),
        Val::List(items) if depth < 4 => Value::Array(items.iter().map(|i| json(i, depth + 1)).collect()),
        Val::Map(fields) if depth < 4 => map(fields, depth + 1),
        Val::List(_) | Val::Map(_) => Value::Null,
    }
}

fn map(fields: &[(u8, Val)], depth: u8) -> Value {
    let mut out = Map::new();
    for (key, value) in fields {
        out.insert(FIELDS[usize::from(*key) % FIELDS.len()].to_owned(), json(value, depth));
    }
    Value::Object(out)
}

fn objects(kind: &str, list: &[Object]) -> Vec<Value> {
    list.iter()
        .map(|o| {
            let namespace = if o.namespace { "ferrolb-system" } else { "other" };
            json!({
                "apiVersion": "ferrolb.io/v1beta1",
                "kind": kind,
                "metadata": {"name": format!("{}-{}", kind.to_lowercase(), o.name % 4), "namespace": namespace},
                "spec": map(&o.spec, 0),
            })
        })
        .collect()
}

fuzz_target!(|input: Input| {
    let raw = Raw {
        pools: objects("IPAddressPool", &input.pools),
        l2_advertisements: objects("L2Advertisement", &input.l2),
        bgp_advertisements: objects("BGPAdvertisement", &input.bgp),
        peers: objects("BGPPeer", &input.peers),
        bfd_profiles: objects("BFDProfile", &input.bfd),
        communities: objects("Community", &input.communities),
    };
    let (config, verdicts) = decode(&raw, "ferrolb-system").validate();
    let (again, verdicts_again) = decode(&raw, "ferrolb-system").validate();
    assert_eq!(verdicts, verdicts_again, "validation is not deterministic");
    assert!(config == again, "validation is not deterministic");
    for problem in verdicts.problems.values().flatten() {
        assert!(!problem.field.is_empty(), "a problem names no field: {problem:?}");
    }
});
