//! The ConfigMap MetalLB read before v0.13 (`metallb-system/config`, its YAML in `data.config`)
//! to FerroLB objects: an IPAddressPool and its advertisements per address pool, a BGPPeer per
//! peer, a BFDProfile per profile, and one Community holding the `bgp-communities` aliases.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::error::ConvertError;
use super::kinds::{BFD_PROFILE, BGP_ADVERTISEMENT, BGP_PEER, COMMUNITY, IP_ADDRESS_POOL, L2_ADVERTISEMENT};
use super::kinds::{METALLB_GROUP, METALLB_NAMESPACE};
use super::meta::{self, Names};
use super::{Note, Produced};
use crate::yaml::{RawDocument, parse_document};

/// The top-level keys of MetalLB's legacy configuration.
const CONFIG_KEYS: &[&str] = &["peers", "address-pools", "bgp-communities", "bfd-profiles"];

/// A peer's keys and the BGPPeer fields they become; `node-selectors` is converted apart.
const PEER_FIELDS: &[(&str, &str)] = &[
    ("my-asn", "myASN"),
    ("peer-asn", "peerASN"),
    ("peer-address", "peerAddress"),
    ("source-address", "sourceAddress"),
    ("peer-port", "peerPort"),
    ("hold-time", "holdTime"),
    ("keepalive-time", "keepaliveTime"),
    ("router-id", "routerID"),
    ("password", "password"),
    ("bfd-profile", "bfdProfile"),
    ("ebgp-multihop", "ebgpMultiHop"),
];
/// An address pool's keys that become IPAddressPool fields.
const POOL_FIELDS: &[(&str, &str)] =
    &[("addresses", "addresses"), ("auto-assign", "autoAssign"), ("avoid-buggy-ips", "avoidBuggyIPs")];
/// A `bgp-advertisements` entry's keys and the BGPAdvertisement fields they become.
const ADVERTISEMENT_FIELDS: &[(&str, &str)] = &[
    ("aggregation-length", "aggregationLength"),
    ("aggregation-length-v6", "aggregationLengthV6"),
    ("localpref", "localPref"),
    ("communities", "communities"),
];
/// A BFD profile's keys and the BFDProfile fields they become.
const BFD_FIELDS: &[(&str, &str)] = &[
    ("receive-interval", "receiveInterval"),
    ("transmit-interval", "transmitInterval"),
    ("detect-multiplier", "detectMultiplier"),
    ("echo-interval", "echoInterval"),
    ("echo-mode", "echoMode"),
    ("passive-mode", "passiveMode"),
    ("minimum-ttl", "minimumTtl"),
];
/// A node selector's keys and the label selector fields they become.
const SELECTOR_FIELDS: &[(&str, &str)] = &[("match-labels", "matchLabels"), ("match-expressions", "matchExpressions")];

/// Where legacy paths start, in messages and notes.
const CONFIG: &str = "data.config";

/// If `object` is MetalLB's legacy ConfigMap, its parsed configuration; a ConfigMap whose
/// `data.config` holds none of MetalLB's keys is someone else's and is not touched. A
/// `data.config` that is not YAML is an error only in a ConfigMap that looks like MetalLB's.
pub(crate) fn recognize(object: &Map<String, Value>) -> Option<Result<Map<String, Value>, ConvertError>> {
    if object.get("kind").and_then(Value::as_str) != Some("ConfigMap") {
        return None;
    }
    let text = object.get("data")?.get("config")?.as_str()?;
    match parse_document(&RawDocument { index: 1, start_line: 1, text }) {
        Ok(Some(Value::Object(config))) if CONFIG_KEYS.iter().any(|key| config.contains_key(*key)) => Some(Ok(config)),
        Ok(_) => None,
        Err(problem) => {
            let metadata = object.get("metadata");
            let field = |key: &str| metadata.and_then(|m| m.get(key)).and_then(Value::as_str);
            let looks_like_metallb = field("namespace") == Some(METALLB_NAMESPACE) || field("name") == Some("config");
            looks_like_metallb.then(|| Err(ConvertError::Syntax { path: CONFIG.to_string(), problem }))
        }
    }
}

/// Converts MetalLB's legacy configuration into FerroLB objects.
pub(crate) fn convert(config: &Map<String, Value>) -> Result<Vec<Produced>, ConvertError> {
    let mut names = Names::default();
    let mut top_notes = Vec::new();
    for key in config.keys() {
        if !CONFIG_KEYS.contains(&key.as_str()) {
            top_notes
                .push(Note::new(CONFIG, format!("{key} is not carried over: MetalLB's configuration has no such key")));
        }
    }
    let (profiles, renamed_profiles) = bfd_profiles(list(config, "bfd-profiles", CONFIG)?, &mut names)?;
    let mut produced = Vec::new();
    for (i, pool) in list(config, "address-pools", CONFIG)?.iter().enumerate() {
        produced.extend(address_pool(pool, &format!("address-pools[{i}]"), &mut names)?);
    }
    for (i, peer) in list(config, "peers", CONFIG)?.iter().enumerate() {
        produced.push(bgp_peer(peer, &format!("peers[{i}]"), &renamed_profiles, &mut names)?);
    }
    produced.extend(profiles);
    if let Some(community) = communities(config)? {
        produced.push(community);
    }
    match produced.first_mut() {
        Some(first) => {
            top_notes.append(&mut first.notes);
            first.notes = top_notes;
        }
        None => produced.push(Produced { object: None, notes: top_notes }),
    }
    Ok(produced)
}

