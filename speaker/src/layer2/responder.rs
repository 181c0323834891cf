//! The Layer2 responder: one tokio task per suitable interface, answering ARP requests and Neighbor
//! Solicitations for the addresses this node owns, and announcing addresses as they are gained.
//!
//! I/O, thin: what to answer comes from [`super::owned`], when to announce from [`super::schedule`], which
//! interfaces from [`crate::netif`]. It decides only the task bookkeeping: which interface tasks to start,
//! stop or restart when the interface snapshot changes ([`interface_changes`], pure and tested).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{Instrument, debug, info, info_span, warn};

use super::counters::{Family, FamilyCounters, InterfaceCounters, Layer2Counters};
use super::ethernet::MacAddr;
use super::ndp;
use super::owned::{
    Announcement, OwnedAddresses, Reaction, announced_on, announcement_in_arp, announcement_in_ndp, announcements,
    owned_on, react_to_arp, react_to_ndp,
};
use super::schedule::Announcements;
use crate::netif::Interface;
use crate::rawsock::{EtherProtocol, Ipv6GroupMember, PacketSocket};

/// The speaker's side of the responder: tells it which addresses this node owns. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Layer2Handle {
    owned: watch::Sender<Arc<OwnedAddresses>>,
}

impl Layer2Handle {
    /// Replaces the set of owned addresses. Interface tasks stop answering a removed address before they
    /// handle their next frame, and announce an added address at once (then on the [`super::schedule`]).
    /// Setting the same set again changes nothing and announces nothing.
    pub fn set_owned(&self, owned: OwnedAddresses) {
        self.owned.send_if_modified(|current| {
            if **current == owned {
                return false;
            }
            *current = Arc::new(owned);
            true
        });
    }

    /// The set last given to [`Layer2Handle::set_owned`].
    pub fn owned(&self) -> Arc<OwnedAddresses> {
        self.owned.borrow().clone()
    }
}

/// Another node's announcement heard on one of our interfaces, as the responder reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    /// What was announced.
    pub announcement: Announcement,
    /// The interface it was heard on.
    pub interface: String,
    /// When.
    pub at: Instant,
}

/// How many heard announcements may wait for the speaker; more are dropped (a release then ends by its
/// bound instead), so a flood of gratuitous ARP cannot grow memory.
const HEARD_QUEUE: usize = 256;

/// Runs one responder task per interface; dropping it stops them all.
#[derive(Debug)]
pub struct Layer2Responder {
    owned: watch::Sender<Arc<OwnedAddresses>>,
    counters: Layer2Counters,
    running: BTreeMap<u32, Running>,
    refresh: Option<Duration>,
    heard: mpsc::Sender<Heard>,
    heard_rx: Option<mpsc::Receiver<Heard>>,
}

#[derive(Debug)]
struct Running {
    key: InterfaceKey,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What identifies a running interface task: a new name or MAC on the same index means a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceKey {
    /// Interface name.
    pub name: String,
    /// Interface MAC.
    pub mac: MacAddr,
}

/// Which interface tasks to stop (by index) and start, to go from the running ones to `wanted`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InterfaceChanges {
    /// Indexes of tasks to stop: vanished, renamed, changed MAC, or finished.
    pub stop: Vec<u32>,
    /// Interfaces to start a task on.
    pub start: Vec<Interface>,
}

/// Compares running tasks (`index -> (key, still alive)`) with the wanted interfaces.
pub fn interface_changes(running: &BTreeMap<u32, (InterfaceKey, bool)>, wanted: &[Interface]) -> InterfaceChanges {
    let wanted_by_index: BTreeMap<u32, &Interface> = wanted.iter().map(|i| (i.index, i)).collect();
    let mut changes = InterfaceChanges::default();
    for (index, (key, alive)) in running {
        let keep = *alive && wanted_by_index.get(index).is_some_and(|i| i.name == key.name && i.mac == key.mac);
        if !keep {
            changes.stop.push(*index);
        }
    }
    for (index, interface) in wanted_by_index {
        if changes.stop.contains(&index) || !running.contains_key(&index) {
            changes.start.push(interface.clone());
        }
    }
    changes
}

impl Default for Layer2Responder {
    fn default() -> Self {
        Layer2Responder::new()
    }
}

impl Layer2Responder {
    /// A responder owning no address and running on no interface yet.
    pub fn new() -> Layer2Responder {
        let (heard, heard_rx) = mpsc::channel(HEARD_QUEUE);
        Layer2Responder {
            owned: watch::Sender::new(Arc::new(OwnedAddresses::new())),
            counters: Layer2Counters::default(),
            running: BTreeMap::new(),
            refresh: None,
            heard,
            heard_rx: Some(heard_rx),
        }
    }

