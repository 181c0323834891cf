//! MetalLB's documented configuration examples (tests/fixtures/metallb), migrated.

mod support;

use ferrolb_cli::migrate::{Body, render};
use serde_json::json;
use support::{kinds_and_names, migrate_fixture, notes, object};

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, n)| (k.to_string(), n.to_string())).collect()
}

#[test]
fn ip_address_pools_keep_their_spec_under_ferrolb_io() {
    let out = migrate_fixture("ipaddresspools.yaml");
    assert_eq!(out.len(), 4);
    assert_eq!(
        object(&out, "IPAddressPool", "first-pool"),
        &json!({
            "apiVersion": "ferrolb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "first-pool"},
            "spec": {"addresses": ["198.51.100.200/29", "198.51.100.240-198.51.100.250"]},
        })
    );
    let expensive = object(&out, "IPAddressPool", "expensive");
    assert_eq!(expensive["spec"]["autoAssign"], false);
    assert_eq!(expensive["metadata"], json!({"name": "expensive", "labels": {"cost": "high"}}));
    let v6 = object(&out, "IPAddressPool", "ipv6-pool");
    assert_eq!(
        v6["spec"],
        json!({"addresses": ["2001:db8:100::/120", "2001:db8:1::200-2001:db8:1::2ff"], "avoidBuggyIPs": true})
    );
    let team = object(&out, "IPAddressPool", "team-a-pool");
    assert_eq!(team["metadata"]["annotations"], json!({"owner": "team-a"}));
    assert_eq!(
        team["spec"]["serviceAllocation"],
        json!({
            "priority": 50, "namespaces": ["team-a"], "namespaceSelectors": [{"matchLabels": {"team": "a"}}],
            "serviceSelectors": [{"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}],
        })
    );
    // metallb-system is where MetalLB's objects live: dropping it needs no comment.
    assert!(out.iter().all(|o| o.notes.is_empty()), "{:?}", out.iter().map(|o| &o.notes).collect::<Vec<_>>());
}

#[test]
fn l2_advertisements_keep_pools_node_selectors_and_interfaces() {
    let out = migrate_fixture("l2advertisements.yaml");
    let all = object(&out, "L2Advertisement", "l2-all");
    assert_eq!(
        all,
        &json!({"apiVersion": "ferrolb.io/v1beta1", "kind": "L2Advertisement", "metadata": {"name": "l2-all"}})
    );
    assert_eq!(
        object(&out, "L2Advertisement", "l2-first-pool")["spec"],
        json!({
            "ipAddressPools": ["first-pool"],
            "nodeSelectors": [
                {"matchLabels": {"kubernetes.io/hostname": "node1"}},
                {"matchLabels": {"kubernetes.io/hostname": "node2"}},
            ],
            "interfaces": ["eth0", "eth1"],
        })
    );
    assert_eq!(
        object(&out, "L2Advertisement", "l2-by-label")["spec"]["ipAddressPoolSelectors"][0]["matchExpressions"][0]["values"],
        json!(["high"])
    );
}

#[test]
fn bgp_advertisements_keep_aggregation_local_pref_communities_and_peers() {
    let out = migrate_fixture("bgpadvertisements.yaml");
    assert_eq!(
        object(&out, "BGPAdvertisement", "local")["spec"],
        json!({
            "ipAddressPools": ["bgp-pool"], "aggregationLength": 32, "aggregationLengthV6": 128, "localPref": 100,
            "communities": ["65535:65282", "vpn-only"], "peers": ["router"],
        })
    );
    let external = object(&out, "BGPAdvertisement", "external");
    assert_eq!(external["spec"]["aggregationLength"], 24);
    assert_eq!(external["spec"]["nodeSelectors"], json!([{"matchLabels": {"rack": "frontend"}}]));
}

#[test]
fn bgp_peers_of_both_versions_convert_and_say_what_they_lose() {
    let out = migrate_fixture("bgppeers.yaml");
    assert_eq!(
        object(&out, "BGPPeer", "router")["spec"],
        json!({
            "myASN": 64600, "peerASN": 64512, "peerAddress": "198.51.100.1", "peerPort": 179, "holdTime": "90s",
            "keepaliveTime": "30s", "routerID": "198.51.100.11", "password": "yourPassword", "bfdProfile": "full-bfd",
            "ebgpMultiHop": true,
            "nodeSelectors": [{
                "matchLabels": {"rack": "frontend"},
                "matchExpressions": [{"key": "network-speed", "operator": "NotIn", "values": ["slow"]}],
            }],
        })
    );
    assert!(notes(&out, "BGPPeer", "router").is_empty());

    let secret = object(&out, "BGPPeer", "router-secret");
    assert_eq!(secret["spec"]["passwordSecret"], json!({"name": "bgp-password", "namespace": "metallb-system"}));
    assert_eq!(secret["spec"]["connectTime"], "10s");
    assert_eq!(secret["spec"]["enableGracefulRestart"], true);
    assert_eq!(secret["spec"]["vrf"], "red");
    let secret_notes = notes(&out, "BGPPeer", "router-secret");
    assert_eq!(secret_notes.len(), 1, "graceful restart is carried over without a note: {secret_notes:?}");
    assert!(
        secret_notes[0]
            .starts_with("BGPPeer/router-secret: spec.passwordSecret.namespace is set to \"metallb-system\"")
    );

    let v6 = object(&out, "BGPPeer", "router-v6");
    assert_eq!(
        v6["spec"],
        json!({
            "myASN": 64600, "dynamicASN": "external", "peerAddress": "2001:db8:1::1", "sourceAddress": "2001:db8:1::11",
            "passwordSecret": {"name": "bgp-password-v6", "namespace": "network-secrets"},
            "dualStackAddressFamily": true, "disableMP": true,
        })
    );
    assert!(notes(&out, "BGPPeer", "router-v6").is_empty());

    let old = object(&out, "BGPPeer", "legacy-router");
    assert_eq!(old["apiVersion"], "ferrolb.io/v1beta1");
    assert_eq!(old["spec"]["holdTime"], "3m");
    assert!(old["spec"].get("passwordSecret").is_none());
}

#[test]
fn bfd_profiles_keep_every_timer() {
    let out = migrate_fixture("bfdprofiles.yaml");
    assert_eq!(
        object(&out, "BFDProfile", "testbfdprofile")["spec"],
        json!({"receiveInterval": 380, "transmitInterval": 270})
    );
    assert_eq!(
        object(&out, "BFDProfile", "full-bfd")["spec"],
        json!({
            "receiveInterval": 300, "transmitInterval": 300, "detectMultiplier": 3, "echoInterval": 50,
            "echoMode": true, "passiveMode": true, "minimumTtl": 254,
        })
    );
    assert!(notes(&out, "BFDProfile", "testbfdprofile").is_empty());
    let echo = notes(&out, "BFDProfile", "full-bfd");
    assert_eq!(echo.len(), 1, "{echo:?}");
    assert!(echo[0].starts_with("BFDProfile/full-bfd: spec.echoMode is carried over, but FerroLB refuses"), "{echo:?}");
}

#[test]
fn communities_keep_their_aliases() {
    let out = migrate_fixture("community.yaml");
    assert_eq!(
        object(&out, "Community", "communities")["spec"]["communities"],
        json!([
            {"name": "vpn-only", "value": "1234:1"},
            {"name": "NO_ADVERTISE", "value": "65535:65282"},
            {"name": "large-example", "value": "large:123:456:789"},
        ])
    );
}

#[test]
fn the_legacy_config_map_becomes_pools_advertisements_peers_profiles_and_a_community() {
    let out = migrate_fixture("legacy-configmap.yaml");
    assert_eq!(
        kinds_and_names(&out),
        pairs(&[
            ("IPAddressPool", "default"),
            ("L2Advertisement", "default"),
            ("IPAddressPool", "bgp-pool"),
            ("BGPAdvertisement", "bgp-pool-1"),
            ("BGPAdvertisement", "bgp-pool-2"),
            ("IPAddressPool", "bgp-simple"),
            ("BGPAdvertisement", "bgp-simple"),
            ("BGPPeer", "peer-198-51-100-1"),
            ("BGPPeer", "peer-2001-db8-1--1"),
            ("BFDProfile", "full-bfd"),
            ("Community", "bgp-communities"),
        ])
    );
    assert!(out.iter().all(|o| o.origin.kind == "ConfigMap" && o.origin.name == "config"));
    assert_eq!(
        object(&out, "IPAddressPool", "bgp-pool")["spec"],
        json!({"addresses": ["203.0.113.0/24"], "autoAssign": false, "avoidBuggyIPs": true})
    );
    assert_eq!(object(&out, "L2Advertisement", "default")["spec"], json!({"ipAddressPools": ["default"]}));
    assert_eq!(
        object(&out, "BGPAdvertisement", "bgp-pool-1")["spec"],
        json!({"aggregationLength": 32, "localPref": 100, "communities": ["no-advertise"], "ipAddressPools": ["bgp-pool"]})
    );
    assert_eq!(
        object(&out, "BGPAdvertisement", "bgp-pool-2")["spec"],
        json!({"aggregationLength": 24, "aggregationLengthV6": 120, "communities": ["65535:65281"], "ipAddressPools": ["bgp-pool"]})
    );
    assert_eq!(object(&out, "BGPAdvertisement", "bgp-simple")["spec"], json!({"ipAddressPools": ["bgp-simple"]}));
    assert_eq!(
        object(&out, "BGPPeer", "peer-198-51-100-1")["spec"],
        json!({
            "myASN": 64600, "peerASN": 64512, "peerAddress": "198.51.100.1", "peerPort": 179, "holdTime": "90s",
            "keepaliveTime": "30s", "routerID": "198.51.100.11", "sourceAddress": "198.51.100.11",
            "password": "yourPassword", "bfdProfile": "full-bfd", "ebgpMultiHop": true,
            "nodeSelectors": [{
                "matchLabels": {"rack": "frontend"},
                "matchExpressions": [{"key": "network-speed", "operator": "NotIn", "values": ["slow"]}],
            }],
        })
    );
    assert_eq!(
        object(&out, "BFDProfile", "full-bfd")["spec"],
        json!({
            "receiveInterval": 300, "transmitInterval": 300, "detectMultiplier": 3, "echoInterval": 50,
            "echoMode": true, "passiveMode": false, "minimumTtl": 254,
        })
    );
    let renamed = notes(&out, "BFDProfile", "full-bfd");
    assert_eq!(renamed.len(), 2, "{renamed:?}");
    assert_eq!(renamed[0], "BFDProfile/full-bfd: the profile \"full_bfd\" is named \"full-bfd\", a valid object name");
    assert!(renamed[1].contains("spec.echoMode is carried over"), "{renamed:?}");
    assert_eq!(
        object(&out, "Community", "bgp-communities")["spec"]["communities"],
        json!([{"name": "no-advertise", "value": "65535:65282"}, {"name": "vpn-only", "value": "1234:1"}])
    );
}

#[test]
fn deprecated_address_pools_become_pools_and_advertisements() {
    let out = migrate_fixture("addresspools-deprecated.yaml");
    assert_eq!(
        kinds_and_names(&out),
        pairs(&[
            ("IPAddressPool", "lan"),
            ("L2Advertisement", "lan"),
            ("IPAddressPool", "wan"),
            ("BGPAdvertisement", "wan-1"),
            ("BGPAdvertisement", "wan-2"),
            ("IPAddressPool", "wan-default"),
            ("BGPAdvertisement", "wan-default"),
        ])
    );
    assert_eq!(
        object(&out, "IPAddressPool", "lan")["spec"],
        json!({"addresses": ["198.51.100.200-198.51.100.250"], "autoAssign": true})
    );
    assert_eq!(object(&out, "L2Advertisement", "lan")["spec"], json!({"ipAddressPools": ["lan"]}));
    assert_eq!(
        object(&out, "IPAddressPool", "wan")["spec"],
        json!({"addresses": ["203.0.113.0/24"], "avoidBuggyIPs": true})
    );
    assert_eq!(
        object(&out, "BGPAdvertisement", "wan-1")["spec"],
        json!({"aggregationLength": 32, "localPref": 100, "communities": ["65535:65282"], "ipAddressPools": ["wan"]})
    );
    assert_eq!(
        object(&out, "BGPAdvertisement", "wan-2")["spec"],
        json!({"aggregationLength": 24, "aggregationLengthV6": 120, "ipAddressPools": ["wan"]})
    );
    assert_eq!(object(&out, "BGPAdvertisement", "wan-default")["spec"], json!({"ipAddressPools": ["wan-default"]}));
    assert!(out.iter().all(|o| o.origin.kind == "AddressPool"));
}

#[test]
fn a_whole_manifest_passes_other_objects_through_as_written() {
    let out = migrate_fixture("manifest.yaml");
    let kinds: Vec<_> = out.iter().map(|o| o.origin.kind.as_str()).collect();
    assert_eq!(kinds, ["Namespace", "Secret", "IPAddressPool", "L2Advertisement", "Service"]);
    let Body::Raw(service) = &out[4].body else { panic!("the Service passes through as text") };
    assert!(service.contains("# FerroLB reads MetalLB's annotations as aliases of its own."), "comments are kept");
    assert!(service.contains("metallb.universe.tf/address-pool: web-pool"));
    assert_eq!(object(&out, "IPAddressPool", "web-pool")["apiVersion"], "ferrolb.io/v1beta1");
    let text = render(&out).expect("renders");
    assert_eq!(text.matches("\n---\n").count(), 4);
    assert!(text.starts_with("# from: Namespace/metallb-system (manifest.yaml#1)\n"));
}

#[test]
fn a_kubectl_list_is_migrated_item_by_item_without_server_fields() {
    let out = migrate_fixture("kubectl-get-list.yaml");
    assert_eq!(out.len(), 3);
    assert_eq!(
        object(&out, "IPAddressPool", "first-pool"),
        &json!({
            "apiVersion": "ferrolb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "first-pool"},
            "spec": {"addresses": ["198.51.100.200/29"], "autoAssign": true, "avoidBuggyIPs": false},
        })
    );
    let peer = object(&out, "BGPPeer", "router");
    assert_eq!(peer["metadata"], json!({"name": "router"}));
    assert_eq!(peer["spec"]["connectTime"], "2m0s");
    assert_eq!(peer["spec"]["disableMP"], false);
    assert!(notes(&out, "BGPPeer", "router").is_empty());
    assert_eq!(out[1].origin.to_string(), "BGPPeer/router (kubectl-get-list.yaml#1 items[1])");
    // MetalLB's status objects are not carried over: only a comment remains.
    assert_eq!(out[2].body, Body::Nothing);
    assert!(out[2].notes[0].text.contains("ServiceL2Status is not carried over"));
}

/// Every field of MetalLB v0.16's BGPPeer is carried over under its own name, and FerroLB's
/// types and validation read it: the working ones accepted, the refused ones refused with the
/// field named (and the migration saying so beforehand).
#[test]
fn every_bgp_peer_field_of_metallb_0_16_is_kept() {
    let full = "apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: full, namespace: metallb-system}\n\
        spec:\n  myASN: 64600\n  peerASN: 64512\n  localASN: 65010\n  peerAddress: 198.51.100.1\n\
        \x20 sourceAddress: 198.51.100.11\n  peerPort: 1179\n  holdTime: 9s\n  keepaliveTime: 3s\n  connectTime: 5s\n\
        \x20 routerID: 198.51.100.11\n  password: pw\n  ebgpMultiHop: true\n  vrf: red\n\
        \x20 dualStackAddressFamily: true\n  disableMP: true\n\
        ---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: unnumbered, namespace: metallb-system}\n\
        spec: {myASN: 64600, peerASN: 64512, interface: eth1, enableGracefulRestart: true}\n";
    let out = support::migrate(&[("peers.yaml", full)]).unwrap();
    let migrated = object(&out, "BGPPeer", "full");
    assert_eq!(
        migrated["spec"],
        json!({
            "myASN": 64600, "peerASN": 64512, "localASN": 65010, "peerAddress": "198.51.100.1",
            "sourceAddress": "198.51.100.11", "peerPort": 1179, "holdTime": "9s", "keepaliveTime": "3s",
            "connectTime": "5s", "routerID": "198.51.100.11", "password": "pw", "ebgpMultiHop": true, "vrf": "red",
            "dualStackAddressFamily": true, "disableMP": true,
        })
    );
    assert!(notes(&out, "BGPPeer", "full").is_empty(), "{:?}", notes(&out, "BGPPeer", "full"));
    let unnumbered = object(&out, "BGPPeer", "unnumbered");
    assert_eq!(unnumbered["spec"]["interface"], "eth1");
    assert_eq!(unnumbered["spec"]["enableGracefulRestart"], true);
    let said = notes(&out, "BGPPeer", "unnumbered");
    assert!(said.is_empty(), "BGP unnumbered and graceful restart both work: {said:?}");

    // FerroLB's own types read every field, and validation gives each its verdict.
    let peers: Vec<ferrolb_crds::BGPPeer> = [migrated, unnumbered]
        .into_iter()
        .map(|o| serde_json::from_value(o.clone()).expect("a ferrolb.io BGPPeer"))
        .collect();
    let spec = &peers[0].spec;
    assert_eq!((spec.local_asn, spec.dual_stack_address_family, spec.disable_mp), (Some(65010), true, true));
    assert_eq!(spec.vrf.as_deref(), Some("red"));
    let objects = ferrolb_core::config::Objects { peers, ..Default::default() };
    let (config, verdicts) = ferrolb_core::config::Config::from_objects(&objects);
    let peer = &config.peers["full"];
    assert_eq!((peer.session_asn(), peer.dual_stack, peer.vrf.as_deref()), (65010, true, Some("red")));
    let warned = verdicts.warnings(&ferrolb_core::config::ObjectRef::new(ferrolb_core::config::Kind::BGPPeer, "full"));
    assert_eq!(warned.iter().map(|w| w.field.as_str()).collect::<Vec<_>>(), ["spec.disableMP"]);
    let refused =
        verdicts.problems(&ferrolb_core::config::ObjectRef::new(ferrolb_core::config::Kind::BGPPeer, "unnumbered"));
    assert!(refused.is_empty(), "{refused:?}");
    assert!(config.peers["unnumbered"].graceful_restart);
}
