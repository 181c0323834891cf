//! The allocator's rules, one rule a test: a few builders, one assertion.

// A panic in a test is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::IpAddr;

use ferrolb_core::annotations::{AnnotationError, PoolName, SharingKey};
use ferrolb_core::config::{Allocation, Pool};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::*;

mod families;
mod lifecycle;
mod pool_changes;
mod selection;
mod sharing;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn key(namespace: &str, name: &str) -> ServiceKey {
    ServiceKey::new(namespace, name)
}

fn pool_name(name: &str) -> PoolName {
    PoolName::new(name).unwrap()
}

/// A pool that assigns automatically, with no serviceAllocation.
fn pool(name: &str, ranges: &[&str]) -> Pool {
    Pool {
        name: name.to_owned(),
        labels: Default::default(),
        ranges: ranges.iter().map(|range| range.parse().unwrap()).collect(),
        auto_assign: true,
        avoid_buggy_ips: false,
        allocation: None,
    }
}

fn pools(list: impl IntoIterator<Item = Pool>) -> BTreeMap<String, Pool> {
    list.into_iter().map(|pool| (pool.name.clone(), pool)).collect()
}

fn alloc(list: impl IntoIterator<Item = Pool>) -> Allocator {
    Allocator::new(&pools(list))
}

fn selector(label: &str, value: &str) -> LabelSelector {
    LabelSelector { match_labels: Some([(label.to_owned(), value.to_owned())].into()), match_expressions: None }
}

/// Pool settings, chained.
trait PoolBuild {
    fn manual(self) -> Self;
    fn avoid_buggy(self) -> Self;
    fn priority(self, priority: i32) -> Self;
    fn namespaces(self, namespaces: &[&str]) -> Self;
    fn namespace_selector(self, label: &str, value: &str) -> Self;
    fn service_selector(self, label: &str, value: &str) -> Self;
}

impl PoolBuild for Pool {
    fn manual(self) -> Self {
        Pool { auto_assign: false, ..self }
    }

    fn avoid_buggy(self) -> Self {
        Pool { avoid_buggy_ips: true, ..self }
    }

    fn priority(mut self, priority: i32) -> Self {
        allocation(&mut self).priority = Some(priority);
        self
    }

    fn namespaces(mut self, namespaces: &[&str]) -> Self {
        allocation(&mut self).namespaces = namespaces.iter().map(|ns| ns.to_string()).collect();
        self
    }

    fn namespace_selector(mut self, label: &str, value: &str) -> Self {
        allocation(&mut self).namespace_selectors.push(selector(label, value));
        self
    }

    fn service_selector(mut self, label: &str, value: &str) -> Self {
        allocation(&mut self).service_selectors.push(selector(label, value));
        self
    }
}

fn allocation(pool: &mut Pool) -> &mut Allocation {
    pool.allocation.get_or_insert_with(|| Allocation {
        priority: None,
        namespaces: Vec::new(),
        namespace_selectors: Vec::new(),
        service_selectors: Vec::new(),
    })
}

/// A Service wanting one IPv4 address, no ports, no request.
fn svc(namespace: &str, name: &str) -> ServiceSpec {
    ServiceSpec::new(key(namespace, name))
}

/// Service settings, chained.
trait ServiceBuild {
    fn sharing_key(self, key: &str) -> Self;
    fn no_sharing_key(self) -> Self;
    fn tcp(self, port: u16) -> Self;
    fn udp(self, port: u16) -> Self;
    fn requested(self, address: &str) -> Self;
    fn pool(self, name: &str) -> Self;
    fn local(self) -> Self;
    fn selector(self, label: &str, value: &str) -> Self;
    fn label(self, label: &str, value: &str) -> Self;
    fn namespace_label(self, label: &str, value: &str) -> Self;
    fn families(self, families: IpFamilies) -> Self;
    fn problem(self, problem: AnnotationError) -> Self;
}

impl ServiceBuild for ServiceSpec {
    fn sharing_key(mut self, key: &str) -> Self {
        self.request.sharing_key = Some(SharingKey::new(key).unwrap());
        self
    }

    fn no_sharing_key(mut self) -> Self {
        self.request.sharing_key = None;
        self
    }

    fn tcp(mut self, port: u16) -> Self {
        self.ports.push(Port::tcp(port));
        self
    }

    fn udp(mut self, port: u16) -> Self {
        self.ports.push(Port::udp(port));
        self
    }

    fn requested(mut self, address: &str) -> Self {
        self.request.requested.push(ip(address));
        self
    }

    fn pool(mut self, name: &str) -> Self {
        self.request.pool = Some(pool_name(name));
        self
    }

    fn local(mut self) -> Self {
        self.traffic_policy = TrafficPolicy::Local;
        self
    }

    fn selector(mut self, label: &str, value: &str) -> Self {
        std::sync::Arc::make_mut(&mut self.selector).insert(label.to_owned(), value.to_owned());
        self
    }

    fn label(mut self, label: &str, value: &str) -> Self {
        std::sync::Arc::make_mut(&mut self.labels).insert(label.to_owned(), value.to_owned());
        self
    }

    fn namespace_label(mut self, label: &str, value: &str) -> Self {
        std::sync::Arc::make_mut(&mut self.namespace_labels).insert(label.to_owned(), value.to_owned());
        self
    }

    fn families(mut self, families: IpFamilies) -> Self {
        self.families = families;
        self
    }

    fn problem(mut self, problem: AnnotationError) -> Self {
        self.request.problems.push(problem);
        self
    }
}

/// The addresses `spec` gets, as text.
fn given(alloc: &mut Allocator, spec: &ServiceSpec) -> Vec<String> {
    alloc.apply(spec).unwrap().ips().iter().map(IpAddr::to_string).collect()
}

/// Why `spec` gets nothing.
fn refused(alloc: &mut Allocator, spec: &ServiceSpec) -> Refused {
    alloc.apply(spec).unwrap_err()
}

/// The addresses `key` holds, as text.
fn held(alloc: &Allocator, key: &ServiceKey) -> Vec<String> {
    alloc.addresses(key).iter().map(|assignment| assignment.ip.to_string()).collect()
}
