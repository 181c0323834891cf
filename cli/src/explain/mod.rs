//! `ferrolb explain service`: why a Service has its address, or why it has none and what to
//! change, in plain words.
//!
//! This module is the pure core: [`explain`] takes what was read from the cluster, as values
//! ([`Observed`]), and returns an [`Explanation`]. Fetching is the binary's job. The controller
//! is not linked: `explain` reads what it wrote ([`contract`]) and reads the Service with
//! `ferrolb_core::service::ServiceReader`, as the controller and the speakers do.
//!
//! Where to start: [`explain`] picks the case, then `assigned`, `pending` (with `advice`, the
//! next steps for a reason) or `not_served` writes it.

pub mod contract;

mod advice;
mod announcement;
mod assigned;
mod events;
mod not_served;
mod pending;
mod pools;
mod report;
mod service;

use std::collections::BTreeMap;

use ferrolb_core::annotations::{Annotation, ServiceRequest};
use ferrolb_crds::{IPAddressPool, ServiceBGPStatus, ServiceL2Status};
use k8s_openapi::api::core::v1::{Event, Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::Value;

pub use report::{Explanation, Section, Topic, Verdict};

use pools::{Candidate, Pools};
use service::{ServiceFacts, Serving};

/// Everything `explain` reads from the cluster.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The Service.
    pub service: Service,
    /// Every IPAddressPool, or why they could not be listed.
    pub pools: Result<Vec<IPAddressPool>, String>,
    /// The Events about the Service (any reporter; FerroLB's are picked out).
    pub events: Vec<Event>,
    /// The labels of the Service's namespace, when they could be read (pools may select
    /// namespaces by label).
    pub namespace_labels: Option<BTreeMap<String, String>>,
    /// What deciding and reporting who announces the Service needs.
    pub announcing: Announcing,
}

/// A list read from the cluster, or why it could not be read (a missing CRD, a forbidden list).
pub type Listed<T> = Result<Vec<T>, String>;

/// What `explain` reads to say who announces the Service's addresses: the configuration the
/// speakers follow (besides the pools, in [`Observed::pools`]), the inputs they decide from, and
/// what they wrote. The speakers' own view of which speakers are alive is not visible from
/// outside: Nodes that are Ready stand for live speakers.
#[derive(Debug, Clone)]
pub struct Announcing {
    /// L2Advertisements, as JSON values.
    pub l2_advertisements: Listed<Value>,
    /// BGPAdvertisements, as JSON values.
    pub bgp_advertisements: Listed<Value>,
    /// BGPPeers, as JSON values (their status holds each node's session condition).
    pub peers: Listed<Value>,
    /// BFDProfiles, as JSON values.
    pub bfd_profiles: Listed<Value>,
    /// Communities, as JSON values.
    pub communities: Listed<Value>,
    /// Every Node.
    pub nodes: Listed<Node>,
    /// The Service's EndpointSlices.
    pub slices: Listed<EndpointSlice>,
    /// The ServiceL2Status objects about the Service.
    pub l2_statuses: Listed<ServiceL2Status>,
    /// The ServiceBGPStatus objects about the Service.
    pub bgp_statuses: Listed<ServiceBGPStatus>,
}

impl Announcing {
    /// Nothing read, each list failing with `why`.
    pub fn unread(why: &str) -> Self {
        let no = || Err(why.to_owned());
        Announcing {
            l2_advertisements: no(),
            bgp_advertisements: no(),
            peers: no(),
            bfd_profiles: no(),
            communities: no(),
            nodes: Err(why.to_owned()),
            slices: Err(why.to_owned()),
            l2_statuses: Err(why.to_owned()),
            bgp_statuses: Err(why.to_owned()),
        }
    }
}

/// Explains what FerroLB did with the Service in `observed`, and why.
pub fn explain(observed: &Observed) -> Explanation {
    let facts = Facts {
        service: ServiceFacts::new(&observed.service),
        pools: observed.pools.as_deref().map(Pools::new).map_err(String::as_str),
        namespace_labels: observed.namespace_labels.as_ref(),
    };
    let mut explanation = match (&facts.service.serving, facts.service.condition) {
        (Serving::NotLoadBalancer { type_ }, _) => not_served::not_load_balancer(&facts, type_),
        (Serving::OtherClass { class }, None) => not_served::other_class(&facts, class),
        (_, None) => pending::not_handled(&facts),
        (_, Some(condition)) if condition.status == "True" => assigned::explain(&facts, condition),
        (_, Some(condition)) => pending::refused(&facts, condition),
    };
    if facts.service.serving == Serving::Served && !facts.service.ingress.is_empty() {
        let pools = observed.pools.as_deref().map_err(String::as_str);
        let found = announcement::explain(&observed.service, pools, &observed.announcing);
        explanation.add(Topic::Announcement, found.lines);
        explanation.add(Topic::NextSteps, found.steps);
    }
    explanation.add(Topic::Annotations, annotation_lines(&facts.service.request));
    explanation.add(Topic::Events, events::lines(&observed.events));
    explanation
}

/// What the explanation is made from.
pub(crate) struct Facts<'a> {
    service: ServiceFacts<'a>,
    pools: Result<Pools, &'a str>,
    namespace_labels: Option<&'a BTreeMap<String, String>>,
}

impl Facts<'_> {
    /// The Service as pools' serviceAllocations see it.
    fn candidate(&self) -> Candidate<'_> {
        Candidate {
            namespace: &self.service.namespace,
            namespace_labels: self.namespace_labels,
            labels: &self.service.labels,
        }
    }

    /// A line saying the pools could not be read, when they could not.
    fn pools_unreadable(&self) -> Option<String> {
        self.pools
            .as_ref()
            .err()
            .map(|error| format!("The IPAddressPools could not be read ({error}), so they are not checked here."))
    }
}

/// The annotation key of `annotation` that the Service uses: a MetalLB alias when that is what
/// was read, else FerroLB's.
fn key_used(request: &ServiceRequest, annotation: Annotation) -> &'static str {
    request.aliases.iter().find(|alias| alias.canonical == annotation.key()).map_or(annotation.key(), |a| a.alias)
}

/// MetalLB aliases read, things ignored, and things that make the request impossible.
fn annotation_lines(request: &ServiceRequest) -> Vec<String> {
    let aliases = request.aliases.iter().map(|alias| {
        format!("{alias} (MetalLB's spelling still works; rename it to {} when MetalLB is gone).", alias.canonical)
    });
    let warnings = request.warnings.iter().map(|warning| format!("Ignored: {warning}."));
    let problems = request.problems.iter().map(|problem| format!("Cannot be honoured: {problem}."));
    problems.chain(warnings).chain(aliases).collect()
}
