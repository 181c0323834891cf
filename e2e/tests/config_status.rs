//! Mistakes between objects, as the user sees them: the later object gets Accepted=False
//! within 2 s, naming the field and the other object, with an Event; fixing it flips it back.

use std::time::Duration;

use ferrolb_core::config::{Kind, ObjectRef, Objects, Reason};
use ferrolb_crds::{BGPPeer, IPAddressPool, L2Advertisement};
use ferrolb_e2e::wait_accepted;
use ferrolb_lab::{Lab, LabOptions};
use serde_json::Value;

// MetalLB's refusals, as core's tests state them (`core/tests/metallb_parity/cases.rs`).
#[allow(dead_code)]
#[path = "../../core/tests/metallb_parity/cases.rs"]
mod cases;
#[allow(clippy::unwrap_used)]
#[path = "../../core/tests/config_builders/mod.rs"]
mod config_builders;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const WITHIN: Duration = Duration::from_secs(2);

async fn lab_with_controller() -> Result<Lab> {
    let lab = Lab::up(LabOptions { nodes: 1, ..LabOptions::for_test() }).await?;
    assert!(
        lab.record().daemons.iter().any(|d| d.name == "ferrolb-controller"),
        "the lab did not start ferrolb-controller: build it (cargo build --workspace)"
    );
    // Right after its CRDs are installed the apiserver may deliver watch events late (about
    // a second, seen on busy machines): let one object go through before timing the 2 s.
    let mut lab = lab;
    lab.apply("apiVersion: ferrolb.io/v1beta1\nkind: Community\nmetadata: {name: warm-up}\nspec: {}\n")?;
    ferrolb_e2e::wait_accepted::<ferrolb_crds::Community>(&mut lab, "warm-up", "True", Duration::from_secs(15)).await?;
    lab.kubectl(&["delete", "community", "warm-up"])?;
    Ok(lab)
}

fn pool(name: &str, addresses: &str) -> String {
    format!(
        "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {{name: {name}}}\nspec: {{addresses: [{addresses}]}}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overlapping_pool_is_flagged_and_recovers_when_fixed() -> Result {
    let mut lab = lab_with_controller().await?;
    lab.apply(&pool("first", "203.0.113.0/24"))?;
    let (c, took) = wait_accepted::<IPAddressPool>(&mut lab, "first", "True", WITHIN).await?;
    assert_eq!(c.reason, "Accepted");
    eprintln!("first pool accepted after {took:?}");

    lab.apply(&pool("second", "'198.51.100.0/28', '203.0.113.128/25'"))?;
    let (c, took) = wait_accepted::<IPAddressPool>(&mut lab, "second", "False", WITHIN).await?;
    eprintln!("overlapping pool refused after {took:?}: {}", c.message);
    assert_eq!(c.reason, "AddressesOverlap");
    assert!(c.message.contains("spec.addresses[1]") && c.message.contains("first"), "{}", c.message);
    // The pool that was there first keeps working.
    wait_accepted::<IPAddressPool>(&mut lab, "first", "True", WITHIN).await?;
    let events =
        lab.kubectl(&["get", "events", "-A", "--field-selector", "involvedObject.name=second", "-o", "wide"])?;
    assert!(events.contains("AddressesOverlap") && events.contains("Warning"), "{events}");

    lab.apply(&pool("second", "'198.51.100.0/28'"))?;
    let (_, took) = wait_accepted::<IPAddressPool>(&mut lab, "second", "True", WITHIN).await?;
    eprintln!("fixed pool accepted again after {took:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn references_to_missing_objects_are_flagged_until_they_exist() -> Result {
    let mut lab = lab_with_controller().await?;
    lab.apply("apiVersion: ferrolb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2}\nspec: {ipAddressPools: [later]}\n")?;
    let (c, _) = wait_accepted::<L2Advertisement>(&mut lab, "l2", "False", WITHIN).await?;
    assert_eq!(c.reason, "ReferenceNotFound");
    assert!(c.message.contains("spec.ipAddressPools[0]") && c.message.contains("later"), "{}", c.message);
    lab.apply(&pool("later", "198.51.100.200-198.51.100.250"))?;
    wait_accepted::<L2Advertisement>(&mut lab, "l2", "True", WITHIN).await?;

    // A peer whose password Secret does not exist yet.
    lab.apply(
        "apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router}\n\
         spec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, passwordSecret: {name: bgp-auth}}\n",
    )?;
    let (c, _) = wait_accepted::<BGPPeer>(&mut lab, "router", "False", WITHIN).await?;
    assert!(c.message.contains("spec.passwordSecret") && c.message.contains("bgp-auth"), "{}", c.message);
    lab.apply(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: bgp-auth, namespace: ferrolb-system}\n\
         type: kubernetes.io/basic-auth\nstringData: {password: s3cr3t}\n",
    )?;
    wait_accepted::<BGPPeer>(&mut lab, "router", "True", WITHIN).await?;
    Ok(())
}

/// One mistake between objects: what exists first, the object that collides with it or
/// misses something, how it must be flagged, and the change that fixes it.
struct Case {
    name: &'static str,
    first: &'static str,
    then: &'static str,
    refused: (&'static str, &'static str),
    reason: &'static str,
    says: &'static [&'static str],
    fix: &'static str,
}