/// One address pool: an IPAddressPool, and the advertisements its protocol calls for.
fn address_pool(pool: &Value, path: &str, names: &mut Names) -> Result<Vec<Produced>, ConvertError> {
    let pool = mapping(pool, path)?;
    let old_name = string(pool, "name", path)?.ok_or_else(|| missing(path, "name", "it names the IPAddressPool"))?;
    let name = names.claim(IP_ADDRESS_POOL.kind, &meta::object_name(old_name, "pool"));
    let subject = format!("{}/{name}", IP_ADDRESS_POOL.kind);
    let mut notes = Vec::new();
    if name != old_name {
        notes.push(Note::new(
            &subject,
            format!(
                "the pool {old_name:?} is named {name:?}, a valid object name: Services that ask for it by name \
                 ({METALLB_GROUP}/address-pool or metallb.universe.tf/address-pool) must use the new name"
            ),
        ));
    }
    let spec = rename(pool, POOL_FIELDS, &["name", "protocol", "bgp-advertisements"], path, &subject, &mut notes);
    let mut produced = vec![Produced { object: Some(object(IP_ADDRESS_POOL.kind, &name, spec)), notes }];
    let pools = json!([name]);
    let advertisements = list(pool, "bgp-advertisements", path)?;
    match string(pool, "protocol", path)? {
        Some("layer2") => {
            let mut spec = Map::new();
            spec.insert("ipAddressPools".to_string(), pools);
            let l2_name = names.claim(L2_ADVERTISEMENT.kind, &name);
            produced.push(Produced { object: Some(object(L2_ADVERTISEMENT.kind, &l2_name, spec)), notes: Vec::new() });
            if !advertisements.is_empty() {
                produced[0].notes.push(Note::new(
                    &subject,
                    format!("{path}.bgp-advertisements is not carried over: the pool's protocol is layer2"),
                ));
            }
        }
        Some("bgp") => {
            // No entry means one advertisement with MetalLB's defaults.
            let entries = if advertisements.is_empty() { vec![json!({})] } else { advertisements.clone() };
            for (i, entry) in entries.iter().enumerate() {
                let entry_path = format!("{path}.bgp-advertisements[{i}]");
                let base = if entries.len() > 1 { format!("{name}-{}", i + 1) } else { name.clone() };
                let advertisement_name = names.claim(BGP_ADVERTISEMENT.kind, &base);
                let subject = format!("{}/{advertisement_name}", BGP_ADVERTISEMENT.kind);
                let mut notes = Vec::new();
                let entry = mapping(entry, &entry_path)?;
                let mut spec = rename(entry, ADVERTISEMENT_FIELDS, &[], &entry_path, &subject, &mut notes);
                spec.insert("ipAddressPools".to_string(), pools.clone());
                let object = object(BGP_ADVERTISEMENT.kind, &advertisement_name, spec);
                produced.push(Produced { object: Some(object), notes });
            }
        }
        protocol => produced[0].notes.push(Note::new(
            &subject,
            format!(
                "{path}.protocol is {}, neither layer2 nor bgp: no advertisement was made, so the pool's \
                 addresses are assigned but not announced",
                protocol.map_or_else(|| "missing".to_string(), |p| format!("{p:?}"))
            ),
        )),
    }
    Ok(produced)
}

/// One peer: a BGPPeer named after its address.
fn bgp_peer(
    peer: &Value,
    path: &str,
    renamed_profiles: &BTreeMap<String, String>,
    names: &mut Names,
) -> Result<Produced, ConvertError> {
    let peer = mapping(peer, path)?;
    let address = string(peer, "peer-address", path)?
        .ok_or_else(|| missing(path, "peer-address", "every peer needs the address to connect to"))?;
    let base = match meta::object_name(&address.replace('.', "-"), "") {
        suffix if suffix.is_empty() => "peer".to_string(),
        suffix => format!("peer-{suffix}"),
    };
    let name = names.claim(BGP_PEER.kind, &base);
    let subject = format!("{}/{name}", BGP_PEER.kind);
    let mut notes = Vec::new();
    let mut spec = rename(peer, PEER_FIELDS, &["node-selectors"], path, &subject, &mut notes);
    if let Some(Value::String(profile)) = spec.get_mut("bfdProfile")
        && let Some(new_name) = renamed_profiles.get(profile.as_str())
    {
        *profile = new_name.clone();
    }
    let selectors = list(peer, "node-selectors", path)?;
    if !selectors.is_empty() {
        let mut converted = Vec::new();
        for (i, selector) in selectors.iter().enumerate() {
            let selector_path = format!("{path}.node-selectors[{i}]");
            let selector = mapping(selector, &selector_path)?;
            converted.push(Value::Object(rename(selector, SELECTOR_FIELDS, &[], &selector_path, &subject, &mut notes)));
        }
        spec.insert("nodeSelectors".to_string(), Value::Array(converted));
    }
    Ok(Produced { object: Some(object(BGP_PEER.kind, &name, spec)), notes })
}

