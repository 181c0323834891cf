//! Building the [`Config`]: the order of evaluation, and what every kind's validation shares.
//!
//! Objects are validated kind by kind, referenced kinds first (Communities, BFDProfiles and
//! Secrets, then pools, then peers, then advertisements), so a reference to an object that was
//! refused reads "which is not accepted" rather than "which does not exist". Within a kind,
//! objects are taken oldest first: when two collide, the one taken first has already claimed
//! what the other wants, and the newer one is refused.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use ferrolb_crds::{BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Config, Kind, ObjectRef, Objects, Problem, Reason, Verdicts};
use super::{advertisements, bfd, bgp_advertisements, communities, peers, pools};

/// Builds the configuration and the verdicts, in the order references need.
pub(super) fn build(objects: &Objects) -> (Config, Verdicts) {
    let mut verdicts = Verdicts::default();
    let aliases = communities::validate(&objects.communities, &mut verdicts);
    let bfd_profiles = bfd::validate(&objects.bfd_profiles, &mut verdicts);
    let secrets = peers::Secrets::index(&objects.secrets, &objects.own_namespace);
    let pools = pools::validate(&objects.pools, &mut verdicts);
    let peers = peers::validate(&objects.peers, &bfd_profiles, &secrets, &objects.nodes, &mut verdicts);
    let l2_advertisements = advertisements::validate(&objects.l2_advertisements, &pools, &mut verdicts);
    let context =
        bgp_advertisements::Context { pools: &pools, peers: &peers, aliases: &aliases, nodes: &objects.nodes };
    let bgp_advertisements = bgp_advertisements::validate(&objects.bgp_advertisements, &context, &mut verdicts);
    let config = Config {
        pools: pools.accepted,
        l2_advertisements,
        bgp_advertisements,
        peers: peers.accepted,
        bfd_profiles: bfd_profiles.accepted,
        communities: aliases.values(),
    };
    (config, verdicts)
}

/// What validation needs of every configuration object: its kind and its metadata.
pub(super) trait Object {
    /// The object's kind.
    const KIND: Kind;

    /// The object's metadata.
    fn meta(&self) -> &ObjectMeta;

    /// The object's name (empty if it has none, which the apiserver never allows).
    fn name(&self) -> &str {
        self.meta().name.as_deref().unwrap_or_default()
    }

    /// A reference to the object.
    fn object_ref(&self) -> ObjectRef {
        ObjectRef::new(Self::KIND, self.name())
    }
}

macro_rules! object {
    ($type:ty, $kind:ident) => {
        impl Object for $type {
            const KIND: Kind = Kind::$kind;
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
        }
    };
}

object!(IPAddressPool, IPAddressPool);
object!(L2Advertisement, L2Advertisement);
object!(BGPAdvertisement, BGPAdvertisement);
object!(BGPPeer, BGPPeer);
object!(BFDProfile, BFDProfile);
object!(Community, Community);

/// The order in which collisions are settled: older first. An object without a creation
/// timestamp (one never stored, e.g. read from a file) counts as newer than every stored one;
/// equal or missing timestamps are ordered by name.
pub(super) fn older_first<T: Object>(a: &T, b: &T) -> Ordering {
    let (ta, tb) = (a.meta().creation_timestamp.as_ref(), b.meta().creation_timestamp.as_ref());
    (ta.is_none(), ta, a.name()).cmp(&(tb.is_none(), tb, b.name()))
}

/// The objects, oldest first (see [`older_first`]).
pub(super) fn oldest_first<T: Object>(objects: &[T]) -> Vec<&T> {
    let mut sorted: Vec<&T> = objects.iter().collect();
    sorted.sort_by(|a, b| older_first(*a, *b));
    sorted
}

/// Records the verdict on `object`: accepted when `problems` is empty.
pub(super) fn record(verdicts: &mut Verdicts, object: ObjectRef, problems: Problems) {
    if !problems.1.is_empty() {
        verdicts.warnings.entry(object.clone()).or_default().extend(problems.1);
    }
    verdicts.problems.entry(object).or_default().extend(problems.0);
}

/// The problems found in one object, in the order found (`.0`), and its warnings (`.1`).
#[derive(Debug, Default)]
pub(super) struct Problems(pub(super) Vec<Problem>, pub(super) Vec<Problem>);

impl Problems {
    /// Whether none was found.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds a problem.
    pub(super) fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }

    /// Adds a problem with no other object involved.
    pub(super) fn add(&mut self, field: impl Into<String>, reason: Reason, message: impl Into<String>) {
        self.0.push(Problem { field: field.into(), reason, message: message.into(), other: None });
    }

    /// Adds a problem involving `other`.
    pub(super) fn add_with(
        &mut self,
        field: impl Into<String>,
        reason: Reason,
        message: impl Into<String>,
        other: ObjectRef,
    ) {
        self.0.push(Problem { field: field.into(), reason, message: message.into(), other: Some(other) });
    }

    /// Adds a warning: the object is accepted (as MetalLB accepts it), but the user should know.
    pub(super) fn warn(
        &mut self,
        field: impl Into<String>,
        reason: Reason,
        message: impl Into<String>,
        other: Option<ObjectRef>,
    ) {
        self.1.push(Problem { field: field.into(), reason, message: message.into(), other });
    }

    /// Adds an invalid field: what the apiserver's schema would have refused.
    pub(super) fn invalid(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.add(field, Reason::InvalidField, message);
    }
}

/// The accepted objects of one kind, by name, and the names of every object of that kind
/// given, so that a reference can say whether its target is missing or refused.
#[derive(Debug)]
pub(super) struct Accepted<T> {
    kind: Kind,
    /// The accepted objects, validated.
    pub(super) accepted: BTreeMap<String, T>,
    given: BTreeSet<String>,
}

impl<T> Accepted<T> {
    /// No accepted object yet, among the objects `given` (their kind is the set's kind).
    pub(super) fn new<O: Object>(given: &[O]) -> Self {
        Accepted {
            kind: O::KIND,
            accepted: BTreeMap::new(),
            given: given.iter().map(|o| o.name().to_owned()).collect(),
        }
    }

    /// The accepted object named `name`, or the problem of `field` naming it.
    pub(super) fn resolve(&self, field: impl Into<String>, name: &str) -> Result<&T, Problem> {
        self.accepted.get(name).ok_or_else(|| self.not_found(field, name))
    }

    fn not_found(&self, field: impl Into<String>, name: &str) -> Problem {
        let why = if self.given.contains(name) { "is not accepted" } else { "does not exist" };
        Problem {
            field: field.into(),
            reason: Reason::ReferenceNotFound,
            message: format!("names {} {name}, which {why}", self.kind),
            other: Some(ObjectRef::new(self.kind, name)),
        }
    }
}
