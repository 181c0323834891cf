//! The rtnetlink edge: dump links and addresses into [`LinkFacts`] / [`AddressFacts`], and re-dump whenever
//! the kernel reports a link or address change. Decides nothing: [`super::suitable_interfaces`] does.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkLayerType, LinkMessage};
use rtnetlink::{Handle, MulticastGroup};
use tokio::sync::watch;

use super::{
    AddressFacts, Interface, LinkFacts, NamedLink, VrfProblem, find_link, find_vrf, link_addresses_of,
    suitable_interfaces,
};

/// Changes arriving within this window after the first are folded into one snapshot.
const SETTLE: Duration = Duration::from_millis(50);

/// Why interfaces could not be read from the kernel.
#[derive(Debug, thiserror::Error)]
pub enum NetifError {
    /// The netlink socket could not be opened or subscribed.
    #[error("cannot open an rtnetlink socket: {0}")]
    Socket(#[source] std::io::Error),
    /// A dump request failed.
    #[error("rtnetlink dump of {what} failed: {source}")]
    Dump {
        /// "links" or "addresses".
        what: &'static str,
        /// The netlink error.
        #[source]
        source: rtnetlink::Error,
    },
    /// The kernel closed the notification stream.
    #[error("the rtnetlink notification stream ended")]
    StreamEnded,
}

/// The interfaces suitable for Layer2 announcements right now, in the caller's network namespace.
pub async fn list_interfaces() -> Result<Vec<Interface>, NetifError> {
    let (connection, handle, _) = rtnetlink::new_connection().map_err(NetifError::Socket)?;
    let task = tokio::spawn(connection);
    let result = snapshot(&handle).await;
    task.abort();
    result
}

/// Why a BGPPeer's VRF cannot hold its session on this node.
#[derive(Debug, thiserror::Error)]
pub enum VrfError {
    /// No network interface has that name.
    #[error("VRF {0} does not exist on this node")]
    Missing(String),
    /// An interface has that name, but it is not a VRF.
    #[error("{0} is a network interface on this node, but not a VRF device")]
    NotVrf(String),
    /// The links could not be read.
    #[error("cannot look up VRF {name}: {source}")]
    Netlink {
        /// The VRF's name.
        name: String,
        /// What failed.
        #[source]
        source: NetifError,
    },
}

/// The index of the VRF device `name` in the caller's network namespace, or why it cannot be used.
pub async fn check_vrf(name: &str) -> Result<u32, VrfError> {
    let netlink = |source| VrfError::Netlink { name: name.to_owned(), source };
    let (connection, handle, _) = rtnetlink::new_connection().map_err(|e| netlink(NetifError::Socket(e)))?;
    let task = tokio::spawn(connection);
    let links: Result<Vec<LinkMessage>, _> = handle.link().get().execute().try_collect().await;
    task.abort();
    let links = links.map_err(|source| netlink(NetifError::Dump { what: "links", source }))?;
    let links: Vec<LinkFacts> = links.iter().map(link_facts).collect();
    find_vrf(&links, name).map_err(|problem| match problem {
        VrfProblem::Missing => VrfError::Missing(name.to_owned()),
        VrfProblem::NotVrf => VrfError::NotVrf(name.to_owned()),
    })
}

/// The addresses of the link carrying `local`, in the caller's network namespace (see
/// [`link_addresses_of`]); None when no link carries it.
pub async fn addresses_beside(local: std::net::IpAddr) -> Result<Option<Vec<std::net::IpAddr>>, NetifError> {
    let (connection, handle, _) = rtnetlink::new_connection().map_err(NetifError::Socket)?;
    let task = tokio::spawn(connection);
    let result = handle
        .address()
        .get()
        .execute()
        .try_collect::<Vec<AddressMessage>>()
        .await
        .map_err(|source| NetifError::Dump { what: "addresses", source });
    task.abort();
    let addresses: Vec<AddressFacts> = result?.iter().filter_map(address_facts).collect();
    Ok(link_addresses_of(&addresses, local))
}

/// The link called `name` in the caller's network namespace (see [`find_link`]); None when there
/// is none.
pub async fn link_named(name: &str) -> Result<Option<NamedLink>, NetifError> {
    let (connection, handle, _) = rtnetlink::new_connection().map_err(NetifError::Socket)?;
    let task = tokio::spawn(connection);
    let result = async {
        let links: Vec<LinkMessage> = handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|source| NetifError::Dump { what: "links", source })?;
        let addresses: Vec<AddressMessage> = handle
            .address()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|source| NetifError::Dump { what: "addresses", source })?;
        Ok::<_, NetifError>((links, addresses))
    }
    .await;
    task.abort();
    let (links, addresses) = result?;
    let links: Vec<LinkFacts> = links.iter().map(link_facts).collect();
    let addresses: Vec<AddressFacts> = addresses.iter().filter_map(address_facts).collect();
    Ok(find_link(&links, &addresses, name))
}