    /// Other nodes' announcements (gratuitous ARP, Neighbor Advertisements that override caches) heard
    /// on any interface, for handing addresses over (see [`super::release`]). The receiver can be taken
    /// once; later calls return `None`.
    pub fn take_heard(&mut self) -> Option<mpsc::Receiver<Heard>> {
        self.heard_rx.take()
    }

    /// Announces every owned address again every `refresh` (see [`super::schedule`]), on interface tasks
    /// started from now on; `None` (the default) announces an address only when it is gained.
    pub fn with_gratuitous_refresh(mut self, refresh: Option<Duration>) -> Layer2Responder {
        self.refresh = refresh;
        self
    }

    /// The handle through which the speaker sets the owned addresses.
    pub fn handle(&self) -> Layer2Handle {
        Layer2Handle { owned: self.owned.clone() }
    }

    /// The counters, for the metrics module.
    pub fn counters(&self) -> Layer2Counters {
        self.counters.clone()
    }

    /// Names of the interfaces with a live task, sorted.
    pub fn running_interfaces(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.running.values().filter(|r| !r.task.is_finished()).map(|r| r.key.name.clone()).collect();
        names.sort();
        names
    }

    /// Starts tasks on new interfaces, stops them on vanished ones, restarts changed or failed ones. Must be
    /// called inside a tokio runtime, in the network namespace of the interfaces.
    pub fn set_interfaces(&mut self, interfaces: &[Interface]) {
        let running: BTreeMap<u32, (InterfaceKey, bool)> =
            self.running.iter().map(|(i, r)| (*i, (r.key.clone(), !r.task.is_finished()))).collect();
        let changes = interface_changes(&running, interfaces);
        for index in &changes.stop {
            if let Some(stopped) = self.running.remove(index) {
                info!(interface = %stopped.key.name, "layer2 responder stopped");
            }
        }
        for interface in changes.start {
            let key = InterfaceKey { name: interface.name.clone(), mac: interface.mac };
            let counters = self.counters.for_interface(&interface.name);
            let span = info_span!("layer2", interface = %interface.name, mac = %interface.mac);
            let owned = self.owned.subscribe();
            let index = interface.index;
            let refresh = self.refresh;
            let heard = self.heard.clone();
            let task = tokio::spawn(
                async move {
                    info!("layer2 responder started");
                    if let Err(error) = serve_interface(interface, owned, counters, refresh, heard).await {
                        warn!(%error, "layer2 responder failed; it restarts with the next interface change");
                    }
                }
                .instrument(span),
            );
            self.running.insert(index, Running { key, task });
        }
    }

    /// Follows interface snapshots (from [`crate::netif::watch_interfaces`]) until their sender is gone.
    pub async fn run(mut self, mut interfaces: watch::Receiver<Vec<Interface>>) {
        loop {
            let snapshot = interfaces.borrow_and_update().clone();
            self.set_interfaces(&snapshot);
            if interfaces.changed().await.is_err() {
                return;
            }
        }
    }
}

/// Per-interface state: what is answered here, which groups are joined, what is still to be announced.
struct InterfaceTask {
    interface: Interface,
    arp: PacketSocket,
    ndp: PacketSocket,
    mld: Option<Ipv6GroupMember>,
    counters: Arc<InterfaceCounters>,
    /// Answered here: owned, and being handed over.
    owned_here: BTreeSet<IpAddr>,
    /// Being handed over: answered until another node's announcement of it is heard here.
    releasing_here: BTreeSet<IpAddr>,
    groups: BTreeSet<Ipv6Addr>,
    announcements: Announcements,
    heard: mpsc::Sender<Heard>,
}

