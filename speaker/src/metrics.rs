//! The speaker's Prometheus metrics (prometheus-client), registered once.
//!
//! Layer2 and member counters are kept by their modules as atomics; they are copied into the
//! exported families when /metrics is read ([`Metrics::encode`]), so the hot paths never touch the
//! registry. What is announced is handed over by the decision loop ([`Metrics::set_announced`])
//! as the decision itself (shared, not copied) and turned into samples only when /metrics is
//! read: at 10,000 Services, a family of label sets kept current on every decision cost the
//! speaker megabytes and a rebuild per change.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::announcer::{BgpDecision, BgpOutcome, ServiceKey};
use crate::bfd::metrics::BfdMetrics;
use crate::bgp::metrics::BgpMetrics;
use crate::layer2::counters::Layer2Counters;
use crate::members;

/// What this node announces, for `ferrolb_speaker_announced{service,protocol,node,ip}`.
#[derive(Debug, Clone, Default)]
pub struct Announced {
    /// This node.
    pub node: String,
    /// The BGP decision: its advertised addresses (the same `Arc` the sessions get).
    pub bgp: Arc<BgpDecision>,
    /// The addresses this node answers for in Layer2, by Service.
    pub layer2: Vec<(ServiceKey, IpAddr)>,
}

/// Encodes [`Announced`] on each scrape.
#[derive(Debug, Default)]
struct AnnouncedCollector(Mutex<Announced>);

impl Collector for AnnouncedCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let now = self.0.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let mut metric = encoder.encode_descriptor(
            "speaker_announced",
            "1 for each address this node announces, by Service and protocol",
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        let advertised = now.bgp.verdicts.iter().flat_map(|(service, verdicts)| {
            verdicts
                .iter()
                .filter(|v| matches!(v.outcome, BgpOutcome::Advertised { .. }))
                .map(move |v| (service, "bgp", v.address))
        });
        let answered = now.layer2.iter().map(|(service, ip)| (service, "layer2", *ip));
        for (service, protocol, ip) in advertised.chain(answered) {
            let (service, ip) = (service.to_string(), ip.to_string());
            let labels = [
                ("service", service.as_str()),
                ("protocol", protocol),
                ("node", now.node.as_str()),
                ("ip", ip.as_str()),
            ];
            metric.encode_family(&labels)?.encode_gauge(&1i64)?;
        }
        Ok(())
    }
}

/// Labels of the Layer2 counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Layer2Labels {
    /// The interface.
    pub interface: String,
    /// `arp` or `ndp`.
    pub family: String,
}

/// Labels of the Layer2 handoff counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HandoffLabels {
    /// How the handoff ended: `heard`, `bound`, `cut` or `regained` (see [`crate::layer2::release::Outcome`]).
    pub outcome: String,
}

/// Labels of the rejected heartbeat counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectLabels {
    /// Why: `malformed`, `bad_tag`, `unknown_sender`, `stale` or `replay` (see [`members::RejectReason`]).
    pub reason: String,
}

/// Every metric the speaker exports.
pub struct Metrics {
    registry: Registry,
    announced: Arc<AnnouncedCollector>,
    requests: Family<Layer2Labels, Counter>,
    responses: Family<Layer2Labels, Counter>,
    gratuitous: Family<Layer2Labels, Counter>,
    members_alive: Gauge,
    member_failures: Counter,
    member_unheard: Counter,
    member_rejected: Family<RejectLabels, Counter>,
    handoffs: Family<HandoffLabels, Counter>,
    layer2: Layer2Counters,
    members: Mutex<Option<Arc<members::Counters>>>,
    /// BGP mode's metrics, registered in the same registry.
    pub bgp: BgpMetrics,
    /// BFD's metrics, registered in the same registry.
    pub bfd: BfdMetrics,
    /// The stray relay's metrics, registered in the same registry.
    pub relay: crate::relay::RelayMetrics,
}

impl Metrics {
    /// Registers every family; Layer2 counts come from `layer2`.
    pub fn new(layer2: Layer2Counters) -> Self {
        let mut registry = Registry::with_prefix("ferrolb");
        let announced = Arc::new(AnnouncedCollector::default());
        let requests = Family::<Layer2Labels, Counter>::default();
        let responses = Family::<Layer2Labels, Counter>::default();
        let gratuitous = Family::<Layer2Labels, Counter>::default();
        let members_alive = Gauge::default();
        let member_failures = Counter::default();
        let member_unheard = Counter::default();
        let member_rejected = Family::<RejectLabels, Counter>::default();
        for reason in members::RejectReason::ALL {
            let _ = member_rejected.get_or_create(&RejectLabels { reason: reason.as_str().to_owned() });
        }
        let handoffs = Family::<HandoffLabels, Counter>::default();
        for outcome in ["heard", "bound", "cut", "regained"] {
            let _ = handoffs.get_or_create(&HandoffLabels { outcome: outcome.to_owned() });
        }
        registry.register(
            "layer2_handoffs",
            "Addresses this node stopped owning while healthy and kept answering until their new owner announced \
             them (heard), the wait ran out (bound), this node became unhealthy (cut), or it owned them again (regained)",
            handoffs.clone(),
        );
        registry.register_collector(Box::new(announced.clone()));
        registry.register(
            "layer2_requests_received",
            "ARP requests and Neighbor Solicitations received",
            requests.clone(),
        );
        registry.register("layer2_responses_sent", "ARP replies and Neighbor Advertisements sent", responses.clone());
        registry.register("layer2_gratuitous_sent", "Gratuitous ARP and unsolicited NA sent", gratuitous.clone());
        registry.register("members_alive", "Speakers this node sees alive, itself included", members_alive.clone());
        registry.register("member_failures_detected", "Speakers this node saw fail", member_failures.clone());
        registry.register(
            "member_unheard_step_downs",
            "Times this node stepped down because the members it hears reported not hearing it",
            member_unheard.clone(),
        );
        registry.register(
            "member_heartbeats_rejected",
            "Datagrams on the member port dropped: malformed, with a tag no key makes (forged), from a node that is \
             not a member, sent too far from our clock (stale), or not newer than the last accepted (replay)",
            member_rejected.clone(),
        );
        let bgp = BgpMetrics::register(&mut registry);
        let bfd = BfdMetrics::register(&mut registry);
        let relay = crate::relay::RelayMetrics::register(&mut registry);
        Self {
            registry,
            announced,
            requests,
            responses,
            gratuitous,
            members_alive,
            member_failures,
            member_unheard,
            member_rejected,
            handoffs,
            layer2,
            members: Mutex::new(None),
            bgp,
            bfd,
            relay,
        }
    }