/// Publishes a snapshot of suitable interfaces on `tx` now and after every link or address change, until
/// every receiver is gone (then `Ok`) or netlink fails.
///
/// It subscribes to RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR before the first dump, so a
/// change racing the dump still triggers a new one. Receivers are woken only when the snapshot changed.
pub async fn watch_interfaces(tx: watch::Sender<Vec<Interface>>) -> Result<(), NetifError> {
    let groups = [MulticastGroup::Link, MulticastGroup::Ipv4Ifaddr, MulticastGroup::Ipv6Ifaddr];
    let (connection, handle, mut events) = rtnetlink::new_multicast_connection(&groups).map_err(NetifError::Socket)?;
    let task = tokio::spawn(connection);
    let result = async {
        loop {
            let fresh = snapshot(&handle).await?;
            tx.send_if_modified(|current| {
                let changed = *current != fresh;
                *current = fresh;
                changed
            });
            tokio::select! {
                event = events.next() => if event.is_none() { return Err(NetifError::StreamEnded) },
                () = tx.closed() => return Ok(()),
            }
            // Let a burst of changes (a link coming up with its addresses) settle into one snapshot.
            tokio::time::sleep(SETTLE).await;
            while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, events.next()).await {}
        }
    }
    .await;
    task.abort();
    result
}

async fn snapshot(handle: &Handle) -> Result<Vec<Interface>, NetifError> {
    let links: Vec<LinkMessage> = handle
        .link()
        .get()
        .execute()
        .try_collect()
        .await
        .map_err(|source| NetifError::Dump { what: "links", source })?;
    let addresses: Vec<AddressMessage> = handle
        .address()
        .get()
        .execute()
        .try_collect()
        .await
        .map_err(|source| NetifError::Dump { what: "addresses", source })?;
    let links: Vec<LinkFacts> = links.iter().map(link_facts).collect();
    let addresses: Vec<AddressFacts> = addresses.iter().filter_map(address_facts).collect();
    Ok(suitable_interfaces(&links, &addresses))
}

fn link_facts(message: &LinkMessage) -> LinkFacts {
    let flags = message.header.flags;
    let mut facts = LinkFacts {
        index: message.header.index,
        up: flags.contains(LinkFlags::Up),
        loopback: flags.contains(LinkFlags::Loopback),
        noarp: flags.contains(LinkFlags::Noarp),
        ethernet: message.header.link_layer_type == LinkLayerType::Ether,
        ..LinkFacts::default()
    };
    for attribute in &message.attributes {
        match attribute {
            LinkAttribute::IfName(name) => facts.name = Some(name.clone()),
            LinkAttribute::Address(bytes) => facts.hardware_address = Some(bytes.clone()),
            LinkAttribute::Controller(master) if *master != 0 => facts.master = Some(*master),
            LinkAttribute::LinkInfo(infos) => {
                facts.vrf = infos.iter().any(|info| matches!(info, LinkInfo::Kind(InfoKind::Vrf)));
            }
            _ => {}
        }
    }
    facts
}

fn address_facts(message: &AddressMessage) -> Option<AddressFacts> {
    // IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer on point-to-point IPv4 links);
    // IPv6 sends only IFA_ADDRESS.
    let mut local = None;
    let mut address = None;
    for attribute in &message.attributes {
        match attribute {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            _ => {}
        }
    }
    Some(AddressFacts {
        index: message.header.index,
        address: local.or(address)?,
        prefix_len: message.header.prefix_len,
    })
}
