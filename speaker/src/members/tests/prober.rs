//! Probers on loopback: detection time, recovery with a new boot id, wrong keys, isolation.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::time::timeout;

use crate::members::counters::RejectReason;
use crate::members::prober::{Member, MemberView, Prober, ProberConfig, ProberError};
use crate::members::wire::{BootId, KeyRing};

const KEY: &[u8] = b"cluster-secret-one-0123456789";
const OTHER_KEY: &[u8] = b"another-cluster-secret-987654";

fn keys(key: &[u8]) -> KeyRing {
    KeyRing::new([key]).unwrap()
}

async fn start(node: &str, key: &[u8], boot: u64, port: u16) -> Prober {
    let bind = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    Prober::start(ProberConfig::new(node, bind, BootId(boot)), keys(key), []).await.unwrap()
}

fn members(probers: &[(&str, &Prober)]) -> Vec<Member> {
    probers.iter().map(|(name, p)| Member::from((*name, p.local_addr()))).collect()
}

/// Waits up to `within` for a view matching `pred`, and returns it.
async fn wait_view(
    view: &mut watch::Receiver<MemberView>,
    within: Duration,
    pred: impl FnMut(&MemberView) -> bool,
) -> Option<MemberView> {
    timeout(within, view.wait_for(pred)).await.ok().and_then(|r| r.ok()).map(|v| v.clone())
}

fn names(view: &MemberView) -> Vec<&str> {
    view.alive.iter().map(String::as_str).collect()
}

/// Three probers that all see each other alive.
async fn three() -> [Prober; 3] {
    let a = start("a", KEY, 1, 0).await;
    let b = start("b", KEY, 2, 0).await;
    let c = start("c", KEY, 3, 0).await;
    let list = members(&[("a", &a), ("b", &b), ("c", &c)]);
    for p in [&a, &b, &c] {
        p.set_members(list.clone());
    }
    for p in [&a, &b, &c] {
        let all = wait_view(&mut p.view(), Duration::from_secs(2), |v| v.alive.len() == 3 && v.healthy).await;
        assert!(all.is_some(), "{:?}", p.view().borrow());
    }
    [a, b, c]
}

