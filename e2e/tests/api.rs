//! The API, as a user meets it at `kubectl apply` against a real apiserver: samples apply,
//! single-object mistakes are refused with a message naming the field, `kubectl explain`
//! teaches, and `kubectl get` answers the first question.

use ferrolb_crds::{BFDProfile, BGPPeer, IPAddressPool, L2Advertisement};
use ferrolb_e2e::manifest;
use ferrolb_lab::{Error, Lab, LabOptions};
use kube::api::{Api, ListParams};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

async fn lab() -> Result<Lab> {
    Ok(Lab::up(LabOptions { nodes: 1, ferrolb: false, ..LabOptions::for_test() }).await?)
}

/// What the apiserver answered when an apply failed.
fn refusal(result: ferrolb_lab::Result<String>) -> String {
    match result {
        Err(Error::Command { output, .. }) => output,
        other => panic!("expected kubectl apply to be refused, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_samples_apply_and_read_back_with_their_defaults() -> Result {
    let mut lab = lab().await?;
    for sample in ["config/samples/layer2.yaml", "config/samples/bgp.yaml"] {
        let out = lab.apply(&manifest(sample))?;
        assert!(out.contains("created"), "{sample}: {out}");
    }
    let client = lab.client().await?;
    let pools = Api::<IPAddressPool>::all(client.clone()).list(&ListParams::default()).await?;
    let names: Vec<_> = pools.items.iter().filter_map(|p| p.metadata.name.clone()).collect();
    assert_eq!(names, ["lab-bgp", "lab-layer2"]);
    assert!(pools.items.iter().all(|p| p.spec.auto_assign && !p.spec.avoid_buggy_ips), "autoAssign defaults to true");

    let peer = Api::<BGPPeer>::all(client.clone()).get("router-v6").await?;
    assert_eq!(peer.spec.peer_port, 179, "peerPort defaults to 179");
    assert_eq!(peer.spec.hold_time.as_deref(), Some("9s"));
    let bfd = Api::<BFDProfile>::all(client.clone()).get("fast").await?;
    assert_eq!((bfd.spec.echo_interval, bfd.spec.minimum_ttl, bfd.spec.receive_interval), (50, 254, 100));
    let l2 = Api::<L2Advertisement>::all(client.clone()).get("lab-layer2").await?;
    assert_eq!(l2.spec.ip_address_pools, ["lab-layer2"]);

    // As in MetalLB, an advertisement may be written without spec: it covers every pool.
    lab.apply("apiVersion: ferrolb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: everything}\n")?;
    let everything = Api::<L2Advertisement>::all(client).get("everything").await?;
    assert!(everything.spec.ip_address_pools.is_empty() && everything.spec.node_selectors.is_empty());
    Ok(())
}

/// Each case: a manifest that one object alone makes invalid, and what the refusal must say.
const REFUSED: &[(&str, &[&str])] = &[
    (
        "kind: IPAddressPool\nmetadata: {name: p}\nspec:\n  addresses: [203.0.113.0/24, nonsense]",
        &["spec.addresses[1]", "must be a CIDR"],
    ),
    (
        "kind: IPAddressPool\nmetadata: {name: p}\nspec:\n  addresses: [198.51.100.250-198.51.100.200]",
        &["spec.addresses[0]", "the first address of a range must not be after the last"],
    ),
    (
        "kind: IPAddressPool\nmetadata: {name: p}\nspec:\n  addresses: ['2001:db8::1-203.0.113.5']",
        &["spec.addresses[0]", "one address family"],
    ),
    ("kind: IPAddressPool\nmetadata: {name: p}\nspec:\n  addresses: []", &["spec.addresses", "at least 1 item"]),
    (
        "kind: BGPPeer\nmetadata: {name: b}\nspec: {myASN: 64600, peerASN: 64512, dynamicASN: external, peerAddress: 198.51.100.1}",
        &["set exactly one of peerASN and dynamicASN"],
    ),
    (
        "kind: BGPPeer\nmetadata: {name: b}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, password: x, passwordSecret: {name: s}}",
        &["password and passwordSecret are mutually exclusive"],
    ),
    (
        "kind: BGPPeer\nmetadata: {name: b}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, holdTime: 2s}",
        &["spec.holdTime", "at least 3s"],
    ),
    (
        "kind: BGPPeer\nmetadata: {name: b}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, holdTime: 9s, keepaliveTime: 10s}",
        &["spec.keepaliveTime", "must not be longer than holdTime"],
    ),
    (
        "kind: BGPPeer\nmetadata: {name: b}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.300}",
        &["spec.peerAddress", "must be an IPv4 or IPv6 address"],
    ),
    (
        "kind: BGPPeer\nmetadata: {name: b}\nspec: {myASN: 64600, peerASN: 64600, peerAddress: 198.51.100.1, ebgpMultiHop: true}",
        &["spec.ebgpMultiHop", "eBGP only"],
    ),
    (
        "kind: BGPPeer\nmetadata: {name: b}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, peerPort: 70000}",
        &["spec.peerPort", "less than or equal to 65535"],
    ),
    (
        "kind: BGPPeer\nmetadata: {name: b}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, routerID: '2001:db8::1'}",
        &["spec.routerID", "must be an IPv4 address"],
    ),
    (
        "kind: BGPAdvertisement\nmetadata: {name: a}\nspec: {aggregationLength: 33}",
        &["spec.aggregationLength", "less than or equal to 32"],
    ),
    (
        "kind: BGPAdvertisement\nmetadata: {name: a}\nspec: {aggregationLength: 24, serviceSelectors: [{matchLabels: {app: web}}]}",
        &["serviceSelectors and aggregation are mutually exclusive"],
    ),
    (
        "kind: BGPPeer\nmetadata: {name: b}\nspec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, connectTime: 1500ms}",
        &["spec.connectTime", "whole number of seconds"],
    ),
    (
        "kind: Community\nmetadata: {name: c}\nspec: {communities: [{name: a, value: '1:2'}, {name: a, value: '1:3'}]}",
        &["spec.communities", "each name may be defined once"],
    ),
    (
        "kind: BFDProfile\nmetadata: {name: f}\nspec: {detectMultiplier: 1}",
        &["spec.detectMultiplier", "greater than or equal to 2"],
    ),
    (
        "kind: L2Advertisement\nmetadata: {name: l}\nspec: {preferredNodeSelectors: [{weight: 101, preference: {}}]}",
        &["spec.preferredNodeSelectors[0].weight", "less than or equal to 100"],
    ),
    (
        "kind: Community\nmetadata: {name: c}\nspec: {communities: [{name: a, value: 'no-export'}]}",
        &["spec.communities[0].value", "must be a community"],
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn apply_refuses_a_broken_object_and_names_the_field() -> Result {
    let lab = lab().await?;
    for (yaml, want) in REFUSED {
        let answer = refusal(lab.apply(&format!("apiVersion: ferrolb.io/v1beta1\n{yaml}\n")));
        for w in *want {
            assert!(answer.contains(w), "applying\n{yaml}\nthe refusal lacks {w:?}:\n{answer}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn graceful_restart_cannot_be_changed_after_creation() -> Result {
    let lab = lab().await?;
    let peer = |gr: bool| {
        format!(
            "apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {{name: gr}}\n\
             spec: {{myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, enableGracefulRestart: {gr}}}\n"
        )
    };
    lab.apply(&peer(false))?;
    let answer = refusal(lab.apply(&peer(true)));
    assert!(answer.contains("spec.enableGracefulRestart") && answer.contains("immutable"), "{answer}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_explains_fields_and_get_answers_the_first_question() -> Result {
    let lab = lab().await?;
    let explained = lab.kubectl(&["explain", "ipaddresspool.spec.addresses"])?;
    assert!(explained.contains("CIDRs") && explained.contains("ranges"), "{explained}");
    let explained = lab.kubectl(&["explain", "bgppeer.spec.holdTime"])?;
    assert!(explained.contains("no keepalives"), "{explained}");

    lab.apply(&manifest("config/samples/bgp.yaml"))?;
    let pools = lab.kubectl(&["get", "ipaddresspools"])?;
    let header = pools.lines().next().unwrap_or_default();
    for column in ["ADDRESSES", "AUTO ASSIGN", "ASSIGNED IPV4", "AVAILABLE IPV4", "ACCEPTED"] {
        assert!(header.contains(column), "ipaddresspools lack {column}: {header}");
    }
    let peers = lab.kubectl(&["get", "bgppeers"])?;
    assert!(peers.contains("198.51.100.1") && peers.contains("64512"), "{peers}");
    let everything = lab.kubectl(&["get", "ferrolb"])?;
    assert!(
        everything.contains("bgppeer.ferrolb.io/router-v4") && everything.contains("ipaddresspool.ferrolb.io/lab-bgp")
    );
    Ok(())
}
