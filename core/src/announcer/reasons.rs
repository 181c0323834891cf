//! Why a node may not announce an address, and why an address is not announced at all: the
//! words of status and `ferrolb explain`. Each variant reads as a sentence.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// Why one node may not announce one Service's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeRejection {
    /// No Node object of that name is known (its labels cannot be matched).
    UnknownNode,
    /// Its speaker does not answer (or, for this node, it is not healthy). Layer2 only.
    NotAlive,
    /// It carries `node.kubernetes.io/exclude-from-external-load-balancers`.
    Excluded,
    /// Its NetworkUnavailable condition is True.
    NetworkUnavailable,
    /// No matching advertisement's nodeSelectors select it.
    NotSelected,
    /// externalTrafficPolicy is Local and it runs no usable endpoint of the Service.
    NoLocalEndpoint,
}

impl fmt::Display for NodeRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodeRejection::UnknownNode => "no Node object by that name is known",
            NodeRejection::NotAlive => "its speaker is not alive",
            NodeRejection::Excluded => "it is labelled node.kubernetes.io/exclude-from-external-load-balancers",
            NodeRejection::NetworkUnavailable => "its NetworkUnavailable condition is True",
            NodeRejection::NotSelected => "no matching advertisement's nodeSelectors select it",
            NodeRejection::NoLocalEndpoint => "externalTrafficPolicy is Local and it runs no usable endpoint",
        })
    }
}

/// Why an address of a Service is not announced (by any node in Layer2, or by this node in
/// BGP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The address lies in no configured pool.
    NoPool {
        /// The address.
        address: IpAddr,
    },
    /// No advertisement of this mode covers the address's pool.
    NoAdvertisement {
        /// The pool.
        pool: String,
    },
    /// Advertisements cover the pool, but their serviceSelectors do not select the Service.
    ServiceSelectorsExclude {
        /// The pool.
        pool: String,
        /// The advertisements covering the pool, by name.
        advertisements: Vec<String>,
    },
    /// The Service has no ready endpoint, and no serving one, anywhere.
    NoEndpoints,
    /// Layer2: no node may announce it; why not, node by node.
    NoCandidate {
        /// Each known or live node, and why it may not.
        nodes: BTreeMap<String, NodeRejection>,
    },
    /// Layer2: the address is shared, and the node chosen for it (the one serving the most of
    /// the sharing Services) may not serve this one.
    OwnerCannotServe {
        /// The owner of the shared address.
        owner: String,
        /// Why it may not serve this Service.
        rejection: NodeRejection,
    },
    /// BGP: this node may not advertise it.
    NodeRejected {
        /// This node.
        node: String,
        /// Why not.
        rejection: NodeRejection,
    },
    /// BGP: this node may advertise it, but no configured peer is named by a matching
    /// advertisement, selects this node and carries the address's family (its own, or both
    /// with dualStackAddressFamily).
    NoPeer {
        /// The matching advertisements selecting this node, by name.
        advertisements: Vec<String>,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoPool { address } => write!(f, "{address} lies in no configured IPAddressPool"),
            Reason::NoAdvertisement { pool } => write!(f, "no advertisement covers pool {pool}"),
            Reason::ServiceSelectorsExclude { pool, advertisements } => write!(
                f,
                "the serviceSelectors of the advertisements covering pool {pool} ({}) do not select the Service",
                advertisements.join(", ")
            ),
            Reason::NoEndpoints => f.write_str("the Service has no ready or serving endpoint"),
            Reason::NoCandidate { nodes } => {
                f.write_str("no node may announce it")?;
                if nodes.is_empty() {
                    return f.write_str(" (no node is known)");
                }
                let mut separator = ": ";
                for (node, rejection) in nodes {
                    write!(f, "{separator}{node}: {rejection}")?;
                    separator = "; ";
                }
                Ok(())
            }
            Reason::OwnerCannotServe { owner, rejection } => {
                write!(f, "the address is shared and its owner {owner} cannot serve this Service: {rejection}")
            }
            Reason::NodeRejected { node, rejection } => write!(f, "node {node} may not advertise it: {rejection}"),
            Reason::NoPeer { advertisements } => {
                write!(
                    f,
                    "no BGPPeer named by the advertisements ({}) selects this node and carries this address family \
                     (a peer carries its own family, or both with dualStackAddressFamily)",
                    advertisements.join(", ")
                )
            }
        }
    }
}