/// Stops `c`; returns how long each watcher took to publish a view without it.
async fn stop_and_time(c: Prober, watchers: &[&Prober]) -> Vec<Duration> {
    let mut views: Vec<_> = watchers.iter().map(|w| w.view()).collect();
    for view in &mut views {
        view.borrow_and_update();
    }
    let stopped_at = Instant::now();
    c.stop().await;
    let mut times = Vec::new();
    for view in &mut views {
        let without = wait_view(view, Duration::from_secs(2), |v| !v.alive.contains("c")).await.unwrap();
        assert!(without.healthy, "the watcher still hears the third prober");
        times.push(without.changed_at.duration_since(stopped_at));
    }
    times
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_speaker_is_dead_within_400ms_and_alive_again_after_restart() {
    let [a, b, c] = three().await;
    let port = c.local_addr().port();
    let times = stop_and_time(c, &[&a, &b]).await;
    for time in &times {
        assert!(*time < Duration::from_millis(400), "c seen dead after {times:?}");
    }
    assert_eq!(names(&a.view().borrow()), ["a", "b"]);
    assert_eq!(names(&b.view().borrow()), ["a", "b"]);
    assert_eq!(a.counters().failures_detected(), 1);
    assert_eq!(a.counters().members_alive(), 2);

    let c = start("c", KEY, 33, port).await;
    c.set_members(members(&[("a", &a), ("b", &b), ("c", &c)]));
    for p in [&a, &b] {
        let back = wait_view(&mut p.view(), Duration::from_secs(1), |v| v.alive.contains("c")).await;
        assert_eq!(back.as_ref().map(names), Some(vec!["a", "b", "c"]));
    }
    assert_eq!(a.counters().rejected(RejectReason::Replay), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_speaker_with_another_key_is_never_seen_alive() {
    let [a, b, c] = three().await;
    let intruder = start("d", OTHER_KEY, 4, 0).await;
    let list = members(&[("a", &a), ("b", &b), ("c", &c), ("d", &intruder)]);
    for p in [&a, &b, &c, &intruder] {
        p.set_members(list.clone());
    }
    let mut view = a.view();
    let seen = wait_view(&mut view, Duration::from_millis(800), |v| v.alive.contains("d")).await;
    assert_eq!(seen, None);
    assert_eq!(names(&a.view().borrow()), ["a", "b", "c"]);
    assert!(a.counters().rejected(RejectReason::BadTag) >= 5, "d sends 10 a second");
    assert!(a.counters().heartbeats_accepted() > 0);
    assert_eq!(names(&intruder.view().borrow()), ["d"], "and it hears nobody either");
    assert!(!intruder.view().borrow().healthy, "so, with three members configured, it is isolated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_speaker_that_hears_nobody_steps_down_until_it_hears_a_member() {
    let [a, b, c] = three().await;
    let mut c_view = c.view();
    c_view.borrow_and_update();
    let a_addr = a.local_addr();
    let stopped_at = Instant::now();
    a.stop().await;
    b.stop().await;
    let isolated = wait_view(&mut c_view, Duration::from_secs(2), |v| !v.healthy).await.unwrap();
    assert!(isolated.changed_at.duration_since(stopped_at) < Duration::from_millis(400));
    assert_eq!(names(&isolated), ["c"]);
    assert!(isolated.eligible().is_empty(), "an isolated node is not eligible, not even for itself");

    let d = start("d", KEY, 5, 0).await;
    // a stays configured (dead), so c still has two other members and hearing d alone heals it.
    let mut list = members(&[("c", &c), ("d", &d)]);
    list.push(Member::from(("a", a_addr)));
    c.set_members(list.clone());
    d.set_members(list);
    let healed = wait_view(&mut c_view, Duration::from_secs(1), |v| v.healthy).await.unwrap();
    assert_eq!(names(&healed), ["c", "d"]);
    assert_eq!(healed.eligible(), healed.alive);
    let c_back = wait_view(&mut d.view(), Duration::from_secs(1), |v| v.alive.contains("c")).await;
    assert!(c_back.is_some(), "d counts c once c no longer steps down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_down_makes_a_speaker_step_down_and_its_peers_drop_it() {
    let [a, b, _c] = three().await;
    let mut b_view = b.view();
    b_view.borrow_and_update();
    a.set_link_up(false);
    let a_down = wait_view(&mut a.view(), Duration::from_secs(1), |v| !v.healthy).await.unwrap();
    assert_eq!(names(&a_down), ["a", "b", "c"], "it still hears the others");
    let without_a = wait_view(&mut b_view, Duration::from_secs(1), |v| !v.alive.contains("a")).await.unwrap();
    assert_eq!(names(&without_a), ["b", "c"]);
    a.set_link_up(true);
    let with_a = wait_view(&mut b_view, Duration::from_secs(1), |v| v.alive.contains("a")).await;
    assert_eq!(with_a.as_ref().map(names), Some(vec!["a", "b", "c"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_foreign_datagrams_are_counted_and_ignored() {
    let [a, _b, _c] = three().await;
    let socket = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    socket.send_to(b"not a heartbeat", a.local_addr()).await.unwrap();
    let stranger = start("stranger", KEY, 9, 0).await;
    stranger.set_members([Member::from(("a", a.local_addr()))]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(a.counters().rejected(RejectReason::Malformed), 1);
    assert!(a.counters().rejected(RejectReason::UnknownSender) >= 2);
    assert_eq!(names(&a.view().borrow()), ["a", "b", "c"]);
}

#[tokio::test]
async fn start_refuses_timing_that_cannot_work_and_names_that_cannot_be_sent() {
    let bind = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let mut config = ProberConfig::new("a", bind, BootId(1));
    for interval in [Duration::ZERO, Duration::from_millis(300), Duration::from_millis(301)] {
        config.interval = interval;
        let err = Prober::start(config.clone(), keys(KEY), []).await.unwrap_err();
        assert!(matches!(err, ProberError::Timing { .. }), "{interval:?}: {err}");
    }
    let nameless = ProberConfig::new("", bind, BootId(1));
    let err = Prober::start(nameless, keys(KEY), []).await.unwrap_err();
    assert!(matches!(err, ProberError::NodeName(_)), "{err}");
}

/// Detection time over 20 trials: `cargo test -p ferrolb-speaker --lib detection_time -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, about 10 s"]
async fn detection_time_over_20_trials() {
    let [a, b, mut c] = three().await;
    let port = c.local_addr().port();
    let mut times = Vec::new();
    for trial in 0..20u64 {
        times.extend(stop_and_time(c, &[&a]).await);
        c = start("c", KEY, 100 + trial, port).await;
        c.set_members(members(&[("a", &a), ("b", &b), ("c", &c)]));
        wait_view(&mut a.view(), Duration::from_secs(2), |v| v.alive.contains("c")).await.unwrap();
        // Let c send a few heartbeats, so the stop falls at a random point of its interval.
        tokio::time::sleep(Duration::from_millis(150 + 17 * trial % 100)).await;
    }
    times.sort();
    let (min, median, max) = (times[0], times[times.len() / 2], times[times.len() - 1]);
    println!("detection over {} trials: min {min:?}, median {median:?}, max {max:?}", times.len());
    assert!(max < Duration::from_millis(400));
}

/// Three probers with a slow interval (250 ms), so that a change sent only with the next round
/// would take up to 250 ms to arrive.
async fn three_slow() -> [Prober; 3] {
    three_slow_with(Duration::from_millis(750)).await
}

/// Three slow probers whose members may stay silent for `restart_window` after announcing a restart.
async fn three_slow_with(restart_window: Duration) -> [Prober; 3] {
    let mut probers = Vec::new();
    for (i, node) in ["a", "b", "c"].into_iter().enumerate() {
        let bind = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let mut config = ProberConfig::new(node, bind, BootId(10 + i as u64));
        config.interval = Duration::from_millis(250);
        config.table.suspect_after = Duration::from_millis(750);
        config.table.restart_window = restart_window;
        probers.push(Prober::start(config, keys(KEY), []).await.unwrap());
    }
    let list: Vec<Member> =
        ["a", "b", "c"].iter().zip(&probers).map(|(n, p)| Member::from((*n, p.local_addr()))).collect();
    for p in &probers {
        p.set_members(list.clone());
    }
    for p in &probers {
        let all = wait_view(&mut p.view(), Duration::from_secs(3), |v| v.alive.len() == 3 && v.healthy).await;
        assert!(all.is_some(), "{:?}", p.view().borrow());
    }
    let [a, b, c]: [Prober; 3] = probers.try_into().unwrap_or_else(|_| panic!("three probers"));
    [a, b, c]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaving_speaker_is_dropped_by_its_peers_at_once_and_its_stop_is_no_failure() {
    let [a, b, c] = three_slow().await;
    let mut b_view = b.view();
    for round in 0..4 {
        b_view.borrow_and_update();
        let asked = Instant::now();
        a.set_leaving(true);
        let without = wait_view(&mut b_view, Duration::from_secs(1), |v| !v.alive.contains("a")).await.unwrap();
        let took = without.changed_at.duration_since(asked);
        assert!(took < Duration::from_millis(60), "round {round}: b dropped a after {took:?}, not at once");
        assert!(without.healthy);
        b_view.borrow_and_update();
        let asked = Instant::now();
        a.set_leaving(false);
        let with = wait_view(&mut b_view, Duration::from_secs(1), |v| v.alive.contains("a")).await.unwrap();
        let took = with.changed_at.duration_since(asked);
        assert!(took < Duration::from_millis(60), "round {round}: b took a back after {took:?}, not at once");
    }
    assert_eq!(names(&a.view().borrow()), ["a", "b", "c"], "leaving changes what a sends, not what it hears");
    // Both peers see a alive again, then a leaves for good and stops once both have heard it.
    for p in [&b, &c] {
        wait_view(&mut p.view(), Duration::from_secs(1), |v| v.alive.contains("a")).await.unwrap();
    }
    a.set_leaving(true);
    for p in [&b, &c] {
        wait_view(&mut p.view(), Duration::from_secs(1), |v| !v.alive.contains("a")).await.unwrap();
    }
    a.stop().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(b.counters().failures_detected(), 0, "a planned departure is not a failure");
    assert_eq!(c.counters().failures_detected(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_departing_speaker_says_so_in_a_last_heartbeat_so_its_peers_drop_it_at_once() {
    let [a, b, c] = three_slow().await;
    let mut b_view = b.view();
    b_view.borrow_and_update();
    let asked = Instant::now();
    a.depart().await;
    let without = wait_view(&mut b_view, Duration::from_secs(1), |v| !v.alive.contains("a")).await.unwrap();
    let took = without.changed_at.duration_since(asked);
    assert!(took < Duration::from_millis(60), "b dropped a after {took:?}, not at once");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(b.counters().failures_detected(), 0, "a departure is not a failure");
    assert_eq!(c.counters().failures_detected(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarting_speaker_stays_an_owner_for_the_window_and_its_next_process_takes_over() {
    let [a, b, c] = three_slow_with(Duration::from_secs(3)).await;
    let mut b_view = b.view();
    b_view.borrow_and_update();
    let a_addr = a.local_addr();
    a.restart().await;
    // Well past suspect_after (750 ms): a is still alive in b's view.
    assert!(wait_view(&mut b_view, Duration::from_millis(1500), |v| !v.alive.contains("a")).await.is_none());
    assert!(b.view().borrow().alive.contains("a"));
    // Its next process (a new boot, on the same address) speaks: still alive, no failure, and it
    // stays past the window.
    let mut config = ProberConfig::new("a", a_addr, BootId(99));
    config.interval = Duration::from_millis(250);
    config.table.suspect_after = Duration::from_millis(750);
    let next = Prober::start(config, keys(KEY), []).await.unwrap();
    next.set_members(vec![Member::from(("b", b.local_addr())), Member::from(("c", c.local_addr()))]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(b.view().borrow().alive.contains("a"), "{:?}", b.view().borrow());
    assert_eq!(b.counters().failures_detected(), 0, "a restart is not a failure");
    // Another restart, and no next process: a is dead once the window has passed.
    next.restart().await;
    let gone = wait_view(&mut b_view, Duration::from_secs(5), |v| !v.alive.contains("a")).await;
    assert!(gone.is_some(), "a stayed alive past its restart window");
    assert_eq!(b.counters().failures_detected(), 1, "a restart that never came back is a failure");
    drop(c);
}

/// A rolling upgrade: a speaker of the first heartbeat version (no reports, no bit 3) refuses
/// version 2, so once it is heard the prober sends it version 1, and the old speaker sees the
/// prober alive all along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_speaker_gets_version_one_once_heard() {
    use crate::members::wire::{Heartbeat, Standing, decode, encode};
    let old = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let new = start("new", KEY, 1, 0).await;
    new.set_members([Member::from(("new", new.local_addr())), Member::from(("old", old.local_addr().unwrap()))]);
    let mut versions = Vec::new();
    let mut buf = [0u8; 2048];
    let started = Instant::now();
    let mut seq = 0;
    while started.elapsed() < Duration::from_millis(600) {
        seq += 1;
        let beat = Heartbeat {
            node: "old".into(),
            boot: BootId(7),
            seq,
            sent_at_ms: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64,
            standing: Standing::Member,
            reads_reports: false,
            report: None,
        };
        old.send_to(&encode(&beat, &keys(KEY)).unwrap(), new.local_addr()).await.unwrap();
        if let Ok(Ok((len, _))) = timeout(Duration::from_millis(100), old.recv_from(&mut buf)).await {
            versions.push(buf[4]);
            if buf[4] == 1 {
                let beat = decode(&buf[..len], &keys(KEY)).unwrap();
                assert!(beat.reads_reports && beat.report.is_none(), "{beat:?}");
            }
        }
    }
    assert!(versions.len() >= 4, "{versions:?}");
    assert!(versions.iter().skip(2).all(|&v| v == 1), "version 1 once heard: {versions:?}");
    let view = new.view().borrow().clone();
    assert!(view.alive.contains("old") && view.healthy, "{view:?}");
}
