//! Decoding the configuration objects as the apiserver returns them. Each object is decoded on
//! its own, so one that does not fit the types (written before a CRD upgrade, say) is refused
//! by itself instead of stalling the whole configuration.

use crate::config::{Kind, ObjectRef, Objects, Problem, Reason, SecretData};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The objects that decoded, and a problem for each one that did not.
#[derive(Debug, Default)]
pub struct Decoded {
    /// What [`crate::config::Config::from_objects`] takes.
    pub objects: Objects,
    /// Objects that could not be read, with why.
    pub undecodable: Vec<(ObjectRef, Problem)>,
}

/// Raw objects of every configuration kind, as JSON values.
#[derive(Debug, Default)]
pub struct Raw {
    /// IPAddressPools.
    pub pools: Vec<Value>,
    /// L2Advertisements.
    pub l2_advertisements: Vec<Value>,
    /// BGPAdvertisements.
    pub bgp_advertisements: Vec<Value>,
    /// BGPPeers.
    pub peers: Vec<Value>,
    /// BFDProfiles.
    pub bfd_profiles: Vec<Value>,
    /// Communities.
    pub communities: Vec<Value>,
    /// Secrets of type kubernetes.io/basic-auth.
    pub secrets: Vec<Value>,
}

fn decode_each<T: DeserializeOwned>(kind: Kind, raw: &[Value], undecodable: &mut Vec<(ObjectRef, Problem)>) -> Vec<T> {
    let mut out = Vec::with_capacity(raw.len());
    for value in raw {
        match serde_json::from_value::<T>(value.clone()) {
            Ok(obj) => out.push(obj),
            Err(e) => {
                let name = value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
                let problem = Problem {
                    field: "spec".into(),
                    reason: Reason::InvalidField,
                    message: format!("cannot be read as a {kind}: {e}"),
                    other: None,
                };
                undecodable.push((ObjectRef::new(kind, name), problem));
            }
        }
    }
    out
}

/// A Secret reduced to what BGPPeer passwords need. Secret data is base64 in JSON.
fn secret(value: &Value) -> Option<SecretData> {
    let password = value.pointer("/data/password").and_then(Value::as_str).and_then(decode_base64);
    Some(SecretData {
        namespace: value.pointer("/metadata/namespace")?.as_str()?.to_owned(),
        name: value.pointer("/metadata/name")?.as_str()?.to_owned(),
        type_: value.get("type").and_then(Value::as_str).unwrap_or("Opaque").to_owned(),
        password,
    })
}

/// Standard base64 (what the apiserver uses for Secret data), as UTF-8 text.
fn decode_base64(text: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push(((bits >> nbits) & 0xff) as u8);
        }
    }
    String::from_utf8(out).ok()
}

/// Decodes every raw object.
pub fn decode(raw: &Raw, own_namespace: &str) -> Decoded {
    let mut undecodable = Vec::new();
    let objects = Objects {
        pools: decode_each(Kind::IPAddressPool, &raw.pools, &mut undecodable),
        l2_advertisements: decode_each(Kind::L2Advertisement, &raw.l2_advertisements, &mut undecodable),
        bgp_advertisements: decode_each(Kind::BGPAdvertisement, &raw.bgp_advertisements, &mut undecodable),
        peers: decode_each(Kind::BGPPeer, &raw.peers, &mut undecodable),
        bfd_profiles: decode_each(Kind::BFDProfile, &raw.bfd_profiles, &mut undecodable),
        communities: decode_each(Kind::Community, &raw.communities, &mut undecodable),
        secrets: raw.secrets.iter().filter_map(secret).collect(),
        own_namespace: own_namespace.to_owned(),
    };
    Decoded { objects, undecodable }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_broken_object_is_refused_alone() {
        let raw = Raw {
            pools: vec![
                json!({"apiVersion": "ferrolb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "good"},
                       "spec": {"addresses": ["203.0.113.0/24"]}}),
                json!({"apiVersion": "ferrolb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "bad"},
                       "spec": {"addresses": "203.0.113.0/24"}}),
            ],
            ..Raw::default()
        };
        let d = decode(&raw, "ferrolb-system");
        assert_eq!(d.objects.pools.len(), 1);
        assert_eq!(d.undecodable.len(), 1);
        assert_eq!(d.undecodable[0].0, ObjectRef::new(Kind::IPAddressPool, "bad"));
        assert!(d.undecodable[0].1.message.contains("cannot be read as a IPAddressPool"));
    }

    #[test]
    fn secrets_keep_type_and_decoded_password() {
        let raw = Raw {
            secrets: vec![json!({"metadata": {"name": "s", "namespace": "ns"}, "type": "kubernetes.io/basic-auth",
                                 "data": {"password": "czNjcjN0"}})],
            ..Raw::default()
        };
        let s = &decode(&raw, "x").objects.secrets[0];
        assert_eq!((s.namespace.as_str(), s.name.as_str(), s.type_.as_str()), ("ns", "s", "kubernetes.io/basic-auth"));
        assert_eq!(s.password.as_deref(), Some("s3cr3t"));
        assert_eq!(decode_base64("YQ=="), Some("a".into()));
        assert_eq!(decode_base64("!!"), None);
    }
}