const PEER: &str =
    "kind: BGPPeer\nmetadata: {name: a-router}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1}\n";
const POOL24: &str = "kind: IPAddressPool\nmetadata: {name: a-pool}\nspec: {addresses: [203.0.113.0/24]}\n";

const CASES: &[Case] = &[
    Case {
        name: "advertisement to a peer that does not exist",
        first: POOL24,
        then: "kind: BGPAdvertisement\nmetadata: {name: b-adv}\nspec: {peers: [a-router]}\n",
        refused: ("BGPAdvertisement", "b-adv"),
        reason: "ReferenceNotFound",
        says: &["spec.peers[0]", "a-router"],
        fix: PEER,
    },
    Case {
        name: "community alias that no Community defines",
        first: POOL24,
        then: "kind: BGPAdvertisement\nmetadata: {name: b-adv}\nspec: {communities: [keep-local]}\n",
        refused: ("BGPAdvertisement", "b-adv"),
        reason: "ReferenceNotFound",
        says: &["spec.communities[0]", "keep-local"],
        fix: "kind: Community\nmetadata: {name: a-aliases}\nspec: {communities: [{name: keep-local, value: '65535:65282'}]}\n",
    },
    Case {
        name: "peer naming a BFD profile that does not exist",
        first: POOL24,
        then: "kind: BGPPeer\nmetadata: {name: b-router}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, bfdProfile: fast}\n",
        refused: ("BGPPeer", "b-router"),
        reason: "ReferenceNotFound",
        says: &["spec.bfdProfile", "fast"],
        fix: "kind: BFDProfile\nmetadata: {name: fast}\nspec: {receiveInterval: 100}\n",
    },
    Case {
        name: "peer whose password Secret is not basic-auth",
        first: "apiVersion: v1\nkind: Secret\nmetadata: {name: opaque, namespace: ferrolb-system}\nstringData: {password: x}\n",
        then: "kind: BGPPeer\nmetadata: {name: b-router}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, passwordSecret: {name: opaque}}\n",
        refused: ("BGPPeer", "b-router"),
        // The controller reads only basic-auth Secrets (all it needs), so the message says
        // the Secret is missing as one.
        reason: "ReferenceNotFound",
        says: &["spec.passwordSecret", "ferrolb-system/opaque", "kubernetes.io/basic-auth"],
        fix: "kind: BGPPeer\nmetadata: {name: b-router}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, password: x}\n",
    },
    Case {
        name: "two peers for one session",
        first: PEER,
        then: "kind: BGPPeer\nmetadata: {name: b-router}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1}\n",
        refused: ("BGPPeer", "b-router"),
        reason: "Duplicate",
        says: &["a-router"],
        fix: "kind: BGPPeer\nmetadata: {name: b-router}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: '2001:db8:1::1'}\n",
    },
    Case {
        name: "one community name, two values",
        first: "kind: Community\nmetadata: {name: a-aliases}\nspec: {communities: [{name: mine, value: '64600:1'}]}\n",
        then: "kind: Community\nmetadata: {name: b-aliases}\nspec: {communities: [{name: mine, value: '64600:2'}]}\n",
        refused: ("Community", "b-aliases"),
        reason: "Duplicate",
        says: &["spec.communities[0]", "a-aliases"],
        fix: "kind: Community\nmetadata: {name: b-aliases}\nspec: {communities: [{name: yours, value: '64600:2'}]}\n",
    },
    Case {
        name: "aggregation wider than the pool",
        first: POOL24,
        then: "kind: BGPAdvertisement\nmetadata: {name: b-adv}\nspec: {ipAddressPools: [a-pool], aggregationLength: 16}\n",
        refused: ("BGPAdvertisement", "b-adv"),
        reason: "AggregationTooShort",
        says: &["spec.aggregationLength", "a-pool"],
        fix: "kind: BGPAdvertisement\nmetadata: {name: b-adv}\nspec: {ipAddressPools: [a-pool], aggregationLength: 24}\n",
    },
    Case {
        name: "two localPrefs for one pool and peer",
        first: "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: a-pool}\nspec: {addresses: [203.0.113.0/24]}\n---\n\
                apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a-adv}\nspec: {localPref: 100}\n",
        then: "kind: BGPAdvertisement\nmetadata: {name: b-adv}\nspec: {localPref: 200}\n",
        refused: ("BGPAdvertisement", "b-adv"),
        reason: "Conflict",
        says: &["spec.localPref", "a-adv"],
        fix: "kind: BGPAdvertisement\nmetadata: {name: b-adv}\nspec: {localPref: 100}\n",
    },
    Case {
        name: "IPv6 range written backwards (beyond what CEL checks)",
        first: POOL24,
        then: "kind: IPAddressPool\nmetadata: {name: b-pool}\nspec: {addresses: ['2001:db8:1::2ff-2001:db8:1::200']}\n",
        refused: ("IPAddressPool", "b-pool"),
        reason: "InvalidField",
        says: &["spec.addresses[0]"],
        fix: "kind: IPAddressPool\nmetadata: {name: b-pool}\nspec: {addresses: ['2001:db8:1::200-2001:db8:1::2ff']}\n",
    },
];

