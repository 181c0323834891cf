//! EndpointSlices as the EndpointSlice controller would write them if a Service's pods ran
//! on the given nodes. No kubelet runs in the lab, so the lab writes them itself; the
//! endpoint address is the node's own (like a hostNetwork pod), which the node's stand-in
//! server answers on.

use std::str::FromStr;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use crate::cluster::FIELD_MANAGER;
use crate::error::{Error, Result};
use crate::plan::Plan;

/// The managed-by label value of the slices the lab writes.
pub const MANAGED_BY: &str = "ferrolb-lab";

/// How a backend on a node is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Ready and serving.
    Ready,
    /// Neither ready nor serving.
    NotReady,
    /// Terminating but still serving.
    Terminating,
}

/// One backend: a node and the state of the pod on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    /// The node's name.
    pub node: String,
    /// Its condition.
    pub health: Health,
}

impl FromStr for Backend {
    type Err = String;

    /// `node1`, `node1:ready`, `node1:not-ready` or `node1:terminating`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (node, health) = s.split_once(':').unwrap_or((s, "ready"));
        let health = match health {
            "ready" => Health::Ready,
            "not-ready" => Health::NotReady,
            "terminating" => Health::Terminating,
            other => {
                return Err(format!("unknown backend state {other:?}: use ready, not-ready or terminating"));
            }
        };
        if node.is_empty() {
            return Err("empty node name".into());
        }
        Ok(Self { node: node.to_owned(), health })
    }
}

/// The slices for `svc` with backends on the given nodes: one per IP family the Service
/// has, named `<service>-lab-ipv4|ipv6`, ports taken from the Service's target ports.
pub fn build(plan: &Plan, svc: &Service, backends: &[Backend]) -> Result<Vec<Value>> {
    let name = svc.metadata.name.clone().unwrap_or_default();
    let namespace = svc.metadata.namespace.clone().unwrap_or_default();
    let spec = svc.spec.clone().unwrap_or_default();
    let families = spec.ip_families.unwrap_or_else(|| vec!["IPv4".to_owned()]);
    let ports: Vec<Value> = spec
        .ports
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let port = match &p.target_port {
                Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n)) => *n,
                _ => p.port,
            };
            json!({"name": p.name.clone().unwrap_or_default(), "protocol": p.protocol.clone().unwrap_or("TCP".into()), "port": port})
        })
        .collect();
    let mut slices = Vec::new();
    for family in families {
        let mut endpoints = Vec::new();
        for b in backends {
            let host = plan
                .host(&b.node)
                .filter(|h| h.is_node())
                .ok_or_else(|| Error::Failed(format!("{} is not a node of lab {}", b.node, plan.name)))?;
            let address = if family == "IPv6" { host.v6().to_string() } else { host.v4().to_string() };
            let (ready, serving, terminating) = match b.health {
                Health::Ready => (true, true, false),
                Health::NotReady => (false, false, false),
                Health::Terminating => (false, true, true),
            };
            endpoints.push(json!({
                "addresses": [address],
                "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
                "nodeName": host.name,
            }));
        }
        slices.push(json!({
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": format!("{name}-lab-{}", family.to_lowercase()),
                "namespace": namespace,
                "labels": {
                    "kubernetes.io/service-name": name,
                    "endpointslice.kubernetes.io/managed-by": MANAGED_BY,
                },
                "ownerReferences": [{
                    "apiVersion": "v1", "kind": "Service", "name": name,
                    "uid": svc.metadata.uid.clone().unwrap_or_default(),
                    "controller": true, "blockOwnerDeletion": true,
                }],
            },
            "addressType": family,
            "endpoints": endpoints,
            "ports": ports,
        }));
    }
    Ok(slices)
}

/// Writes the slices for `namespace/service` and removes the lab's slices of other families.
pub async fn apply(
    client: &kube::Client,
    plan: &Plan,
    namespace: &str,
    service: &str,
    backends: &[Backend],
) -> Result<Vec<String>> {
    let svc = Api::<Service>::namespaced(client.clone(), namespace)
        .get(service)
        .await
        .map_err(Error::kube(format!("reading Service {namespace}/{service}")))?;
    let slices = build(plan, &svc, backends)?;
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), namespace);
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    let mut written = Vec::new();
    for s in &slices {
        let name = s["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        api.patch(&name, &pp, &Patch::Apply(s))
            .await
            .map_err(Error::kube(format!("writing EndpointSlice {namespace}/{name}")))?;
        written.push(name);
    }
    let selector = format!("kubernetes.io/service-name={service},endpointslice.kubernetes.io/managed-by={MANAGED_BY}");
    let existing =
        api.list(&ListParams::default().labels(&selector)).await.map_err(Error::kube("listing EndpointSlices"))?;
    for old in existing {
        let old_name = old.metadata.name.unwrap_or_default();
        if !written.contains(&old_name) {
            api.delete(&old_name, &DeleteParams::default())
                .await
                .map_err(Error::kube(format!("deleting EndpointSlice {old_name}")))?;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::LabName;

    fn svc(families: &[&str]) -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "demo", "uid": "u-1"},
            "spec": {"type": "LoadBalancer", "ipFamilies": families,
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]},
        }))
        .expect("service")
    }

    fn plan() -> Plan {
        Plan::new(LabName::new("b").expect("name"), 3).expect("plan")
    }

    #[test]
    fn parses_backend_states() {
        assert_eq!("node1".parse::<Backend>(), Ok(Backend { node: "node1".into(), health: Health::Ready }));
        assert_eq!("node2:terminating".parse::<Backend>().map(|b| b.health), Ok(Health::Terminating));
        assert!("node2:sleepy".parse::<Backend>().is_err());
        assert!(":ready".parse::<Backend>().is_err());
    }

    #[test]
    fn one_slice_per_family_with_node_addresses_and_conditions() {
        let backends = ["node1", "node3:not-ready"].map(|b| b.parse().expect("backend"));
        let slices = build(&plan(), &svc(&["IPv4", "IPv6"]), &backends).expect("builds");
        assert_eq!(slices.len(), 2);
        let v4 = &slices[0];
        assert_eq!(v4["metadata"]["name"], "web-lab-ipv4");
        assert_eq!(v4["metadata"]["labels"]["kubernetes.io/service-name"], "web");
        assert_eq!(v4["addressType"], "IPv4");
        assert_eq!(v4["endpoints"][0]["addresses"][0], "198.51.100.11");
        assert_eq!(v4["endpoints"][0]["nodeName"], "node1");
        assert_eq!(v4["endpoints"][1]["conditions"]["ready"], false);
        assert_eq!(v4["ports"][0]["port"], 8080);
        assert_eq!(slices[1]["endpoints"][1]["addresses"][0], "2001:db8:1::13");
    }

    #[test]
    fn no_backends_means_an_empty_slice() {
        let slices = build(&plan(), &svc(&["IPv4"]), &[]).expect("builds");
        assert_eq!(slices[0]["endpoints"].as_array().map(Vec::len), Some(0));
    }

    #[test]
    fn refuses_hosts_that_are_not_nodes() {
        let err = build(&plan(), &svc(&["IPv4"]), &["router".parse().expect("backend")]).expect_err("router");
        assert!(err.to_string().contains("router is not a node"));
    }
}