    /// Where member counts come from, once the prober runs.
    pub fn set_member_counters(&self, counters: Arc<members::Counters>) {
        *self.members.lock().unwrap_or_else(PoisonError::into_inner) = Some(counters);
    }

    /// Counts one ended Layer2 handoff.
    pub fn count_handoff(&self, outcome: &str) {
        self.handoffs.get_or_create(&HandoffLabels { outcome: outcome.to_owned() }).inc();
    }

    /// Replaces the announced addresses.
    pub fn set_announced(&self, announced: Announced) {
        *self.announced.0.lock().unwrap_or_else(PoisonError::into_inner) = announced;
    }

    /// The metrics in Prometheus' text format.
    pub fn encode(&self) -> String {
        self.refresh();
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    fn refresh(&self) {
        for sample in self.layer2.snapshot() {
            let labels = Layer2Labels { interface: sample.interface.clone(), family: sample.family.as_str().into() };
            store(&self.requests, &labels, sample.requests_received);
            store(&self.responses, &labels, sample.responses_sent);
            store(&self.gratuitous, &labels, sample.gratuitous_sent);
        }
        let members = self.members.lock().unwrap_or_else(PoisonError::into_inner).clone();
        match members {
            Some(m) => {
                self.members_alive.set(i64::try_from(m.members_alive()).unwrap_or(i64::MAX));
                self.member_failures.inner().store(m.failures_detected(), Ordering::Relaxed);
                self.member_unheard.inner().store(m.unheard(), Ordering::Relaxed);
                for reason in members::RejectReason::ALL {
                    let labels = RejectLabels { reason: reason.as_str().to_owned() };
                    self.member_rejected.get_or_create(&labels).inner().store(m.rejected(reason), Ordering::Relaxed);
                }
            }
            None => {
                self.members_alive.set(0);
            }
        }
    }
}

fn store(family: &Family<Layer2Labels, Counter>, labels: &Layer2Labels, value: u64) {
    let counter = family.get_or_create(labels);
    let inner: &AtomicU64 = counter.inner();
    inner.store(value, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer2::counters::FamilyCounters;

    #[test]
    fn families_carry_their_names_labels_and_current_counts() {
        let layer2 = Layer2Counters::default();
        let m = Metrics::new(layer2.clone());
        FamilyCounters::bump(&layer2.for_interface("eth0").arp.requests_received);
        FamilyCounters::bump(&layer2.for_interface("eth0").arp.requests_received);
        FamilyCounters::bump(&layer2.for_interface("eth0").ndp.gratuitous_sent);
        let mut bgp = BgpDecision::default();
        let advertised = |address: &str| crate::announcer::BgpVerdict {
            address: address.parse().unwrap(),
            pool: None,
            outcome: BgpOutcome::Advertised { peers: vec![], advertisements: vec![] },
        };
        let not = crate::announcer::BgpVerdict {
            address: "203.0.113.9".parse().unwrap(),
            pool: None,
            outcome: BgpOutcome::NotAdvertised(crate::announcer::Reason::NoEndpoints),
        };
        bgp.verdicts.insert(ServiceKey::new("team", "api"), vec![advertised("203.0.113.7"), not]);
        m.set_announced(Announced {
            node: "node1".into(),
            bgp: Arc::new(bgp),
            layer2: vec![(ServiceKey::new("default", "web"), "198.51.100.200".parse().unwrap())],
        });
        let text = m.encode();
        assert!(text.contains(r#"ferrolb_layer2_requests_received_total{interface="eth0",family="arp"} 2"#), "{text}");
        assert!(text.contains(r#"ferrolb_layer2_gratuitous_sent_total{interface="eth0",family="ndp"} 1"#), "{text}");
        assert!(
            text.contains(
                r#"ferrolb_speaker_announced{service="default/web",protocol="layer2",node="node1",ip="198.51.100.200"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"ferrolb_speaker_announced{service="team/api",protocol="bgp",node="node1",ip="203.0.113.7"} 1"#
            ),
            "{text}"
        );
        assert!(!text.contains("203.0.113.9"), "not advertised, not shown:\n{text}");
        assert!(text.contains("# TYPE ferrolb_speaker_announced gauge"), "{text}");
        assert!(text.contains("ferrolb_members_alive 0"), "{text}");
        assert!(text.contains("ferrolb_member_failures_detected_total 0"), "{text}");
        m.bgp.session_up("router", "node1", true);
        let text = m.encode();
        assert!(
            text.contains(r#"ferrolb_bgp_session_up{peer="router",node="node1"} 1"#),
            "one prefix, not two:\n{text}"
        );
        m.set_announced(Announced::default());
        assert!(!m.encode().contains("default/web"));
    }
}