fn with_api_version(yaml: &str) -> String {
    if yaml.starts_with("apiVersion") { yaml.to_owned() } else { format!("apiVersion: ferrolb.io/v1beta1\n{yaml}") }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_mistake_between_objects_is_flagged_on_the_right_object_and_cleared_by_the_fix() -> Result {
    let mut lab = lab_with_controller().await?;
    let mut slowest = Duration::ZERO;
    for case in CASES {
        lab.apply(&with_api_version(case.first))?;
        lab.apply(&with_api_version(case.then))?;
        let (kind, name) = case.refused;
        let (c, took) = ferrolb_e2e::wait_accepted_kind(&mut lab, kind, name, "False", WITHIN)
            .await
            .map_err(|e| format!("{}: {e}", case.name))?;
        slowest = slowest.max(took);
        assert_eq!(c.reason, case.reason, "{}: {}", case.name, c.message);
        for s in case.says {
            assert!(c.message.contains(s), "{}: the message lacks {s:?}: {}", case.name, c.message);
        }
        lab.apply(&with_api_version(case.fix))?;
        let (_, took) = ferrolb_e2e::wait_accepted_kind(&mut lab, kind, name, "True", WITHIN)
            .await
            .map_err(|e| format!("{} (after the fix): {e}", case.name))?;
        slowest = slowest.max(took);
        lab.kubectl(&["delete", "--wait", "ferrolb", "--all"])?;
        lab.kubectl(&["delete", "--ignore-not-found", "-n", "ferrolb-system", "secret", "--all"])?;
    }
    eprintln!("slowest verdict: {slowest:?}");
    Ok(())
}

/// Each object of `objects` as the apiserver takes it, oldest first (as the case orders them),
/// `judged` last; each with its reference. Secrets become basic-auth (or other) Secrets in
/// FerroLB's namespace.
fn manifests(objects: &Objects, judged: &ObjectRef) -> Vec<(ObjectRef, Value)> {
    let mut out: Vec<(Option<String>, ObjectRef, Value)> = Vec::new();
    // Secrets sort first (an empty timestamp): they exist before the peers naming them.
    let mut add = |kind: Kind, value: Value| {
        let name = value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_owned();
        let created = match kind {
            Kind::Secret => Some(String::new()),
            _ => value.pointer("/metadata/creationTimestamp").and_then(Value::as_str).map(str::to_owned),
        };
        let mut value = value;
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("creationTimestamp");
        }
        out.push((created, ObjectRef::new(kind, name), value));
    };
    for o in &objects.pools {
        add(Kind::IPAddressPool, json(o));
    }
    for o in &objects.l2_advertisements {
        add(Kind::L2Advertisement, json(o));
    }
    for o in &objects.bgp_advertisements {
        add(Kind::BGPAdvertisement, json(o));
    }
    for o in &objects.peers {
        add(Kind::BGPPeer, json(o));
    }
    for o in &objects.bfd_profiles {
        add(Kind::BFDProfile, json(o));
    }
    for o in &objects.communities {
        add(Kind::Community, json(o));
    }
    for s in &objects.secrets {
        // A basic-auth Secret needs a username or a password to be stored.
        let mut data = serde_json::Map::from_iter([("username".to_owned(), Value::String("ferrolb".into()))]);
        if let Some(password) = &s.password {
            data.insert("password".into(), Value::String(password.clone()));
        }
        let secret = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": s.name, "namespace": s.namespace}, "type": s.type_, "stringData": data});
        add(Kind::Secret, secret);
    }
    // Oldest first; no timestamp (never stored) after every one; the judged object last.
    out.sort_by(|a, b| ((&a.1 == judged), a.0.is_none(), &a.0).cmp(&((&b.1 == judged), b.0.is_none(), &b.0)));
    out.into_iter().map(|(_, reference, value)| (reference, value)).collect()
}

