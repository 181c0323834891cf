//! Counters of the Layer2 responder, per interface and address family, for the metrics module to read.
//!
//! Decides nothing; the responder increments, [`Layer2Counters::snapshot`] reads. Counters of an interface
//! survive its responder being restarted (a MAC change, a link flap), so they only ever grow.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// ARP (IPv4) or NDP (IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// ARP.
    Arp,
    /// Neighbor Discovery.
    Ndp,
}

impl Family {
    /// A label value for metrics: "arp" or "ndp".
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Arp => "arp",
            Family::Ndp => "ndp",
        }
    }
}

/// Counters of one family on one interface.
#[derive(Debug, Default)]
pub struct FamilyCounters {
    /// Valid ARP requests / Neighbor Solicitations received, for any address.
    pub requests_received: AtomicU64,
    /// Replies / solicited advertisements sent for owned addresses.
    pub responses_sent: AtomicU64,
    /// Gratuitous ARP frames / unsolicited advertisements sent.
    pub gratuitous_sent: AtomicU64,
    /// Frames that could not be sent.
    pub send_errors: AtomicU64,
}

impl FamilyCounters {
    /// Adds one to `counter` (one of this struct's fields).
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counters of one interface.
#[derive(Debug, Default)]
pub struct InterfaceCounters {
    /// IPv4.
    pub arp: FamilyCounters,
    /// IPv6.
    pub ndp: FamilyCounters,
}

impl InterfaceCounters {
    /// The counters of `family`.
    pub fn family(&self, family: Family) -> &FamilyCounters {
        match family {
            Family::Arp => &self.arp,
            Family::Ndp => &self.ndp,
        }
    }
}

/// One row of [`Layer2Counters::snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterSample {
    /// Interface name.
    pub interface: String,
    /// Address family.
    pub family: Family,
    /// See [`FamilyCounters::requests_received`].
    pub requests_received: u64,
    /// See [`FamilyCounters::responses_sent`].
    pub responses_sent: u64,
    /// See [`FamilyCounters::gratuitous_sent`].
    pub gratuitous_sent: u64,
    /// See [`FamilyCounters::send_errors`].
    pub send_errors: u64,
}

/// All interfaces' counters; cheap to clone, shared between the responder and the metrics module.
#[derive(Debug, Clone, Default)]
pub struct Layer2Counters {
    interfaces: Arc<Mutex<BTreeMap<String, Arc<InterfaceCounters>>>>,
}

impl Layer2Counters {
    /// The counters of `interface`, created at zero on first use.
    pub fn for_interface(&self, interface: &str) -> Arc<InterfaceCounters> {
        let mut map = self.interfaces.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(interface.to_string()).or_default().clone()
    }

    /// Every interface and family, sorted by interface then family.
    pub fn snapshot(&self) -> Vec<CounterSample> {
        let map = self.interfaces.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::with_capacity(map.len() * 2);
        for (name, counters) in map.iter() {
            for family in [Family::Arp, Family::Ndp] {
                let c = counters.family(family);
                out.push(CounterSample {
                    interface: name.clone(),
                    family,
                    requests_received: c.requests_received.load(Ordering::Relaxed),
                    responses_sent: c.responses_sent.load(Ordering::Relaxed),
                    gratuitous_sent: c.gratuitous_sent.load(Ordering::Relaxed),
                    send_errors: c.send_errors.load(Ordering::Relaxed),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_shared_and_survive_a_restart() {
        let all = Layer2Counters::default();
        FamilyCounters::bump(&all.for_interface("eth0").arp.responses_sent);
        FamilyCounters::bump(&all.clone().for_interface("eth0").arp.responses_sent);
        FamilyCounters::bump(&all.for_interface("eth0").ndp.gratuitous_sent);
        let snapshot = all.snapshot();
        assert_eq!(snapshot.len(), 2);
        assert_eq!((snapshot[0].family, snapshot[0].responses_sent, snapshot[0].gratuitous_sent), (Family::Arp, 2, 0));
        assert_eq!((snapshot[1].family, snapshot[1].responses_sent, snapshot[1].gratuitous_sent), (Family::Ndp, 0, 1));
    }
}
