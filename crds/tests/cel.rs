//! The CEL rules of every kind, evaluated locally (kube's `cel` feature). The same rules run
//! in the apiserver; e2e tests apply the same cases to a real one.

use ferrolb_crds::generate::crds;
use kube::core::cel::Validator;
use serde_json::{Value, json};

/// The CEL failures (field path and message) of `spec` as an object of `kind`.
fn failures(kind: &str, spec: Value, old: Option<Value>) -> Vec<String> {
    let crd = crds().into_iter().find(|c| c.spec.names.kind == kind).expect("kind exists");
    let schema = serde_json::to_value(
        crd.spec.versions[0].schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref()).expect("schema"),
    )
    .expect("schema serializes");
    let wrap = |spec: Value| json!({"apiVersion": "ferrolb.io/v1beta1", "kind": kind, "metadata": {"name": "x"}, "spec": spec});
    let old = old.map(wrap);
    match Validator::new().validate(&schema, &wrap(spec), old.as_ref()) {
        Ok(()) => vec![],
        Err(errs) => errs.into_vec().into_iter().map(|e| format!("{}: {}", e.field_path, e.message)).collect(),
    }
}

fn assert_cases(kind: &str, cases: &[(&str, Value, Option<&str>)]) {
    for (name, spec, want) in cases {
        let got = failures(kind, spec.clone(), None);
        match want {
            None => assert!(got.is_empty(), "{kind} {name}: expected no CEL failure, got {got:?}"),
            Some(w) => assert!(got.iter().any(|g| g.contains(w)), "{kind} {name}: expected {w:?} in {got:?}"),
        }
    }
}

#[test]
fn pool_addresses() {
    let pool = |a: &[&str]| json!({"addresses": a});
    assert_cases(
        "IPAddressPool",
        &[
            ("v4 cidr", pool(&["203.0.113.0/24"]), None),
            ("v6 cidr", pool(&["2001:db8:100::/120"]), None),
            ("v4 range", pool(&["198.51.100.200-198.51.100.250"]), None),
            ("range with spaces", pool(&["198.51.100.1 - 198.51.100.5"]), None),
            ("single address range", pool(&["198.51.100.7-198.51.100.7"]), None),
            ("v6 range", pool(&["2001:db8:1::200-2001:db8:1::2ff"]), None),
            ("host bits set, as MetalLB accepts", pool(&["203.0.113.5/24"]), None),
            ("bare address", pool(&["203.0.113.5"]), Some("must be a CIDR")),
            ("garbage", pool(&["nonsense"]), Some("spec.addresses[0]: must be a CIDR")),
            ("mixed families", pool(&["2001:db8::1-203.0.113.5"]), Some("must be a CIDR")),
            ("three parts", pool(&["1.1.1.1-1.1.1.2-1.1.1.3"]), Some("must be a CIDR")),
            ("reversed v4 range", pool(&["198.51.100.250-198.51.100.200"]), Some("must not be after the last")),
            ("reversed in the third octet", pool(&["198.51.101.0-198.51.100.255"]), Some("must not be after the last")),
            ("second entry bad", pool(&["203.0.113.0/24", "x"]), Some("spec.addresses[1]")),
            ("prefix too long", pool(&["203.0.113.0/33"]), Some("must be a CIDR")),
        ],
    );
}

#[test]
fn pool_priority() {
    assert_cases(
        "IPAddressPool",
        &[
            ("priority 0", json!({"addresses": ["203.0.113.0/24"], "serviceAllocation": {"priority": 0}}), None),
            (
                "negative priority",
                json!({"addresses": ["203.0.113.0/24"], "serviceAllocation": {"priority": -1}}),
                Some("must be 0 or more"),
            ),
        ],
    );
}

fn peer(extra: Value) -> Value {
    let mut base = json!({"myASN": 64600, "peerASN": 64512, "peerAddress": "198.51.100.1"});
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            if v.is_null() {
                b.remove(k);
            } else {
                b.insert(k.clone(), v.clone());
            }
        }
    }
    base
}

