//! A Service's FerroLB annotations, read from plain values into a [`ServiceRequest`].
//!
//! Three annotations live under `ferrolb.io/`: `address-pool`, `loadBalancerIPs` and
//! `allow-shared-ip`. MetalLB's spellings under `metallb.io/` and `metallb.universe.tf/` are read
//! as aliases, in that order of precedence after `ferrolb.io/`, and every alias read is reported
//! so the controller can tell the user in an Event. The deprecated `spec.loadBalancerIP` is read
//! when no `loadBalancerIPs` annotation is set.
//!
//! Two kinds of findings come back: [`AnnotationWarning`]s (something was ignored, the request
//! still stands) and [`AnnotationError`]s (the request cannot be honoured as written).
//! An empty value counts as not set, as in MetalLB, and is warned about.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::addresses::Family;
use crate::names::{NameProblem, check_dns_subdomain};

/// One of the Service annotations FerroLB reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Annotation {
    /// `ferrolb.io/address-pool`: the name of the pool to allocate from.
    AddressPool,
    /// `ferrolb.io/loadBalancerIPs`: the addresses asked for, at most one per family.
    LoadBalancerIps,
    /// `ferrolb.io/allow-shared-ip`: the sharing key; Services with the same key may share an IP.
    AllowSharedIp,
}

impl Annotation {
    /// Every annotation FerroLB reads.
    pub const ALL: [Annotation; 3] = [Annotation::AddressPool, Annotation::LoadBalancerIps, Annotation::AllowSharedIp];

    /// The FerroLB key, e.g. `ferrolb.io/address-pool`.
    pub fn key(self) -> &'static str {
        self.keys()[0]
    }

    /// MetalLB's keys read as aliases, in order of precedence: `metallb.io/…`, then
    /// `metallb.universe.tf/…`.
    pub fn aliases(self) -> [&'static str; 2] {
        let [_, current, deprecated] = self.keys();
        [current, deprecated]
    }

    fn keys(self) -> [&'static str; 3] {
        match self {
            Annotation::AddressPool => {
                ["ferrolb.io/address-pool", "metallb.io/address-pool", "metallb.universe.tf/address-pool"]
            }
            Annotation::LoadBalancerIps => {
                ["ferrolb.io/loadBalancerIPs", "metallb.io/loadBalancerIPs", "metallb.universe.tf/loadBalancerIPs"]
            }
            Annotation::AllowSharedIp => {
                ["ferrolb.io/allow-shared-ip", "metallb.io/allow-shared-ip", "metallb.universe.tf/allow-shared-ip"]
            }
        }
    }
}

/// The Service field read when no `loadBalancerIPs` annotation is set.
pub const LOAD_BALANCER_IP_FIELD: &str = "spec.loadBalancerIP";

/// The name of an IPAddressPool: a valid Kubernetes object name (DNS-1123 subdomain).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolName(String);

impl PoolName {
    /// The pool name `name`, if it is a valid object name.
    pub fn new(name: impl Into<String>) -> Result<Self, NameProblem> {
        let name = name.into();
        check_dns_subdomain(&name)?;
        Ok(PoolName(name))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PoolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A sharing key: Services with equal keys may share an address. Compared exactly, as MetalLB
/// does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SharingKey(String);

/// A sharing key was empty (or only whitespace).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a sharing key must not be empty")]
pub struct EmptySharingKey;

impl SharingKey {
    /// The sharing key `key`, if it is not empty or only whitespace.
    pub fn new(key: impl Into<String>) -> Result<Self, EmptySharingKey> {
        let key = key.into();
        if key.trim().is_empty() {
            return Err(EmptySharingKey);
        }
        Ok(SharingKey(key))
    }

    /// The key as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SharingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A MetalLB alias key that was read in place of the FerroLB key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AliasUse {
    /// The key read, e.g. `metallb.universe.tf/address-pool`.
    pub alias: &'static str,
    /// The FerroLB key it stands for, e.g. `ferrolb.io/address-pool`.
    pub canonical: &'static str,
}

impl fmt::Display for AliasUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is read as {}", self.alias, self.canonical)
    }
}

