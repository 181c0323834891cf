//! What a speaker asked to stop (SIGTERM) does with its Layer2 addresses (pure).
//!
//! Two ways to stop without losing a request:
//! - **Restart in place**: the process stops to start again at once (a pod deleted and recreated by
//!   its DaemonSet, an upgrade rolling one node at a time) on a node that keeps forwarding: kube-proxy
//!   and the kernel do not stop with the speaker, and clients keep the node's MAC in their ARP and
//!   neighbour caches. Moving an address away and back would reset every connection open at each of
//!   the two moves, so the speaker keeps its addresses: it tells the others it restarts, they keep it
//!   as the owner for their restart window, and the next process takes over where it left.
//! - **Hand over** ([`crate::layer2::release`]): the node itself is going away or out of service, so
//!   the addresses must move; the new owners announce them before this speaker goes quiet.
//!
//! A speaker restarts in place only when that is safe: the restart window is on, it was answering,
//! and its Node is in service (not excluded from load balancers, network available, schedulable and
//! Ready). A cordoned Node is being drained, and a Node no longer Ready is shutting down (kubelet's
//! graceful node shutdown marks it so before it stops pods): both hand over.

/// What the speaker's own Node says, as far as stopping goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeService {
    /// Labelled `node.kubernetes.io/exclude-from-external-load-balancers`, or NetworkUnavailable.
    pub excluded: bool,
    /// `spec.unschedulable` (cordoned, e.g. by `kubectl drain`).
    pub cordoned: bool,
    /// Its Ready condition is True.
    pub ready: bool,
}

/// How a speaker asked to stop goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopKind {
    /// Keep the addresses; the others wait for the next process.
    RestartInPlace,
    /// Hand every address over, then stop.
    HandOver,
}

/// The way to stop, from whether the restart window is on, whether the speaker answers for
/// addresses now, and its Node.
pub fn stop_kind(restart_window_on: bool, answering: bool, node: NodeService) -> StopKind {
    let in_service = !node.excluded && !node.cordoned && node.ready;
    if restart_window_on && answering && in_service { StopKind::RestartInPlace } else { StopKind::HandOver }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IN_SERVICE: NodeService = NodeService { excluded: false, cordoned: false, ready: true };

    #[test]
    fn a_speaker_on_a_node_in_service_restarts_in_place() {
        assert_eq!(stop_kind(true, true, IN_SERVICE), StopKind::RestartInPlace);
    }

    #[test]
    fn a_node_going_out_of_service_hands_over() {
        for node in [
            NodeService { excluded: true, ..IN_SERVICE },
            NodeService { cordoned: true, ..IN_SERVICE },
            NodeService { ready: false, ..IN_SERVICE },
        ] {
            assert_eq!(stop_kind(true, true, node), StopKind::HandOver, "{node:?}");
        }
    }

    #[test]
    fn without_the_window_or_before_answering_it_hands_over() {
        assert_eq!(stop_kind(false, true, IN_SERVICE), StopKind::HandOver);
        assert_eq!(stop_kind(true, false, IN_SERVICE), StopKind::HandOver);
    }
}
