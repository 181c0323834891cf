//! Why a Service gets no address: each variant reads as a sentence in an Event or a condition.

use std::net::IpAddr;

use ferrolb_core::addresses::Family;
use ferrolb_core::annotations::{AnnotationError, PoolName};

use super::service::{Port, ServiceKey};

/// Why the allocator refuses a Service an address. Deterministic: the same state and the same
/// Service always give the same reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The Service's annotations are malformed; nothing was changed.
    #[error("the Service's annotations cannot be honoured: {problem}")]
    InvalidRequest {
        /// The first problem found in the annotations.
        problem: AnnotationError,
    },
    /// The pool named by the address-pool annotation does not exist.
    #[error("pool {pool} does not exist")]
    PoolNotFound {
        /// The pool named.
        pool: PoolName,
    },
    /// The pool named by the address-pool annotation does not admit this Service.
    #[error("pool {pool} does not serve this Service: its serviceAllocation selects other namespaces or Services")]
    PoolNotAllowed {
        /// The pool named.
        pool: PoolName,
    },
    /// The pool named by the address-pool annotation has no addresses of the family.
    #[error("pool {pool} has no {family} addresses")]
    PoolLacksFamily {
        /// The pool named.
        pool: PoolName,
        /// The family asked for.
        family: Family,
    },
    /// The only pool that may serve this Service has no free address of the family.
    #[error("pool {pool} has no free {family} address")]
    PoolExhausted {
        /// The pool.
        pool: PoolName,
        /// The family asked for.
        family: Family,
    },
    /// Several pools may serve this Service, and none has a free address of the family.
    #[error("every pool that may serve this Service is out of {family} addresses: {}", names(pools))]
    PoolsExhausted {
        /// The family asked for.
        family: Family,
        /// The pools tried, in the order they were tried.
        pools: Vec<PoolName>,
    },
    /// No pool assigns addresses automatically to this Service.
    #[error(
        "no pool assigns addresses automatically to this Service in namespace {namespace}: \
         name a pool, or make a pool's serviceAllocation select it"
    )]
    NoPoolMatches {
        /// The Service's namespace.
        namespace: String,
    },
    /// Pools may serve this Service, but none has addresses of the family.
    #[error("no pool that may serve this Service has {family} addresses")]
    FamilyUnavailable {
        /// The family asked for.
        family: Family,
    },
    /// The Service does not want an address of this family.
    #[error("{address} is an {family} address, and the Service asks for no {family} address")]
    FamilyNotWanted {
        /// The address.
        address: IpAddr,
        /// Its family.
        family: Family,
    },
    /// The Service asks for specific addresses, but for none of this family.
    #[error("the Service asks for specific addresses, but for no {family} address")]
    NoRequestedAddressOfFamily {
        /// The family wanted.
        family: Family,
    },
    /// Two addresses of one family were given for one Service.
    #[error("{first} and {second} are both {family} addresses, and a Service has at most one per family")]
    TwoAddressesOneFamily {
        /// Their family.
        family: Family,
        /// The address kept or asked for first.
        first: IpAddr,
        /// The other one.
        second: IpAddr,
    },
    /// The address lies in no pool.
    #[error("{address} is in no pool")]
    NotInAnyPool {
        /// The address.
        address: IpAddr,
    },
    /// The address lies in a pool whose serviceAllocation does not admit this Service.
    #[error("{address} is in pool {pool}, whose serviceAllocation does not admit this Service")]
    NotAllowed {
        /// The address.
        address: IpAddr,
        /// Its pool.
        pool: PoolName,
    },
    /// The address ends in .0 or .255 and its pool avoids those.
    #[error("{address} ends in .0 or .255, which pool {pool} avoids (avoidBuggyIPs)")]
    AvoidedAddress {
        /// The address.
        address: IpAddr,
        /// Its pool.
        pool: PoolName,
    },
    /// The address lies outside the pool the Service names.
    #[error("{address} is not in pool {pool}, which the Service names")]
    OutsideNamedPool {
        /// The address.
        address: IpAddr,
        /// The pool the Service names.
        pool: PoolName,
    },
    /// The Service asks for another address of this family.
    #[error("the Service asks for {requested}, not {address}")]
    NotRequested {
        /// The address given.
        address: IpAddr,
        /// The address the Service asks for.
        requested: IpAddr,
    },
    /// The address is used by a Service with which no sharing is possible: one of the two has
    /// no sharing key.
    #[error("{address} is in use by Service {by}, and only Services with the same sharing key may share an address")]
    AddressInUse {
        /// The address.
        address: IpAddr,
        /// The Service using it.
        by: ServiceKey,
    },
    /// The address is used by a Service with another sharing key.
    #[error("Service {with} uses this address with another sharing key")]
    SharingKeyMismatch {
        /// The Service using the address.
        with: ServiceKey,
    },
    /// The address is used by a Service exposing one of the same ports.
    #[error("port {port} is already used on this address by Service {with}")]
    PortOverlap {
        /// The Service using the port.
        with: ServiceKey,
        /// The lowest port both use.
        port: Port,
    },
    /// The address is used by a Service with another pod selector, and one of the two has
    /// externalTrafficPolicy Local.
    #[error(
        "Service {with} uses this address with another pod selector, and externalTrafficPolicy Local \
         needs the same one"
    )]
    SelectorMismatch {
        /// The Service using the address.
        with: ServiceKey,
    },
}

/// Pool names joined by commas.
fn names(pools: &[PoolName]) -> String {
    pools.iter().map(PoolName::as_str).collect::<Vec<_>>().join(", ")
}