/// Where the requested addresses came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestSource {
    /// An annotation, by the key actually read (FerroLB's or an alias).
    Annotation(&'static str),
    /// The deprecated `spec.loadBalancerIP`.
    LoadBalancerIp,
}

impl fmt::Display for RequestSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestSource::Annotation(key) => f.write_str(key),
            RequestSource::LoadBalancerIp => f.write_str(LOAD_BALANCER_IP_FIELD),
        }
    }
}

/// Something in the Service was ignored; the request stands without it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnotationWarning {
    /// Two spellings of one annotation disagree; the first in precedence wins.
    #[error("{ignored} is {ignored_value:?} but {used} is {used_value:?}; {used} wins")]
    AliasConflict {
        /// The key whose value is used.
        used: &'static str,
        /// Its value.
        used_value: String,
        /// The key whose value is ignored.
        ignored: &'static str,
        /// Its value.
        ignored_value: String,
    },
    /// `spec.loadBalancerIP` asks for an address the `loadBalancerIPs` annotation does not list.
    #[error("spec.loadBalancerIP {value:?} is ignored because {key} is set and wins")]
    LoadBalancerIpIgnored {
        /// The value of `spec.loadBalancerIP`.
        value: String,
        /// The annotation key that wins.
        key: &'static str,
    },
    /// An annotation is set to an empty value, which counts as not set.
    #[error("{key} is empty and is ignored")]
    EmptyValue {
        /// The key with the empty value.
        key: &'static str,
    },
}

/// Something in the Service that makes its request impossible to honour as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnotationError {
    /// The pool annotation does not hold a valid pool name.
    #[error("{key} names pool {value:?}, which is not a valid pool name: {problem}")]
    InvalidPoolName {
        /// The key read.
        key: &'static str,
        /// The value as written.
        value: String,
        /// Why it is not a valid name.
        problem: NameProblem,
    },
    /// An entry of the addresses annotation is not an IP address.
    #[error("{key} lists {entry:?}, which is not an IP address")]
    InvalidAddress {
        /// The key read.
        key: &'static str,
        /// The entry, trimmed.
        entry: String,
    },
    /// The addresses annotation lists more than two addresses.
    #[error("{key} lists {count} addresses, but at most two (one IPv4, one IPv6) may be asked for")]
    TooManyAddresses {
        /// The key read.
        key: &'static str,
        /// How many were listed.
        count: usize,
    },
    /// The addresses annotation lists two addresses of one family.
    #[error("{key} lists two {family} addresses, {first} and {second}, but at most one per family may be asked for")]
    TwoOfOneFamily {
        /// The key read.
        key: &'static str,
        /// Their family.
        family: Family,
        /// The first address listed.
        first: IpAddr,
        /// The second address listed.
        second: IpAddr,
    },
    /// `spec.loadBalancerIP` is not an IP address.
    #[error("spec.loadBalancerIP {value:?} is not an IP address")]
    InvalidLoadBalancerIp {
        /// The value as written.
        value: String,
    },
}

/// What a Service asks of FerroLB, as its annotations and `spec.loadBalancerIP` say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceRequest {
    /// The pool to allocate from, if one is named.
    pub pool: Option<PoolName>,
    /// The addresses asked for, at most one per family, in the order written; IPv4-mapped IPv6
    /// addresses are read as IPv4, as MetalLB reads them.
    pub requested: Vec<IpAddr>,
    /// Where `requested` came from, when addresses were asked for (even if invalid).
    pub requested_from: Option<RequestSource>,
    /// The sharing key, if sharing is allowed.
    pub sharing_key: Option<SharingKey>,
    /// MetalLB alias keys that were read.
    pub aliases: Vec<AliasUse>,
    /// Things ignored; the request stands.
    pub warnings: Vec<AnnotationWarning>,
    /// Things that make the request impossible to honour as written.
    pub problems: Vec<AnnotationError>,
}