/// The BFD profiles, and the new name of each profile whose name was not a valid object name.
fn bfd_profiles(
    profiles: Vec<Value>,
    names: &mut Names,
) -> Result<(Vec<Produced>, BTreeMap<String, String>), ConvertError> {
    let mut produced = Vec::new();
    let mut renamed = BTreeMap::new();
    for (i, profile) in profiles.iter().enumerate() {
        let path = format!("bfd-profiles[{i}]");
        let profile = mapping(profile, &path)?;
        let old_name =
            string(profile, "name", &path)?.ok_or_else(|| missing(&path, "name", "it names the BFDProfile"))?;
        let name = names.claim(BFD_PROFILE.kind, &meta::object_name(old_name, "bfd"));
        let subject = format!("{}/{name}", BFD_PROFILE.kind);
        let mut notes = Vec::new();
        if name != old_name {
            notes.push(Note::new(&subject, format!("the profile {old_name:?} is named {name:?}, a valid object name")));
            renamed.insert(old_name.to_string(), name.clone());
        }
        let spec = rename(profile, BFD_FIELDS, &["name"], &path, &subject, &mut notes);
        super::crds::note_bfd_profile(&spec, &subject, &mut notes);
        produced.push(Produced { object: Some(object(BFD_PROFILE.kind, &name, spec)), notes });
    }
    Ok((produced, renamed))
}

/// The `bgp-communities` aliases as one Community, whose alias names advertisements keep using.
fn communities(config: &Map<String, Value>) -> Result<Option<Produced>, ConvertError> {
    let aliases = match config.get("bgp-communities") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(aliases)) => aliases,
        Some(other) => return Err(ConvertError::wrong_type(format!("{CONFIG}: bgp-communities"), "a mapping", other)),
    };
    let mut entries = Vec::new();
    for (alias, value) in aliases {
        let Value::String(value) = value else {
            return Err(ConvertError::wrong_type(format!("{CONFIG}: bgp-communities.{alias}"), "a string", value));
        };
        entries.push(json!({ "name": alias, "value": value }));
    }
    let mut spec = Map::new();
    spec.insert("communities".to_string(), Value::Array(entries));
    Ok(Some(Produced { object: Some(object(COMMUNITY.kind, "bgp-communities", spec)), notes: Vec::new() }))
}

/// A FerroLB object with only a name in its metadata.
fn object(kind: &str, name: &str, spec: Map<String, Value>) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".to_string(), Value::String(name.to_string()));
    meta::ferrolb_object(kind, metadata, Some(spec))
}

/// The fields of `input` named in `table`, under their FerroLB names; a note for each key that
/// is neither in `table` nor in `handled` (keys the caller converts itself).
fn rename(
    input: &Map<String, Value>,
    table: &[(&str, &str)],
    handled: &[&str],
    path: &str,
    subject: &str,
    notes: &mut Vec<Note>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in input {
        if let Some((_, field)) = table.iter().find(|(legacy, _)| legacy == key) {
            out.insert((*field).to_string(), value.clone());
        } else if !handled.contains(&key.as_str()) {
            notes.push(Note::new(
                subject,
                format!("{CONFIG} {path}.{key} is not carried over: MetalLB's configuration has no such key"),
            ));
        }
    }
    out
}

/// `value` as a mapping, or an error naming `path`.
fn mapping<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ConvertError> {
    value.as_object().ok_or_else(|| ConvertError::wrong_type(format!("{CONFIG}: {path}"), "a mapping", value))
}

/// The list under `key` of `map` (empty when absent), or an error.
fn list(map: &Map<String, Value>, key: &str, path: &str) -> Result<Vec<Value>, ConvertError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(other) => Err(ConvertError::wrong_type(join(path, key), "a list", other)),
    }
}

/// The string under `key` of `map`, if present, or an error when it is not a string.
fn string<'a>(map: &'a Map<String, Value>, key: &str, path: &str) -> Result<Option<&'a str>, ConvertError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ConvertError::wrong_type(join(path, key), "a string", other)),
    }
}

/// A [`ConvertError::Missing`] for `key` under `path`.
fn missing(path: &str, key: &str, why: &'static str) -> ConvertError {
    ConvertError::Missing { path: join(path, key), why }
}

/// The message path of `key` under `path` (`path` being [`CONFIG`] at the top).
fn join(path: &str, key: &str) -> String {
    if path == CONFIG { format!("{CONFIG}: {key}") } else { format!("{CONFIG}: {path}.{key}") }
}
