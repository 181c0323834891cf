//! Configuration objects as they are read, turned into what [`Config::from_objects`] takes. Each
//! object is decoded on its own, so one that does not fit the types (written before a CRD
//! upgrade, say) is refused by itself instead of stalling the whole configuration.
//!
//! The watches (ferrolb-kube) decode each object as it arrives and report the ones that do not
//! fit with [`undecodable`]; `ferrolb explain` has JSON lists and uses [`Raw`] and [`decode`].

use std::fmt;

use k8s_openapi::api::core::v1::Secret;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::{Config, Kind, ObjectRef, Objects, Problem, Reason, SecretData, Verdicts};

/// The objects that decoded, and a problem for each one that did not.
#[derive(Debug, Default)]
pub struct Decoded {
    /// What [`Config::from_objects`] takes.
    pub objects: Objects,
    /// Objects that could not be read, with why.
    pub undecodable: Vec<(ObjectRef, Problem)>,
}

impl Decoded {
    /// The validated configuration, and a verdict for every object: the undecodable ones are
    /// refused with their problem.
    pub fn validate(self) -> (Config, Verdicts) {
        let (config, mut verdicts) = Config::from_objects(&self.objects);
        for (object, problem) in self.undecodable {
            verdicts.problems.entry(object).or_default().push(problem);
        }
        (config, verdicts)
    }
}

/// The problem of the object `kind`/`name` that does not fit its kind's type.
pub fn undecodable(kind: Kind, name: &str, error: &dyn fmt::Display) -> (ObjectRef, Problem) {
    let problem = Problem {
        field: "spec".into(),
        reason: Reason::InvalidField,
        message: format!("cannot be read as a {kind}: {error}"),
        other: None,
    };
    (ObjectRef::new(kind, name), problem)
}

/// A Secret reduced to what BGPPeer passwords need, or None when it has no name. Its data
/// arrives decoded from base64 (k8s-openapi's `ByteString`); a password that is not UTF-8 is
/// no password.
pub fn secret_data(secret: &Secret) -> Option<SecretData> {
    let password =
        secret.data.as_ref().and_then(|d| d.get("password")).and_then(|b| String::from_utf8(b.0.clone()).ok());
    Some(SecretData {
        namespace: secret.metadata.namespace.clone()?,
        name: secret.metadata.name.clone()?,
        type_: secret.type_.clone().unwrap_or_else(|| "Opaque".to_owned()),
        password,
    })
}

/// Raw objects of every configuration kind, as JSON values (what `ferrolb explain` lists).
/// Secrets are not among them: explain does not read them.
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
}

fn decode_each<T: DeserializeOwned>(kind: Kind, raw: &[Value], refused: &mut Vec<(ObjectRef, Problem)>) -> Vec<T> {
    let mut out = Vec::with_capacity(raw.len());
    for value in raw {
        match T::deserialize(value) {
            Ok(obj) => out.push(obj),
            Err(e) => {
                let name = value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
                refused.push(undecodable(kind, name, &e));
            }
        }
    }
    out
}

/// Decodes every raw object; the Secrets are left empty.
pub fn decode(raw: &Raw, own_namespace: &str) -> Decoded {
    let mut undecodable = Vec::new();
    let objects = Objects {
        pools: decode_each(Kind::IPAddressPool, &raw.pools, &mut undecodable),
        l2_advertisements: decode_each(Kind::L2Advertisement, &raw.l2_advertisements, &mut undecodable),
        bgp_advertisements: decode_each(Kind::BGPAdvertisement, &raw.bgp_advertisements, &mut undecodable),
        peers: decode_each(Kind::BGPPeer, &raw.peers, &mut undecodable),
        bfd_profiles: decode_each(Kind::BFDProfile, &raw.bfd_profiles, &mut undecodable),
        communities: decode_each(Kind::Community, &raw.communities, &mut undecodable),
        secrets: Vec::new(),
        own_namespace: own_namespace.to_owned(),
        // Files hold no Nodes: collisions are judged as on a cluster with none yet.
        nodes: Vec::new(),
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
        let (config, verdicts) = d.validate();
        assert_eq!(config.pools.len(), 1);
        assert_eq!(verdicts.problems(&ObjectRef::new(Kind::IPAddressPool, "bad")).len(), 1);
    }

    /// A Secret as the apiserver sends it: data in base64, decoded by k8s-openapi on arrival.
    fn secret(data: Value) -> serde_json::Result<Secret> {
        serde_json::from_value(json!({"metadata": {"name": "s", "namespace": "ns"}, "type": "kubernetes.io/basic-auth",
                                      "data": data}))
    }

    #[test]
    fn secrets_keep_type_and_decoded_password() {
        let s = secret_data(&secret(json!({"password": "czNjcjN0"})).unwrap()).unwrap();
        assert_eq!((s.namespace.as_str(), s.name.as_str(), s.type_.as_str()), ("ns", "s", "kubernetes.io/basic-auth"));
        assert_eq!(s.password.as_deref(), Some("s3cr3t"));
        let a = secret_data(&secret(json!({"password": "YQ=="})).unwrap()).unwrap();
        assert_eq!(a.password, Some("a".into()));
        assert!(secret(json!({"password": "!!"})).is_err(), "not base64: the Secret does not arrive");
        let not_utf8 = secret_data(&secret(json!({"password": "/w=="})).unwrap()).unwrap();
        assert_eq!(not_utf8.password, None);
        assert_eq!(secret_data(&Secret::default()), None);
    }
}
