//! The cases around the documented examples: namespaces and name collisions, errors, odd legacy
//! configurations, and output that reads back as what was converted.

mod support;

use ferrolb_cli::migrate::{Body, MigrateError, render};
use ferrolb_cli::yaml::{parse_document, split_documents};
use serde_json::{Value, json};
use support::{fixture, kinds_and_names, migrate, notes, object};

fn pool(namespace: &str, name: &str) -> String {
    format!(
        "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: {name}\n  namespace: {namespace}\n\
         spec:\n  addresses: [192.0.2.0/28]\n"
    )
}

fn errors(inputs: &[(&str, &str)]) -> Vec<String> {
    migrate(inputs).expect_err("does not migrate").iter().map(ToString::to_string).collect()
}

#[test]
fn a_namespace_other_than_metallb_system_gets_one_comment() {
    let out = migrate(&[("a.yaml", &pool("lb", "p"))]).expect("migrates");
    let notes = notes(&out, "IPAddressPool", "p");
    assert_eq!(notes.len(), 1);
    assert!(notes[0].starts_with(
        "IPAddressPool/p: metadata.namespace \"lb\" is dropped: FerroLB's IPAddressPool is cluster-scoped"
    ));
    assert!(object(&out, "IPAddressPool", "p")["metadata"].get("namespace").is_none());
}

#[test]
fn objects_of_two_namespaces_that_become_one_name_are_both_noted() {
    let (a, b) = (pool("metallb-system", "shared"), pool("lb-2", "shared"));
    let out = migrate(&[("a.yaml", &a), ("b.yaml", &b)]).expect("migrates");
    let first = &out[0].notes;
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].text.contains("also made from IPAddressPool/shared (b.yaml#1), namespace lb-2"), "{}", first[0]);
    let second: Vec<_> = out[1].notes.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(second.len(), 2, "{second:?}");
    assert!(second[1].contains("also made from IPAddressPool/shared (a.yaml#1), namespace metallb-system"));
}

#[test]
fn a_syntax_error_names_the_file_and_document_and_other_documents_still_report() {
    let text = format!(
        "{}---\nkind: [\n---\n{}---\napiVersion: metallb.io/v1beta1\nkind: BGPPeer\nspec: 3\n",
        pool("metallb-system", "a"),
        pool("metallb-system", "b")
    );
    let errors = errors(&[("in.yaml", &text)]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("in.yaml: document 2 is not valid YAML: line 9, column 7: unclosed bracket"),
        "{}",
        errors[0]
    );
    assert_eq!(errors[1], "in.yaml: document 4 (BGPPeer/<unnamed>): spec should be a mapping, not a number");
}

#[test]
fn a_duplicate_key_is_an_error_not_a_silent_choice() {
    let errors = errors(&[("d.yaml", "kind: IPAddressPool\nkind: BGPPeer\n")]);
    assert!(errors[0].starts_with("d.yaml: document 1 is not valid YAML: line 2"), "{errors:?}");
}

#[test]
fn output_reads_back_as_the_converted_objects_and_migrates_to_itself() {
    let inputs: Vec<(&str, String)> = ["bgppeers.yaml", "legacy-configmap.yaml", "community.yaml"]
        .into_iter()
        .map(|name| (name, fixture(name)))
        .collect();
    let borrowed: Vec<(&str, &str)> = inputs.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let out = migrate(&borrowed).expect("migrates");
    let text = render(&out).expect("renders");
    let read_back: Vec<Value> =
        split_documents(&text).iter().map(|d| parse_document(d).expect("output parses").expect("not empty")).collect();
    let objects: Vec<Value> = out.iter().filter_map(|o| o.object().cloned()).collect();
    assert_eq!(read_back, objects);

    let again = migrate(&[("out.yaml", &text)]).expect("migrates again");
    assert!(again.iter().all(|o| matches!(o.body, Body::Raw(_)) && o.notes.is_empty()), "FerroLB objects pass through");
}

#[test]
fn a_config_map_that_is_not_metallbs_passes_through() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: web\ndata:\n  config: |\n    \
                listen: 8080\n";
    let out = migrate(&[("cm.yaml", text)]).expect("migrates");
    assert_eq!(out.len(), 1);
    assert!(matches!(&out[0].body, Body::Raw(raw) if raw == text));
}

#[test]
fn metallbs_config_map_with_broken_yaml_is_an_error() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n  namespace: metallb-system\ndata:\n  \
                config: \"peers: [\"\n";
    let errors = errors(&[("cm.yaml", text)]);
    assert!(errors[0].starts_with("cm.yaml: document 1 (ConfigMap/config): data.config is not valid YAML: line 1"));
}

