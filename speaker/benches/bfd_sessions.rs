//! The speaker's BFD engine with N sessions at a fast interval: how much of a core it uses.
//!
//! The engine runs alone on one thread (a current-thread runtime), as in the speaker; the
//! routers are N ferrolb-bfd sessions on another thread, each on its own loopback address
//! (127.0.0.2, 127.0.0.3, ...) port 3784, so that every packet crosses the kernel. Once every
//! session is Up, the engine thread's CPU time (user + system, from /proc/thread-self/stat) is
//! read over the measured window.
//!
//! `cargo bench -p ferrolb-speaker --bench bfd_sessions -- [SESSIONS] [INTERVAL_MS] [SECONDS]`
//! (defaults 10, 50, 20). Needs UDP port 3784 free on loopback; no root.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use ferrolb_bfd::packet::decode;
use ferrolb_bfd::session::{Action, Session, SessionConfig};
use ferrolb_bfd::ttl::{Hops, PORT_SINGLE_HOP, SEND_TTL};
use ferrolb_speaker::bfd::engine::BfdEngine;
use ferrolb_speaker::bfd::metrics::BfdMetrics;
use ferrolb_speaker::bfd::spec::BfdSpec;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::watch;

fn arg(n: usize, default: u64) -> u64 {
    std::env::args().filter(|a| !a.starts_with('-')).nth(n).and_then(|a| a.parse().ok()).unwrap_or(default)
}

/// User + system CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // Fields after the command (which is in parentheses): state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<u64> = rest.split_whitespace().map(|f| f.parse().unwrap_or(0)).collect();
    let ticks = fields[11] + fields[12];
    // /proc counts in USER_HZ ticks, 100 per second on Linux.
    Duration::from_millis(ticks * 10)
}

fn router_address(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 2 + i)
}

/// One router-side session on 127.0.0.x:3784, answering the engine (which listens on the
/// wildcard address, so it gets what is sent to 127.0.0.1).
async fn router(i: u8, config: SessionConfig) {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    socket.set_reuse_address(true).unwrap();
    socket.set_ttl_v4(u32::from(SEND_TTL)).unwrap();
    socket.set_nonblocking(true).unwrap();
    socket.bind(&SocketAddr::new(IpAddr::V4(router_address(i)), PORT_SINGLE_HOP).into()).unwrap();
    let socket = UdpSocket::from_std(socket.into()).unwrap();
    let engine = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), PORT_SINGLE_HOP);
    let mut session = Session::new(1000 + u32::from(i), config, Instant::now(), u64::from(i)).unwrap();
    let mut actions = session.on_timer(Instant::now());
    let mut buf = [0u8; 64];
    loop {
        for action in actions.drain(..) {
            if let Action::Send(packet) = action {
                let _ = socket.send_to(&packet.encode(), engine).await;
            }
        }
        let deadline = session.next_deadline().unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let Ok((len, _)) = received else { continue };
                if let Ok(packet) = decode(&buf[..len]) {
                    actions = session.on_packet(Instant::now(), &packet).unwrap_or_default();
                }
            }
            () = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {
                actions = session.on_timer(Instant::now());
            }
        }
    }
}

fn main() {
    let sessions = u8::try_from(arg(1, 10)).unwrap_or(10);
    let interval = Duration::from_millis(arg(2, 50));
    let seconds = arg(3, 20);
    let config = SessionConfig { desired_min_tx: interval, required_min_rx: interval, detect_mult: 3, passive: false };

    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            for i in 0..sessions {
                tokio::spawn(router(i, config));
            }
            std::future::pending::<()>().await;
        });
    });

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let (_shutdown_tx, shutdown) = watch::channel(false);
        let (engine, _task) = BfdEngine::spawn("bench".into(), BfdMetrics::default(), shutdown);
        let wanted: BTreeMap<String, BfdSpec> = (0..sessions)
            .map(|i| {
                let spec = BfdSpec {
                    remote: IpAddr::V4(router_address(i)),
                    local: None,
                    hops: Hops::Single,
                    config,
                    vrf: None,
                };
                (format!("router-{i}"), spec)
            })
            .collect();
        let mut statuses: Vec<_> = wanted.keys().map(|name| engine.status(name)).collect();
        engine.set(wanted);
        let start = Instant::now();
        for status in &mut statuses {
            tokio::time::timeout(Duration::from_secs(10), status.wait_for(|s| s.as_ref().is_some_and(|s| s.up())))
                .await
                .expect("every session Up within 10 s")
                .expect("engine running");
        }
        println!("{sessions} sessions Up after {:?}", start.elapsed());
        let (cpu0, wall0) = (thread_cpu(), Instant::now());
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let (cpu, wall) = (thread_cpu() - cpu0, wall0.elapsed());
        let down = statuses.iter().filter(|s| !s.borrow().as_ref().is_some_and(|s| s.up())).count();
        let failures: u64 = statuses.iter().map(|s| s.borrow().as_ref().map_or(0, |s| s.failures)).sum();
        println!(
            "engine CPU: {:.2} % of a core ({cpu:?} in {wall:.1?}) with {sessions} sessions at {interval:?} x 3; \
             {down} not Up at the end, {failures} failures",
            100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
        );
    });
}