#[test]
fn peer_rules() {
    assert_cases(
        "BGPPeer",
        &[
            ("minimal", peer(json!({})), None),
            ("v6 peer", peer(json!({"peerAddress": "2001:db8:1::1", "sourceAddress": "2001:db8:1::11"})), None),
            ("dynamic asn", peer(json!({"peerASN": null, "dynamicASN": "external"})), None),
            (
                "both asn kinds",
                peer(json!({"dynamicASN": "external"})),
                Some("set exactly one of peerASN and dynamicASN"),
            ),
            ("no asn", peer(json!({"peerASN": null})), Some("set exactly one")),
            // BGP unnumbered: stored (and accepted by the controller).
            ("interface instead of an address", peer(json!({"peerAddress": null, "interface": "eth1"})), None),
            (
                "interface and an address",
                peer(json!({"interface": "eth1"})),
                Some("set exactly one of peerAddress and interface"),
            ),
            (
                "neither interface nor address",
                peer(json!({"peerAddress": null})),
                Some("set exactly one of peerAddress and interface"),
            ),
            (
                "interface with a source address",
                peer(json!({"peerAddress": null, "interface": "eth1", "sourceAddress": "198.51.100.11"})),
                None,
            ),
            ("localASN", peer(json!({"localASN": 65010})), None),
            ("dual stack and disableMP", peer(json!({"dualStackAddressFamily": true, "disableMP": true})), None),
            (
                "bad address",
                peer(json!({"peerAddress": "198.51.100.1x"})),
                Some("spec.peerAddress: must be an IPv4 or IPv6"),
            ),
            ("bad source", peer(json!({"sourceAddress": "here"})), Some("spec.sourceAddress: must be an IPv4 or IPv6")),
            (
                "source of the other family",
                peer(json!({"sourceAddress": "2001:db8:1::11"})),
                Some("same address family"),
            ),
            ("hold 0", peer(json!({"holdTime": "0s"})), None),
            ("hold 500ms, whole seconds 0 as MetalLB reads it", peer(json!({"holdTime": "500ms"})), None),
            ("hold 3s", peer(json!({"holdTime": "3s", "keepaliveTime": "1s"})), None),
            ("hold 90s", peer(json!({"holdTime": "1m30s"})), None),
            (
                "hold 2s",
                peer(json!({"holdTime": "2s"})),
                Some("spec.holdTime: must be under 1s (0: no keepalives) or at least 3s"),
            ),
            (
                "keepalive above hold",
                peer(json!({"holdTime": "9s", "keepaliveTime": "10s"})),
                Some("keepaliveTime must not be longer"),
            ),
            ("keepalive equal to hold", peer(json!({"holdTime": "9s", "keepaliveTime": "9s"})), None),
            ("connect 0s", peer(json!({"connectTime": "0s"})), Some("spec.connectTime: must be between 1s and 65535s")),
            ("connect 10s", peer(json!({"connectTime": "10s"})), None),
            ("connect 1.5s", peer(json!({"connectTime": "1.5s"})), Some("spec.connectTime: must be a whole number")),
            ("router id v6", peer(json!({"routerID": "2001:db8::1"})), Some("spec.routerID: must be an IPv4 address")),
            ("router id v4", peer(json!({"routerID": "192.0.2.1"})), None),
            (
                "password and secret",
                peer(json!({"password": "a", "passwordSecret": {"name": "s"}})),
                Some("mutually exclusive"),
            ),
            ("secret alone", peer(json!({"passwordSecret": {"name": "s", "namespace": "ferrolb-system"}})), None),
            ("multihop ebgp", peer(json!({"ebgpMultiHop": true})), None),
            (
                "multihop ibgp",
                peer(json!({"ebgpMultiHop": true, "peerASN": 64600})),
                Some("ebgpMultiHop applies to eBGP only"),
            ),
            (
                "multihop dynamic internal, as MetalLB accepts it",
                peer(json!({"ebgpMultiHop": true, "peerASN": null, "dynamicASN": "internal"})),
                None,
            ),
        ],
    );
}

#[test]
fn graceful_restart_is_immutable() {
    let old = peer(json!({"enableGracefulRestart": false}));
    let changed = failures("BGPPeer", peer(json!({"enableGracefulRestart": true})), Some(old.clone()));
    assert!(changed.iter().any(|f| f.contains("spec.enableGracefulRestart: is immutable")), "{changed:?}");
    let same = failures("BGPPeer", peer(json!({"enableGracefulRestart": false, "holdTime": "30s"})), Some(old));
    assert!(same.is_empty(), "{same:?}");
}

#[test]
fn advertisement_communities_are_any_text_to_the_schema() {
    // Any text may name a Community alias (as in MetalLB), so only FerroLB's validation, which
    // knows the aliases, can refuse a malformed value.
    let adv = |c: &[&str]| json!({"communities": c});
    assert_cases(
        "BGPAdvertisement",
        &[
            ("standard", adv(&["65535:65282"]), None),
            ("large", adv(&["large:64512:1:4294967295"]), None),
            ("alias", adv(&["no-advertise"]), None),
            ("above 16 bits, or an alias of that name", adv(&["70000:1"]), None),
        ],
    );
}

#[test]
fn service_selectors_exclude_aggregation() {
    let adv = |v: Value| v;
    let selectors = json!([{"matchLabels": {"app": "web"}}]);
    assert_cases(
        "BGPAdvertisement",
        &[
            ("selectors alone", adv(json!({"serviceSelectors": selectors.clone()})), None),
            ("aggregation alone", adv(json!({"aggregationLength": 24})), None),
            (
                "selectors with default lengths written out",
                adv(
                    json!({"serviceSelectors": selectors.clone(), "aggregationLength": 32, "aggregationLengthV6": 128}),
                ),
                None,
            ),
            (
                "selectors with aggregation",
                adv(
                    json!({"serviceSelectors": selectors.clone(), "aggregationLength": 24, "aggregationLengthV6": 128}),
                ),
                Some("serviceSelectors and aggregation are mutually exclusive"),
            ),
            (
                "selectors with IPv6 aggregation",
                adv(json!({"serviceSelectors": selectors, "aggregationLength": 32, "aggregationLengthV6": 64})),
                Some("serviceSelectors and aggregation are mutually exclusive"),
            ),
        ],
    );
}

#[test]
fn community_aliases() {
    let c = |v: Value| json!({"communities": v});
    assert_cases(
        "Community",
        &[
            ("one", c(json!([{"name": "no-export", "value": "65535:65281"}])), None),
            ("large value", c(json!([{"name": "mine", "value": "large:64600:1:2"}])), None),
            (
                "duplicate names",
                c(json!([{"name": "a", "value": "1:2"}, {"name": "a", "value": "1:3"}])),
                Some("each name may be defined once"),
            ),
            ("alias as value", c(json!([{"name": "a", "value": "no-export"}])), Some("spec.communities[0].value")),
        ],
    );
}
