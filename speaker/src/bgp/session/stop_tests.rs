//! How a session ends when the speaker stops, against a scripted peer on loopback: what goes
//! on the wire, in which order, and how long it takes.

use std::net::Ipv4Addr;
use std::time::Duration;

use ferrolb_bgp::codec::{self, GracefulRestart, Open};
use tokio::net::TcpListener;

use super::tests::{context, decision, peer, read_until};
use super::*;
use crate::bgp::farewell::WITHDRAW_GRACE;

const ROUTES: [&str; 2] = ["203.0.113.1", "203.0.113.2"];

/// A session to a scripted peer that answers our OPEN with `reply` and a KEEPALIVE; returns the
/// handle, the connection, its buffer and the OPEN the session sent, once End-of-RIB arrived.
async fn established(
    graceful_restart: bool,
    restarted: bool,
    reply: Open,
) -> (SessionHandle, TcpStream, Vec<u8>, Open) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let configured = ferrolb_core::config::Peer { graceful_restart, ..peer(port) };
    let settings = PeerSettings::from_peer(&configured, &[], None).unwrap();
    let (_decision_tx, decision_rx) = watch::channel(decision(&ROUTES));
    let context = SessionContext { restarted, ..context(decision_rx) };
    let handle = SessionHandle::spawn(settings, context);
    let (mut stream, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await.unwrap().unwrap();
    let mut buf = Vec::new();
    let open = read_until(&mut stream, &mut buf, |m| matches!(m, Message::Open(_))).await;
    let Some(Message::Open(ours)) = open.last().cloned() else { panic!("{open:?}") };
    let mut bytes = Message::Open(reply).to_bytes().unwrap();
    Message::Keepalive.encode(&mut bytes).unwrap();
    stream.write_all(&bytes).await.unwrap();
    let first = read_until(&mut stream, &mut buf, |m| matches!(m, Message::EndOfRib(Family::V4))).await;
    let announced: usize = first.iter().map(|m| if let Message::Update(u) = m { u.announced.len() } else { 0 }).sum();
    assert_eq!(announced, ROUTES.len(), "the full set before End-of-RIB: {first:?}");
    (handle, stream, buf, ours)
}

/// Everything until the peer's side of the connection ends, with when the NOTIFICATION came.
async fn read_to_close(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Vec<(Message, Duration)> {
    let start = std::time::Instant::now();
    let mut messages = Vec::new();
    loop {
        while let Some((message, len)) = decode(buf).unwrap() {
            buf.drain(..len);
            messages.push((message, start.elapsed()));
        }
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_buf(buf)).await.unwrap();
        match read {
            Ok(0) | Err(_) => return messages,
            Ok(_) => {}
        }
    }
}

fn router_open(restart_time: Option<u16>) -> Open {
    Open::ferrolb(64512, 3, Ipv4Addr::new(192, 0, 2, 1), restart_time)
}

/// Without graceful restart, a stopping speaker withdraws every route, waits the grace with the
/// session up, and only then sends Cease 6/2: the router moves the flows before the session drops.
#[tokio::test]
async fn shutdown_without_graceful_restart_withdraws_then_waits_then_ceases() {
    // We offer graceful restart, the router does not: not negotiated, so withdraw first.
    for (ours, theirs) in [(false, Some(120)), (true, None)] {
        let (handle, mut stream, mut buf, _) = established(ours, false, router_open(theirs)).await;
        let stopping = tokio::spawn(handle.shutdown());
        let messages = read_to_close(&mut stream, &mut buf).await;
        stopping.await.unwrap();
        let withdrawn: Vec<_> = messages
            .iter()
            .filter_map(|(m, at)| if let Message::Update(u) = m { Some((u.withdrawn.clone(), *at)) } else { None })
            .collect();
        let expected: Vec<_> = ROUTES.iter().map(|a| codec::Prefix::host(a.parse().unwrap())).collect();
        assert_eq!(withdrawn.iter().flat_map(|(w, _)| w.clone()).collect::<Vec<_>>(), expected, "{messages:?}");
        let Some((Message::Notification(cease), ceased_at)) = messages.last().cloned() else {
            panic!("no NOTIFICATION last: {messages:?}")
        };
        assert_eq!((cease.code, cease.subcode), (6, 2), "Cease, Administrative Shutdown");
        let notifications = messages.iter().filter(|(m, _)| matches!(m, Message::Notification(_))).count();
        assert_eq!(notifications, 1, "{messages:?}");
        let withdrawn_at = withdrawn.last().map(|(_, at)| *at).unwrap_or_default();
        let gap = ceased_at.saturating_sub(withdrawn_at);
        assert!(gap >= WITHDRAW_GRACE.saturating_sub(Duration::from_millis(50)), "Cease {gap:?} after the withdrawal");
        assert!(ceased_at < Duration::from_millis(1500), "the whole stop took {ceased_at:?}");
    }
}

/// With graceful restart negotiated, a stopping speaker sends nothing: no withdrawal, no
/// NOTIFICATION; the connection just closes, at once.
#[tokio::test]
async fn shutdown_with_graceful_restart_closes_without_notification() {
    let (handle, mut stream, mut buf, ours) = established(true, true, router_open(Some(120))).await;
    let families = vec![(codec::AfiSafi::IPV4_UNICAST, GracefulRestart::FORWARDING_PRESERVED)];
    let restarted = GracefulRestart { restart_flags: GracefulRestart::RESTART_STATE, restart_time: 120, families };
    assert_eq!(ours.graceful_restart(), Some(&restarted), "the first OPEN since the start says it restarted");
    let start = std::time::Instant::now();
    let stopping = tokio::spawn(handle.shutdown());
    let messages = read_to_close(&mut stream, &mut buf).await;
    let closed = start.elapsed();
    stopping.await.unwrap();
    assert!(
        messages.iter().all(|(m, _)| matches!(m, Message::Keepalive)),
        "nothing but keepalives before the close: {messages:?}"
    );
    assert!(closed < Duration::from_millis(500), "closed after {closed:?}");
}
