//! Feeds Service annotations to the request parser, structure-aware: keys are mostly the ones FerroLB
//! and MetalLB read (so the fuzzer spends its time on values, aliases and their conflicts), values
//! are mostly address lists, pool names and sharing keys built from pieces. It must never panic, must
//! give the same answer twice, and a request it calls valid asks for at most one address per family.

#![no_main]

use std::collections::BTreeMap;

use ferrolb_core::annotations::parse;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const KEYS: [&str; 9] = [
    "ferrolb.io/address-pool",
    "metallb.io/address-pool",
    "metallb.universe.tf/address-pool",
    "ferrolb.io/loadBalancerIPs",
    "metallb.io/loadBalancerIPs",
    "metallb.universe.tf/loadBalancerIPs",
    "ferrolb.io/allow-shared-ip",
    "metallb.io/allow-shared-ip",
    "metallb.universe.tf/allow-shared-ip",
];

const PIECES: [&str; 14] = [
    "198.51.100.7",
    "2001:db8::7",
    "::ffff:192.0.2.1",
    "192.0.2.300",
    ",",
    " ",
    "",
    "pool-a",
    "Pool_B",
    "-",
    "key",
    "203.0.113.0/24",
    "fe80::1%eth0",
    "0:0:0:0:0:0:0:1",
];

#[derive(Arbitrary, Debug)]
enum Key {
    Known(u8),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    Pieces(Vec<u8>),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    annotations: Vec<(Key, Value)>,
    load_balancer_ip: Option<Value>,
}

fn value(v: &Value) -> String {
    match v {
        Value::Pieces(p) => p.iter().map(|i| PIECES[usize::from(*i) % PIECES.len()]).collect(),
        Value::Text(t) => t.clone(),
    }
}

fuzz_target!(|input: Input| {
    let annotations: BTreeMap<String, String> = input
        .annotations
        .iter()
        .map(|(k, v)| {
            let key = match k {
                Key::Known(i) => KEYS[usize::from(*i) % KEYS.len()].to_owned(),
                Key::Other(s) => s.clone(),
            };
            (key, value(v))
        })
        .collect();
    let lb_ip = input.load_balancer_ip.as_ref().map(value);
    let request = parse(&annotations, lb_ip.as_deref());
    assert_eq!(format!("{request:?}"), format!("{:?}", parse(&annotations, lb_ip.as_deref())));
    if request.is_valid() {
        assert!(request.requested.len() <= 2, "{request:?}");
        let v4 = request.requested.iter().filter(|ip| ip.is_ipv4()).count();
        assert!(v4 <= 1 && request.requested.len() - v4 <= 1, "one per family: {request:?}");
    }
});
