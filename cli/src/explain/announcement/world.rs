//! What the announcer needs, made from what was read: the validated configuration, the Nodes
//! and the Service's endpoints as views, and which inputs could not be read. Then the
//! announcer's rules, run on this Service alone: Layer2 once, BGP once per node.
//!
//! It decides nothing itself: `ferrolb_core::announcer` does, exactly as the speakers do. What
//! it cannot know it says: the speakers' own view of who is alive (Ready Nodes stand for it),
//! and Secrets (BGPPeer passwords are not read; a peer the controller accepts is taken as
//! having its Secret).

use std::collections::BTreeSet;
use std::net::IpAddr;

use ferrolb_core::announcer::from_k8s::EXCLUDE_LABEL;
use ferrolb_core::announcer::{
    Announcer, BgpVerdict, EndpointSliceView, Endpoints, Layer2Verdict, Members, NodeView, ServiceView, SliceKey,
    TrafficPolicy, endpoint_slice_view, node_view,
};
use ferrolb_core::config::{Config, Kind, ObjectRef, SecretData, Verdicts};
use ferrolb_core::config_objects::{Raw, decode};
use ferrolb_core::selectors::any_matches;
use ferrolb_crds::IPAddressPool;
use k8s_openapi::api::core::v1::Node;
use serde_json::Value;

use super::super::{Announcing, Listed};

/// Where a passwordSecret without namespace is looked up: any name will do, as the Secrets
/// stood in for are made to match.
const OWN_NAMESPACE: &str = "ferrolb-system";

/// The announcer's inputs for one Service, and what is missing from them.
pub(super) struct World {
    /// The configuration, when the pools could be read.
    pub config: Option<Config>,
    /// Why each configuration object that counts for nothing is refused.
    pub verdicts: Verdicts,
    /// Every Node as a view, when they could be read.
    pub nodes: Option<Vec<NodeView>>,
    /// The Nodes whose Ready condition is True.
    pub ready: BTreeSet<String>,
    /// Inputs Layer2 needs that could not be read, as plural nouns ("the Nodes").
    pub l2_missing: Vec<&'static str>,
    /// Inputs BGP needs that could not be read.
    pub bgp_missing: Vec<&'static str>,
    l2_read: bool,
    bgp_read: bool,
    service: ServiceView,
    slices: Vec<(SliceKey, EndpointSliceView)>,
}

impl World {
    /// Reads the inputs; each list that could not be read adds a line to `lines`.
    pub fn read(
        pools: Result<&[IPAddressPool], &str>,
        announcing: &Announcing,
        service: &ServiceView,
        lines: &mut Vec<String>,
    ) -> World {
        let lists = [
            ("L2Advertisements", fetched(&announcing.l2_advertisements)),
            ("BGPAdvertisements", fetched(&announcing.bgp_advertisements)),
            ("BGPPeers", fetched(&announcing.peers)),
            ("BFDProfiles", fetched(&announcing.bfd_profiles)),
            ("Communities", fetched(&announcing.communities)),
            ("Nodes", fetched(&announcing.nodes)),
            ("Service's EndpointSlices", fetched(&announcing.slices)),
        ];
        // One line per reason: a cluster without FerroLB's CRDs, or a user allowed little, fails
        // many lists the same way.
        let mut by_reason: Vec<(&String, Vec<&str>)> = Vec::new();
        for (what, listed) in lists {
            let Err(why) = listed else { continue };
            match by_reason.iter_mut().find(|(reason, _)| *reason == why) {
                Some((_, names)) => names.push(what),
                None => by_reason.push((why, vec![what])),
            }
        }
        for (why, names) in by_reason {
            lines.push(format!("The {} could not be read ({why}).", super::list(&names)));
        }

        let mut l2_missing = Vec::new();
        let mut bgp_missing = Vec::new();
        let mut missing = |name: &'static str, gone: bool, l2: bool, bgp: bool| {
            if gone && l2 {
                l2_missing.push(name);
            }
            if gone && bgp {
                bgp_missing.push(name);
            }
        };
        missing("the IPAddressPools", pools.is_err(), true, true);
        missing("the L2Advertisements", announcing.l2_advertisements.is_err(), true, false);
        missing("the BGPAdvertisements", announcing.bgp_advertisements.is_err(), false, true);
        missing("the BGPPeers", announcing.peers.is_err(), false, true);
        missing("the Nodes", announcing.nodes.is_err(), true, true);
        missing("the EndpointSlices", announcing.slices.is_err(), true, true);