async fn serve_interface(
    interface: Interface,
    mut owned: watch::Receiver<Arc<OwnedAddresses>>,
    counters: Arc<InterfaceCounters>,
    refresh: Option<Duration>,
    heard: mpsc::Sender<Heard>,
) -> io::Result<()> {
    let arp = PacketSocket::open(interface.index, EtherProtocol::Arp)?;
    let ndp = PacketSocket::open(interface.index, EtherProtocol::Ipv6NeighborDiscovery)?;
    // Unsolicited Neighbor Advertisements go to all nodes; let them in even with IPv6 off on the interface.
    if let Err(error) = ndp.add_multicast_mac(ndp::multicast_mac(ndp::ALL_NODES)) {
        warn!(%error, "cannot let all-nodes frames in: other nodes' advertisements may go unheard");
    }
    let mld = Ipv6GroupMember::open(interface.index)
        .inspect_err(|error| warn!(%error, "no IPv6 membership socket: MLD will not be sent"))
        .ok();
    let mut task = InterfaceTask {
        interface,
        arp,
        ndp,
        mld,
        counters,
        owned_here: BTreeSet::new(),
        releasing_here: BTreeSet::new(),
        groups: BTreeSet::new(),
        announcements: Announcements::with_refresh(refresh),
        heard,
    };
    let mut arp_buf = vec![0u8; 2048];
    let mut ndp_buf = vec![0u8; 2048];
    let initial = owned.borrow_and_update().clone();
    task.apply_owned(&initial, Instant::now());
    loop {
        let deadline = task.announcements.next_deadline();
        tokio::select! {
            changed = owned.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                let current = owned.borrow_and_update().clone();
                task.apply_owned(&current, Instant::now());
            }
            received = task.arp.recv(&mut arp_buf) => {
                let frame = received_frame(&arp_buf, received).await?;
                if let Some(announcement) = announcement_in_arp(frame, task.interface.mac) {
                    task.on_announcement(announcement);
                    continue;
                }
                let reaction = react_to_arp(frame, task.interface.mac, &task.owned_here);
                task.answer(Family::Arp, reaction).await;
            }
            received = task.ndp.recv(&mut ndp_buf) => {
                let frame = received_frame(&ndp_buf, received).await?;
                if let Some(announcement) = announcement_in_ndp(frame, task.interface.mac) {
                    task.on_announcement(announcement);
                    continue;
                }
                let reaction = react_to_ndp(frame, task.interface.mac, &task.owned_here);
                task.answer(Family::Ndp, reaction).await;
            }
            () = sleep_until(deadline), if deadline.is_some() => {
                task.announce_due(Instant::now()).await;
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await,
        None => std::future::pending().await,
    }
}

/// The received bytes, or the error that ends the task (the interface is gone); other receive errors are
/// logged and give an empty frame, after a short pause so a persistent error cannot spin.
async fn received_frame(buf: &[u8], received: io::Result<usize>) -> io::Result<&[u8]> {
    match received {
        Ok(len) => Ok(buf.get(..len).unwrap_or(buf)),
        Err(error) if matches!(error.raw_os_error(), Some(libc::ENETDOWN | libc::ENODEV | libc::ENXIO)) => Err(error),
        Err(error) => {
            warn!(%error, "receive failed");
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(&[])
        }
    }
}

impl InterfaceTask {
    fn apply_owned(&mut self, owned: &OwnedAddresses, now: Instant) {
        let fresh = owned_on(owned, &self.interface.name);
        let announced = announced_on(owned, &self.interface.name);
        let releasing: BTreeSet<IpAddr> = fresh.difference(&announced).copied().collect();
        let announced_before: BTreeSet<IpAddr> = self.owned_here.difference(&self.releasing_here).copied().collect();
        for ip in self.owned_here.difference(&fresh) {
            info!(%ip, "address lost: no longer answered");
        }
        for ip in releasing.difference(&self.releasing_here) {
            info!(%ip, "address handed over: answered until its new owner announces it");
        }
        for ip in announced_before.difference(&announced) {
            self.announcements.lose(*ip);
        }
        for ip in announced.difference(&announced_before) {
            info!(%ip, "address gained: answering and announcing");
            self.announcements.gain(*ip, now);
        }
        self.owned_here = fresh;
        self.releasing_here = releasing;
        let groups: BTreeSet<Ipv6Addr> = self
            .owned_here
            .iter()
            .filter_map(|ip| match ip {
                IpAddr::V6(v6) => Some(ndp::solicited_node_multicast(*v6)),
                IpAddr::V4(_) => None,
            })
            .collect();
        for group in self.groups.difference(&groups) {
            self.leave(*group);
        }
        for group in groups.difference(&self.groups) {
            self.join(*group);
        }
        self.groups = groups;
    }

    /// Another node announced an address: stop answering it here at once if it is being handed over
    /// (the new owner has spoken), and tell the speaker.
    fn on_announcement(&mut self, announcement: Announcement) {
        if self.releasing_here.remove(&announcement.ip) {
            self.owned_here.remove(&announcement.ip);
            info!(ip = %announcement.ip, mac = %announcement.mac, "new owner announced the address: no longer answered");
        }
        let heard = Heard { announcement, interface: self.interface.name.clone(), at: Instant::now() };
        if self.heard.try_send(heard).is_err() {
            debug!(ip = %announcement.ip, "heard announcement dropped: the speaker is behind");
        }
    }

    fn join(&self, group: Ipv6Addr) {
        if let Err(error) = self.ndp.add_multicast_mac(ndp::multicast_mac(group)) {
            warn!(%group, %error, "cannot let the solicited-node group's frames in");
        }
        if let Some(Err(error)) = self.mld.as_ref().map(|m| m.join(group)) {
            warn!(%group, %error, "cannot join the solicited-node group (no MLD report)");
        }
    }

    fn leave(&self, group: Ipv6Addr) {
        if let Err(error) = self.ndp.drop_multicast_mac(ndp::multicast_mac(group)) {
            debug!(%group, %error, "dropping the packet membership failed");
        }
        if let Some(Err(error)) = self.mld.as_ref().map(|m| m.leave(group)) {
            debug!(%group, %error, "leaving the solicited-node group failed");
        }
    }

    async fn answer(&self, family: Family, reaction: Reaction) {
        let Reaction::Request { target, answer } = reaction else { return };
        let counters = self.counters.family(family);
        FamilyCounters::bump(&counters.requests_received);
        let Some(frame) = answer else { return };
        let span = info_span!("answer", ip = %target);
        let socket = match family {
            Family::Arp => &self.arp,
            Family::Ndp => &self.ndp,
        };
        match socket.send(&frame).instrument(span.clone()).await {
            Ok(()) => {
                FamilyCounters::bump(&counters.responses_sent);
                span.in_scope(|| debug!("answered"));
            }
            Err(error) => {
                FamilyCounters::bump(&counters.send_errors);
                span.in_scope(|| warn!(%error, "answer not sent"));
            }
        }
    }

    async fn announce_due(&mut self, now: Instant) {
        for ip in self.announcements.due(now) {
            let (family, socket) = match ip {
                IpAddr::V4(_) => (Family::Arp, &self.arp),
                IpAddr::V6(_) => (Family::Ndp, &self.ndp),
            };
            let counters = self.counters.family(family);
            for frame in announcements(ip, self.interface.mac) {
                match socket.send(&frame).await {
                    Ok(()) => FamilyCounters::bump(&counters.gratuitous_sent),
                    Err(error) => {
                        FamilyCounters::bump(&counters.send_errors);
                        warn!(%ip, %error, "announcement not sent");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(index: u32, name: &str, last: u8) -> Interface {
        Interface { name: name.to_string(), index, mac: MacAddr([2, 0, 0, 0, 0, last]), addresses: vec![] }
    }

    fn key(i: &Interface) -> InterfaceKey {
        InterfaceKey { name: i.name.clone(), mac: i.mac }
    }

    #[test]
    fn interface_tasks_follow_the_snapshot() {
        let (eth0, eth1) = (iface(2, "eth0", 2), iface(3, "eth1", 3));
        let running: BTreeMap<u32, (InterfaceKey, bool)> =
            [(2, (key(&eth0), true)), (3, (key(&eth1), true)), (4, (key(&iface(4, "eth2", 4)), true))].into();
        let cases = vec![
            ("unchanged", vec![eth0.clone(), eth1.clone(), iface(4, "eth2", 4)], vec![], vec![]),
            ("one vanished", vec![eth0.clone(), eth1.clone()], vec![4], vec![]),
            ("a new one", vec![eth0.clone(), eth1.clone(), iface(4, "eth2", 4), iface(5, "eth3", 5)], vec![], vec![5]),
            ("MAC changed", vec![iface(2, "eth0", 9), eth1.clone(), iface(4, "eth2", 4)], vec![2], vec![2]),
            ("renamed", vec![eth0.clone(), iface(3, "lan", 3), iface(4, "eth2", 4)], vec![3], vec![3]),
        ];
        for (what, wanted, stop, start) in cases {
            let changes = interface_changes(&running, &wanted);
            assert_eq!(changes.stop, stop, "{what}");
            assert_eq!(changes.start.iter().map(|i| i.index).collect::<Vec<_>>(), start, "{what}");
        }
        let failed: BTreeMap<u32, (InterfaceKey, bool)> = [(2, (key(&eth0), false))].into();
        let changes = interface_changes(&failed, std::slice::from_ref(&eth0));
        assert_eq!((changes.stop, changes.start), (vec![2], vec![eth0]), "a finished task is restarted");
    }

    #[test]
    fn setting_the_same_owned_set_does_not_wake_the_tasks() {
        let responder = Layer2Responder::new();
        let handle = responder.handle();
        let mut rx = responder.owned.subscribe();
        let owned: OwnedAddresses = [("198.51.100.200".parse().unwrap(), Default::default())].into();
        handle.set_owned(owned.clone());
        assert!(rx.has_changed().unwrap());
        rx.borrow_and_update();
        handle.set_owned(owned.clone());
        assert!(!rx.has_changed().unwrap());
        assert_eq!(*handle.owned(), owned);
    }
}