impl ServiceRequest {
    /// Whether the request can be honoured as written (warnings aside).
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Reads a Service's request from its `annotations` and its `spec.loadBalancerIP`.
pub fn parse(annotations: &BTreeMap<String, String>, load_balancer_ip: Option<&str>) -> ServiceRequest {
    let mut request = ServiceRequest::default();

    if let Some((key, value)) = pick(annotations, Annotation::AddressPool, &mut request) {
        match PoolName::new(value) {
            Ok(pool) => request.pool = Some(pool),
            Err(problem) => {
                request.problems.push(AnnotationError::InvalidPoolName { key, value: value.to_owned(), problem })
            }
        }
    }

    let load_balancer_ip = load_balancer_ip.filter(|value| !value.is_empty());
    if let Some((key, value)) = pick(annotations, Annotation::LoadBalancerIps, &mut request) {
        request.requested_from = Some(RequestSource::Annotation(key));
        match parse_address_list(key, value) {
            Ok(ips) => request.requested = ips,
            Err(problems) => request.problems.extend(problems),
        }
        if let Some(value) = load_balancer_ip {
            let agrees = value.parse::<IpAddr>().is_ok_and(|ip| request.requested.contains(&ip.to_canonical()));
            if !agrees {
                request.warnings.push(AnnotationWarning::LoadBalancerIpIgnored { value: value.to_owned(), key });
            }
        }
    } else if let Some(value) = load_balancer_ip {
        request.requested_from = Some(RequestSource::LoadBalancerIp);
        match value.parse::<IpAddr>() {
            Ok(ip) => request.requested = vec![ip.to_canonical()],
            Err(_) => request.problems.push(AnnotationError::InvalidLoadBalancerIp { value: value.to_owned() }),
        }
    }

    if let Some((_, value)) = pick(annotations, Annotation::AllowSharedIp, &mut request) {
        // `pick` returns no empty value, so this cannot fail; stay total all the same.
        request.sharing_key = SharingKey::new(value).ok();
    }

    request
}

/// The key and non-empty value of the first spelling of `annotation` that is set, recording
/// alias use, empty values and disagreeing spellings in `request`.
fn pick<'a>(
    annotations: &'a BTreeMap<String, String>,
    annotation: Annotation,
    request: &mut ServiceRequest,
) -> Option<(&'static str, &'a str)> {
    let mut chosen: Option<(&'static str, &'a str)> = None;
    for key in annotation.keys() {
        let Some(value) = annotations.get(key).map(String::as_str) else {
            continue;
        };
        if value.trim().is_empty() {
            request.warnings.push(AnnotationWarning::EmptyValue { key });
            continue;
        }
        match chosen {
            None => {
                chosen = Some((key, value));
                if key != annotation.key() {
                    request.aliases.push(AliasUse { alias: key, canonical: annotation.key() });
                }
            }
            Some((used, used_value)) if !same_value(annotation, used_value, value) => {
                request.warnings.push(AnnotationWarning::AliasConflict {
                    used,
                    used_value: used_value.to_owned(),
                    ignored: key,
                    ignored_value: value.to_owned(),
                });
            }
            Some(_) => {}
        }
    }
    chosen
}

/// Whether two spellings say the same; address lists may differ in spacing.
fn same_value(annotation: Annotation, a: &str, b: &str) -> bool {
    match annotation {
        Annotation::LoadBalancerIps => a.split(',').map(str::trim).eq(b.split(',').map(str::trim)),
        Annotation::AddressPool | Annotation::AllowSharedIp => a == b,
    }
}

/// "ip[,ip]" with spaces tolerated around entries; at most one address per family.
fn parse_address_list(key: &'static str, value: &str) -> Result<Vec<IpAddr>, Vec<AnnotationError>> {
    let mut ips = Vec::new();
    let mut problems = Vec::new();
    for entry in value.split(',').map(str::trim) {
        match entry.parse::<IpAddr>() {
            Ok(ip) => ips.push(ip.to_canonical()),
            Err(_) => problems.push(AnnotationError::InvalidAddress { key, entry: entry.to_owned() }),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    match ips.as_slice() {
        [first, second] if Family::of(*first) == Family::of(*second) => Err(vec![AnnotationError::TwoOfOneFamily {
            key,
            family: Family::of(*first),
            first: *first,
            second: *second,
        }]),
        [_, _, _, ..] => Err(vec![AnnotationError::TooManyAddresses { key, count: ips.len() }]),
        _ => Ok(ips),
    }
}

#[cfg(test)]
mod tests;