        let (config, verdicts) = match pools {
            Ok(pools) => {
                let (config, verdicts) = configuration(pools, announcing);
                (Some(config), verdicts)
            }
            Err(_) => (None, Verdicts::default()),
        };
        let nodes: Option<Vec<NodeView>> =
            announcing.nodes.as_ref().ok().map(|nodes| nodes.iter().filter_map(|n| node_view(n).ok()).collect());
        let ready: BTreeSet<String> = announcing
            .nodes
            .as_ref()
            .map(|nodes| nodes.iter().filter(|n| is_ready(n)).filter_map(|n| n.metadata.name.clone()).collect())
            .unwrap_or_default();

        let slices = announcing.slices.as_ref().map(Vec::as_slice).unwrap_or_default();
        let slices = slices
            .iter()
            .filter_map(|s| endpoint_slice_view(s).ok())
            .filter(|(_, slice)| slice.service == service.key)
            .collect();
        World {
            config,
            verdicts,
            nodes,
            ready,
            l2_missing,
            bgp_missing,
            l2_read: announcing.l2_advertisements.is_ok(),
            bgp_read: announcing.bgp_advertisements.is_ok(),
            service: service.clone(),
            slices,
        }
    }

    /// An announcer for node `me` holding every input.
    fn announcer(&self, me: &str) -> Announcer {
        let mut announcer = Announcer::new(me);
        if let Some(config) = &self.config {
            announcer.set_config(config.clone());
        }
        announcer.reset_nodes(self.nodes.iter().flatten().cloned());
        announcer.apply_service(self.service.clone());
        announcer.reset_slices(self.slices.iter().cloned());
        announcer
    }

    /// The pool `address` of the Service comes from, as the speakers find it: the annotated pool
    /// holding it, else the pool holding it.
    pub fn pool_of(&self, address: IpAddr) -> Option<&str> {
        ferrolb_core::announcer::pool_of(self.config.as_ref()?, &self.service, address)
    }

    /// The L2Advertisements covering `pool`, by name; None when they could not be read.
    pub fn l2_covering(&self, pool: &str) -> Option<Vec<String>> {
        let config = self.config.as_ref().filter(|_| self.l2_read)?;
        Some(covering(config.l2_advertisements.iter().map(|a| (&a.name, &a.pools)), pool))
    }

    /// The BGPAdvertisements covering `pool`, by name; None when they could not be read.
    pub fn bgp_covering(&self, pool: &str) -> Option<Vec<String>> {
        let config = self.config.as_ref().filter(|_| self.bgp_read)?;
        Some(covering(config.bgp_advertisements.iter().map(|a| (&a.name, &a.pools)), pool))
    }

    /// Layer2 by the rules, with the Ready Nodes as the live speakers; Err names what is
    /// missing to decide.
    pub fn layer2(&self) -> Result<Vec<Layer2Verdict>, String> {
        if !self.l2_missing.is_empty() {
            return Err(self.l2_missing.join(", "));
        }
        // Any live node may stand as "me": Layer2 verdicts are the same from every healthy node.
        let me = self.ready.first().cloned().unwrap_or_default();
        let mut announcer = self.announcer(&me);
        announcer.set_members(Members { alive: self.ready.clone(), self_healthy: self.ready.contains(&me) });
        Ok(announcer.decide_layer2().verdicts.remove(&self.service.key).unwrap_or_default())
    }

    /// BGP by the rules, from each known node in name order; Err names what is missing.
    pub fn bgp(&self) -> Result<Vec<(String, Vec<BgpVerdict>)>, String> {
        if !self.bgp_missing.is_empty() {
            return Err(self.bgp_missing.join(", "));
        }
        let mut out = Vec::new();
        for node in self.nodes.iter().flatten() {
            let verdicts = self.announcer(&node.name).decide_bgp().verdicts.remove(&self.service.key);
            out.push((node.name.clone(), verdicts.unwrap_or_default()));
        }
        Ok(out)
    }

    /// Why `node` is not a Layer2 candidate for the Service, as the rules check it (in their
    /// order), given the L2Advertisements that match the Service.
    pub fn why_not_layer2(&self, node: &NodeView, advertisements: &[String]) -> String {
        let selected = self.config.as_ref().is_some_and(|config| {
            config
                .l2_advertisements
                .iter()
                .filter(|a| advertisements.contains(&a.name))
                .any(|a| any_matches(&a.node_selectors, &node.labels))
        });
        if !self.ready.contains(&node.name) {
            "not Ready".to_owned()
        } else if node.excluded {
            format!("labelled {EXCLUDE_LABEL}")
        } else if node.network_unavailable {
            "NetworkUnavailable is True".to_owned()
        } else if !selected {
            format!("not selected by the nodeSelectors of {}", super::objects("L2Advertisement", advertisements))
        } else if self.service.traffic_policy == TrafficPolicy::Local && !self.runs_endpoint(&node.name) {
            "no ready endpoint runs there, externalTrafficPolicy: Local".to_owned()
        } else {
            "not a candidate".to_owned()
        }
    }

    /// Whether an endpoint that counts runs on `node`: ready ones when any is ready, else
    /// serving ones, as the speakers count them.
    fn runs_endpoint(&self, node: &str) -> bool {
        Endpoints::of(self.slices.iter().map(|(_, s)| s.endpoints.as_slice())).nodes.contains(&node)
    }

    /// Why the configuration object `kind`/`name` is refused, if it is.
    pub fn refusal(&self, kind: Kind, name: &str) -> Option<String> {
        let problems = self.verdicts.problems(&ObjectRef::new(kind, name));
        (!problems.is_empty()).then(|| problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
    }
}