/// A configuration object as JSON, with its apiVersion and kind.
fn json<T: k8s_openapi::serde::Serialize + kube::Resource<DynamicType = ()>>(object: &T) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), T::api_version(&()).into());
        map.insert("kind".into(), T::kind(&()).into());
    }
    value
}

#[tokio::test(flavor = "multi_thread")]
async fn what_metallb_refuses_is_refused_on_the_right_object_within_2s() -> Result {
    let mut lab = lab_with_controller().await?;
    let default_nodes = config_builders::objects(vec![]).nodes;
    let (mut at_apply, mut by_condition, mut slowest) = (0, 0, Duration::ZERO);
    for case in cases::cases() {
        // Cases about other Nodes than the lab's node1 are for the pure tests.
        if case.metallb != cases::MetalLb::Refuses || case.objects.nodes != default_nodes {
            continue;
        }
        let cases::Ferro::Refused(field, reason) = &case.ferro else { continue };
        let judged = &case.judged;
        for (reference, manifest) in manifests(&case.objects, judged) {
            match lab.apply(&manifest.to_string()) {
                Ok(_) => {}
                Err(error) if &reference == judged => {
                    // Refused at apply by the schema: kubectl names the object and the field.
                    let said = error.to_string();
                    let leaf = field.rsplit('.').next().unwrap_or(field);
                    let leaf = leaf.split('[').next().unwrap_or(leaf);
                    assert!(said.contains(&judged.name) && said.contains(leaf), "{}: {said}", case.name);
                    at_apply += 1;
                }
                Err(error) => return Err(format!("{}: {reference} was refused at apply: {error}", case.name).into()),
            }
        }
        if lab.kubectl(&["get", &judged.kind.to_string().to_lowercase(), &judged.name]).is_ok() {
            let (c, took) =
                ferrolb_e2e::wait_accepted_kind(&mut lab, &judged.kind.to_string(), &judged.name, "False", WITHIN)
                    .await
                    .map_err(|e| format!("{}: {e}", case.name))?;
            slowest = slowest.max(took);
            // The controller reads only basic-auth Secrets (all it needs), so a Secret of another
            // type reads as missing as one: refused all the same, with the type named.
            let secret_of_another_type =
                *reason == Reason::SecretInvalid && c.message.contains("does not exist as a Secret of type");
            if !secret_of_another_type {
                assert_eq!(c.reason, reason.to_string(), "{}: {}", case.name, c.message);
            }
            assert!(c.message.contains(field), "{}: the message lacks {field}: {}", case.name, c.message);
            by_condition += 1;
        }
        lab.kubectl(&["delete", "--wait", "ferrolb", "--all"])?;
        lab.kubectl(&["delete", "--ignore-not-found", "-n", "ferrolb-system", "secret", "--all"])?;
    }
    eprintln!(
        "MetalLB's refusals: {at_apply} refused at apply, {by_condition} by the Accepted condition; slowest {slowest:?}"
    );
    assert!(at_apply + by_condition >= 40, "most refused cases ran");
    Ok(())
}

