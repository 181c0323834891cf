//! MetalLB's deprecated `AddressPool` (`metallb.io/v1beta1`), which held both the addresses and
//! how they are announced, to an IPAddressPool plus the advertisements that announce it.

use serde_json::{Map, Value, json};

use super::error::ConvertError;
use super::kinds::{BGP_ADVERTISEMENT, IP_ADDRESS_POOL, L2_ADVERTISEMENT};
use super::meta;
use super::{Note, Produced};

/// AddressPool `spec` fields that move to the IPAddressPool as they are.
const POOL_FIELDS: &[&str] = &["addresses", "autoAssign", "avoidBuggyIPs"];
/// Fields of a `spec.bgpAdvertisements` entry, all of which a BGPAdvertisement has.
const ADVERTISEMENT_FIELDS: &[&str] = &["aggregationLength", "aggregationLengthV6", "localPref", "communities"];

/// Converts a MetalLB AddressPool into an IPAddressPool of the same name, and an
/// L2Advertisement (protocol `layer2`) or BGPAdvertisements (protocol `bgp`) naming it.
pub(crate) fn convert(object: &Map<String, Value>) -> Result<Vec<Produced>, ConvertError> {
    let carried = meta::carry(IP_ADDRESS_POOL.kind, object)?;
    let name = carried.name.clone();
    let pool_subject = format!("{}/{name}", IP_ADDRESS_POOL.kind);
    let mut pool_notes = carried.notes;
    let empty = Map::new();
    let spec = match object.get("spec") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(spec)) => spec,
        Some(other) => return Err(ConvertError::wrong_type("spec", "a mapping", other)),
    };

    let mut pool_spec = Map::new();
    for (field, value) in spec {
        if POOL_FIELDS.contains(&field.as_str()) {
            pool_spec.insert(field.clone(), value.clone());
        } else if !["protocol", "bgpAdvertisements"].contains(&field.as_str()) {
            pool_notes.push(Note::new(
                &pool_subject,
                format!("spec.{field} is not carried over: MetalLB's AddressPool has no such field"),
            ));
        }
    }

    let advertisements = match spec.get("bgpAdvertisements") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => return Err(ConvertError::wrong_type("spec.bgpAdvertisements", "a list", other)),
    };
    // Every object made from this one loses its namespace, and says so.
    let namespace_note = |kind: &str, name: &str| {
        let namespace = carried.namespace.as_deref()?;
        meta::namespace_note(&format!("{kind}/{name}"), kind, namespace)
    };
    let protocol = match spec.get("protocol") {
        None | Some(Value::Null) => None,
        Some(Value::String(protocol)) => Some(protocol.as_str()),
        Some(other) => return Err(ConvertError::wrong_type("spec.protocol", "a string", other)),
    };
    let pools = json!([name]);
    let mut produced = Vec::new();
    match protocol {
        Some("layer2") => {
            if !advertisements.is_empty() {
                pool_notes.push(Note::new(
                    &pool_subject,
                    "spec.bgpAdvertisements is not carried over: the pool's protocol is layer2",
                ));
            }
            let mut l2 = Map::new();
            l2.insert("ipAddressPools".to_string(), pools);
            let object = meta::ferrolb_object(L2_ADVERTISEMENT.kind, carried.metadata.clone(), Some(l2));
            let notes = namespace_note(L2_ADVERTISEMENT.kind, &name).into_iter().collect();
            produced.push(Produced { object: Some(object), notes });
        }
        Some("bgp") => {
            // No entry means one advertisement with MetalLB's defaults.
            let entries = if advertisements.is_empty() { vec![json!({})] } else { advertisements };
            let several = entries.len() > 1;
            for (i, entry) in entries.iter().enumerate() {
                let Value::Object(entry) = entry else {
                    return Err(ConvertError::wrong_type(format!("spec.bgpAdvertisements[{i}]"), "a mapping", entry));
                };
                let advertisement_name = if several { format!("{name}-{}", i + 1) } else { name.clone() };
                let subject = format!("{}/{advertisement_name}", BGP_ADVERTISEMENT.kind);
                let mut notes: Vec<Note> =
                    namespace_note(BGP_ADVERTISEMENT.kind, &advertisement_name).into_iter().collect();
                let mut bgp = Map::new();
                for (field, value) in entry {
                    if ADVERTISEMENT_FIELDS.contains(&field.as_str()) {
                        bgp.insert(field.clone(), value.clone());
                    } else {
                        notes.push(Note::new(
                            &subject,
                            format!("spec.bgpAdvertisements[{i}].{field} is not carried over: no such field"),
                        ));
                    }
                }
                bgp.insert("ipAddressPools".to_string(), pools.clone());
                let mut metadata = carried.metadata.clone();
                metadata.insert("name".to_string(), Value::String(advertisement_name));
                let object = meta::ferrolb_object(BGP_ADVERTISEMENT.kind, metadata, Some(bgp));
                produced.push(Produced { object: Some(object), notes });
            }
        }
        protocol => pool_notes.push(Note::new(
            &pool_subject,
            format!(
                "spec.protocol is {}, neither layer2 nor bgp: no advertisement was made, so the pool's addresses \
                 are assigned but not announced",
                protocol.map_or_else(|| "missing".to_string(), |p| format!("{p:?}"))
            ),
        )),
    }
    let pool = meta::ferrolb_object(IP_ADDRESS_POOL.kind, carried.metadata, Some(pool_spec));
    produced.insert(0, Produced { object: Some(pool), notes: pool_notes });
    Ok(produced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert_value(object: Value) -> Vec<(Value, Vec<String>)> {
        let Value::Object(map) = object else { panic!("test objects are mappings") };
        convert(&map)
            .expect("converts")
            .into_iter()
            .map(|p| (p.object.expect("an object"), p.notes.iter().map(ToString::to_string).collect()))
            .collect()
    }

    #[test]
    fn a_layer2_pool_becomes_a_pool_and_an_l2_advertisement() {
        let out = convert_value(json!({
            "metadata": {"name": "lan", "namespace": "metallb-system", "labels": {"a": "b"}},
            "spec": {"protocol": "layer2", "addresses": ["192.0.2.10-192.0.2.20"], "autoAssign": false},
        }));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0["kind"], "IPAddressPool");
        assert_eq!(out[0].0["spec"], json!({"addresses": ["192.0.2.10-192.0.2.20"], "autoAssign": false}));
        assert_eq!(out[1].0["kind"], "L2Advertisement");
        assert_eq!(out[1].0["metadata"], json!({"name": "lan", "labels": {"a": "b"}}));
        assert_eq!(out[1].0["spec"], json!({"ipAddressPools": ["lan"]}));
    }

    #[test]
    fn a_bgp_pool_gets_one_advertisement_per_entry_or_a_default_one() {
        let out = convert_value(json!({
            "metadata": {"name": "wan"},
            "spec": {"protocol": "bgp", "addresses": ["203.0.113.0/24"], "bgpAdvertisements": [
                {"aggregationLength": 32, "localPref": 100, "communities": ["65535:65282"]},
                {"aggregationLength": 24, "bogus": 1},
            ]},
        }));
        let names: Vec<_> = out.iter().map(|(o, _)| o["metadata"]["name"].clone()).collect();
        assert_eq!(names, ["wan", "wan-1", "wan-2"]);
        assert_eq!(
            out[1].0["spec"],
            json!({"aggregationLength": 32, "localPref": 100, "communities": ["65535:65282"], "ipAddressPools": ["wan"]})
        );
        assert!(out[2].1[0].contains("spec.bgpAdvertisements[1].bogus is not carried over"));

        let out = convert_value(json!({"metadata": {"name": "w"}, "spec": {"protocol": "bgp", "addresses": []}}));
        assert_eq!(out[1].0["kind"], "BGPAdvertisement");
        assert_eq!(out[1].0["spec"], json!({"ipAddressPools": ["w"]}));
    }

    #[test]
    fn every_object_made_says_the_namespace_is_dropped() {
        let out = convert_value(json!({
            "metadata": {"name": "p", "namespace": "lb"},
            "spec": {"protocol": "bgp", "addresses": [], "bgpAdvertisements": [{}, {}]},
        }));
        assert_eq!(out.len(), 3);
        for (object, notes) in &out {
            let subject = format!(
                "{}/{}",
                object["kind"].as_str().expect("a kind"),
                object["metadata"]["name"].as_str().expect("a name")
            );
            assert_eq!(notes.len(), 1, "{notes:?}");
            assert!(notes[0].starts_with(&format!("{subject}: metadata.namespace \"lb\" is dropped")), "{notes:?}");
        }
    }

    #[test]
    fn an_unknown_protocol_is_noted() {
        let out = convert_value(json!({"metadata": {"name": "x"}, "spec": {"protocol": "ospf"}}));
        assert_eq!(out.len(), 1);
        assert!(out[0].1[0].contains("spec.protocol is \"ospf\", neither layer2 nor bgp"));
    }
}