/// The names of the advertisements (name, pools) that cover `pool`.
fn covering<'a>(advertisements: impl Iterator<Item = (&'a String, &'a Vec<String>)>, pool: &str) -> Vec<String> {
    advertisements.filter(|(_, pools)| pools.iter().any(|p| p == pool)).map(|(name, _)| name.clone()).collect()
}

/// Whether `listed` was read, or why not.
fn fetched<T>(listed: &Listed<T>) -> Result<(), &String> {
    listed.as_ref().map(|_| ())
}

/// The configuration the speakers follow, with the validation verdicts. Secrets are not read:
/// each passwordSecret a BGPPeer names is stood in for, unless the controller refused the peer.
fn configuration(pools: &[IPAddressPool], announcing: &Announcing) -> (Config, Verdicts) {
    let listed = |l: &Listed<Value>| l.as_ref().cloned().unwrap_or_default();
    let peers = listed(&announcing.peers);
    let secrets = peers.iter().filter(|p| !refused_by_controller(p)).filter_map(stand_in_secret).collect();
    let raw = Raw {
        pools: pools.iter().filter_map(|p| serde_json::to_value(p).ok()).collect(),
        l2_advertisements: listed(&announcing.l2_advertisements),
        bgp_advertisements: listed(&announcing.bgp_advertisements),
        peers,
        bfd_profiles: listed(&announcing.bfd_profiles),
        communities: listed(&announcing.communities),
    };
    let mut decoded = decode(&raw, OWN_NAMESPACE);
    decoded.objects.secrets = secrets;
    let (config, mut verdicts) = Config::from_objects(&decoded.objects);
    for (object, problem) in decoded.undecodable {
        verdicts.problems.entry(object).or_default().push(problem);
    }
    (config, verdicts)
}

/// The controller's Accepted condition on the object is False.
fn refused_by_controller(object: &Value) -> bool {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|conditions| conditions.iter().any(|c| c["type"] == "Accepted" && c["status"] == "False"))
}

/// A basic-auth Secret with a password, where the peer's passwordSecret points.
fn stand_in_secret(peer: &Value) -> Option<SecretData> {
    let reference = peer.pointer("/spec/passwordSecret")?;
    let name = reference.get("name")?.as_str()?.to_owned();
    let namespace = reference.get("namespace").and_then(Value::as_str).filter(|ns| !ns.is_empty());
    Some(SecretData {
        namespace: namespace.unwrap_or(OWN_NAMESPACE).to_owned(),
        name,
        type_: "kubernetes.io/basic-auth".to_owned(),
        password: Some("not-read".to_owned()),
    })
}

/// The Node's Ready condition is True.
fn is_ready(node: &Node) -> bool {
    let conditions = node.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions.into_iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True")
}