/// BGPPeer fields FerroLB does not implement are refused on the object, naming the field and
/// saying so (never accepted and ignored); disableMP is accepted with its warning; interface
/// (BGP unnumbered) is accepted, but not with a BFD profile; enableGracefulRestart is accepted.
#[tokio::test(flavor = "multi_thread")]
async fn unsupported_bgp_peer_fields_are_refused_and_disable_mp_is_warned() -> Result {
    let mut lab = lab_with_controller().await?;
    let peer = |name: &str, fields: &str| {
        format!(
            "apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {{name: {name}}}\n\
             spec: {{myASN: 64600, peerASN: 64512, {fields}}}\n"
        )
    };
    lab.apply(&peer("gr", "peerAddress: 198.51.100.1, enableGracefulRestart: true"))?;
    lab.apply(&peer("unnumbered", "interface: eth1"))?;
    lab.apply(&peer("unnumbered-bfd", "interface: eth2, bfdProfile: fast"))?;
    lab.apply(&peer("old", "peerAddress: 198.51.100.2, disableMP: true, localASN: 65010"))?;
    wait_accepted::<BGPPeer>(&mut lab, "gr", "True", WITHIN).await?;
    wait_accepted::<BGPPeer>(&mut lab, "unnumbered", "True", WITHIN).await?;
    let (c, _) = wait_accepted::<BGPPeer>(&mut lab, "unnumbered-bfd", "False", WITHIN).await?;
    assert_eq!(c.reason.as_str(), "NotSupported");
    assert!(
        c.message.starts_with("spec.bfdProfile: BFD with interface (BGP unnumbered) is not supported yet"),
        "{}",
        c.message
    );
    let events =
        lab.kubectl(&["get", "events", "-A", "--field-selector", "involvedObject.name=unnumbered-bfd", "-o", "wide"])?;
    assert!(events.contains("NotSupported") && events.contains("Warning"), "{events}");
    let (c, _) = wait_accepted::<BGPPeer>(&mut lab, "old", "True", WITHIN).await?;
    assert_eq!(c.reason, "DeprecatedField");
    assert!(c.message.contains("spec.disableMP: is deprecated and has no effect"), "{}", c.message);
    Ok(())
}
