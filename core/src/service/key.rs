//! The key under which every part of FerroLB knows a Service: its namespace and name.

use std::fmt;
use std::sync::Arc;

/// A Service's namespace and name.
///
/// Shared strings: the key of every Service is held by the allocator's holdings, the
/// announcer's inputs, its slices' index and every decision's verdicts, and a decision is
/// rebuilt on each change. Cloning a key is then two counter increments instead of two
/// allocations (figures: docs/performance.md).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceKey {
    /// Its namespace.
    pub namespace: Arc<str>,
    /// Its name.
    pub name: Arc<str>,
}

impl ServiceKey {
    /// The Service `namespace`/`name`.
    pub fn new(namespace: impl Into<Arc<str>>, name: impl Into<Arc<str>>) -> Self {
        ServiceKey { namespace: namespace.into(), name: name.into() }
    }
}

impl fmt::Display for ServiceKey {
    /// `namespace/name`, as kubectl writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_namespace_slash_name_and_sorts_by_namespace_first() {
        assert_eq!(ServiceKey::new("shop", "web").to_string(), "shop/web");
        assert!(ServiceKey::new("a", "z") < ServiceKey::new("b", "a"));
        let key = ServiceKey::new(String::from("shop"), "web");
        let copy = key.clone();
        assert!(Arc::ptr_eq(&key.name, &copy.name), "a clone shares the strings");
    }
}