fn legacy(config: &str) -> Result<Vec<ferrolb_cli::migrate::Output>, Vec<MigrateError>> {
    let indented: String = config.lines().map(|l| format!("    {l}\n")).collect();
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n  namespace: metallb-system\ndata:\n  config: |\n{indented}"
    );
    migrate(&[("cm.yaml", &text)])
}

#[test]
fn legacy_names_that_are_not_object_names_are_renamed_and_unknown_keys_noted() {
    let out = legacy(
        "address-pools:\n- name: Prod_Pool\n  protocol: layer2\n  addresses: [192.0.2.0/28]\n  colour: red\n\
         - name: prod-pool\n  protocol: arp\n  addresses: [192.0.2.16/28]\nlog-level: debug\n",
    )
    .expect("migrates");
    assert_eq!(
        kinds_and_names(&out),
        [("IPAddressPool", "prod-pool"), ("L2Advertisement", "prod-pool"), ("IPAddressPool", "prod-pool-2")]
            .map(|(k, n)| (k.to_string(), n.to_string()))
    );
    let first = notes(&out, "IPAddressPool", "prod-pool");
    assert_eq!(first[0], "data.config: log-level is not carried over: MetalLB's configuration has no such key");
    assert!(first[1].contains("the pool \"Prod_Pool\" is named \"prod-pool\""), "{first:?}");
    assert!(first[2].contains("data.config address-pools[0].colour is not carried over"), "{first:?}");
    let second = notes(&out, "IPAddressPool", "prod-pool-2");
    assert!(
        second.iter().any(|n| n.contains("address-pools[1].protocol is \"arp\", neither layer2 nor bgp")),
        "{second:?}"
    );
}

#[test]
fn legacy_peers_need_an_address_and_the_right_types() {
    let errors: Vec<String> =
        legacy("peers:\n- peer-asn: 64512\n").expect_err("no address").iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "cm.yaml: document 1 (ConfigMap/config): data.config: peers[0].peer-address is missing; every peer needs the \
          address to connect to"
        ]
    );
    let errors = legacy("peers: {a: 1}\n").expect_err("peers is a mapping");
    assert!(errors[0].to_string().ends_with("data.config: peers should be a list, not a mapping"));
    let errors = legacy("bgp-communities:\n  x: [1]\n").expect_err("community value is a list");
    assert!(errors[0].to_string().ends_with("data.config: bgp-communities.x should be a string, not a list"));
}

#[test]
fn two_legacy_peers_on_one_address_get_distinct_names() {
    let out = legacy(
        "peers:\n- {peer-address: 192.0.2.1, peer-asn: 1, my-asn: 2, node-selectors: [{match-labels: {a: b}}]}\n\
         - {peer-address: 192.0.2.1, peer-asn: 1, my-asn: 2, node-selectors: [{match-labels: {a: c}}]}\n",
    )
    .expect("migrates");
    assert_eq!(
        object(&out, "BGPPeer", "peer-192-0-2-1-2")["spec"]["nodeSelectors"],
        json!([{"matchLabels": {"a": "c"}}])
    );
}

#[test]
fn unknown_metallb_kinds_leave_a_comment_and_crds_pass_through_with_one() {
    let text = "apiVersion: metallb.io/v1beta1\nkind: Frobnicator\nmetadata:\n  name: f\n---\n\
                apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  \
                name: bgppeers.metallb.io\nspec:\n  group: metallb.io\n";
    let out = migrate(&[("x.yaml", text)]).expect("migrates");
    assert_eq!(out[0].body, Body::Nothing);
    assert_eq!(
        out[0].notes[0].to_string(),
        "Frobnicator/f: metallb.io/v1beta1 Frobnicator is not carried over: FerroLB has no such kind"
    );
    assert!(matches!(out[1].body, Body::Raw(_)));
    assert!(out[1].notes[0].text.contains("this is MetalLB's API"));
}

#[test]
fn a_layer2_address_pool_with_bgp_advertisements_says_they_are_dropped() {
    let text = "apiVersion: metallb.io/v1beta1\nkind: AddressPool\nmetadata:\n  name: l\nspec:\n  protocol: layer2\n  \
                addresses: [192.0.2.0/28]\n  bgpAdvertisements: [{localPref: 1}]\n";
    let out = migrate(&[("x.yaml", text)]).expect("migrates");
    assert_eq!(
        notes(&out, "IPAddressPool", "l"),
        ["IPAddressPool/l: spec.bgpAdvertisements is not carried over: the pool's protocol is layer2"]
    );
    assert_eq!(kinds_and_names(&out).len(), 2);
}
