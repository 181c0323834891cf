//! Hostile datagrams on the member port: forged, replayed (the same bytes again, and another boot
//! id that is not newer), from the future, truncated, from a node that is not a member, and a burst
//! of garbage, sent from the client on the node segment to a speaker. Each is refused and counted
//! under its reason in `ferrolb_member_heartbeats_rejected_total`, and none changes membership:
//! three members stay alive and no failure is detected.

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ferrolb_lab::{Lab, LabOptions};
use ferrolb_speaker::members::wire::{BootId, Heartbeat, KeyRing, decode, encode};
use ferrolb_speaker::rawsock::enter_network_namespace;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const NODE1: &str = "198.51.100.11";
const NODE2: &str = "198.51.100.12";

/// Datagrams rejected, by reason.
type Rejected = Vec<(String, u64)>;

/// node1's member metrics: (alive, failures detected, rejected by reason).
fn member_metrics(lab: &Lab) -> Result<(u64, u64, Rejected)> {
    let text = lab.curl("l2client", &format!("http://{NODE1}:7473/metrics"))?;
    let alive = ferrolb_e2e::metric(&text, "ferrolb_members_alive").unwrap_or_default();
    let failures = ferrolb_e2e::metric(&text, "ferrolb_member_failures_detected_total").unwrap_or_default();
    let rejected = ["malformed", "bad_tag", "unknown_sender", "stale", "replay"]
        .iter()
        .map(|reason| {
            let series = format!(r#"ferrolb_member_heartbeats_rejected_total{{reason="{reason}"}}"#);
            ((*reason).to_owned(), ferrolb_e2e::metric(&text, &series).unwrap_or_default())
        })
        .collect();
    Ok((alive, failures, rejected))
}

fn rejected(metrics: &[(String, u64)], reason: &str) -> u64 {
    metrics.iter().find(|(r, _)| r == reason).map_or(0, |(_, n)| *n)
}

/// Sends `datagrams` to node1's member port from inside the client's namespace.
fn send_from_client(lab: &Lab, datagrams: Vec<Vec<u8>>) -> Result {
    let ns = std::fs::File::open(format!("/run/netns/{}", lab.netns("l2client")?))?;
    let to: SocketAddr = format!("{NODE1}:7946").parse()?;
    std::thread::spawn(move || -> std::result::Result<(), String> {
        enter_network_namespace(ns.as_fd()).map_err(|e| format!("setns: {e}"))?;
        let socket = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
        for datagram in datagrams {
            socket.send_to(&datagram, to).map_err(|e| e.to_string())?;
            std::thread::sleep(Duration::from_micros(200));
        }
        Ok(())
    })
    .join()
    .map_err(|_| "the sending thread panicked")??;
    Ok(())
}

/// One heartbeat node2 really sent to node1, captured on node1's link.
fn capture_heartbeat(lab: &Lab) -> Result<Vec<u8>> {
    let pcap = lab.state_dir().join("heartbeat.pcap");
    let path = pcap.to_string_lossy().into_owned();
    let filter = format!("udp and src host {NODE2} and dst port 7946");
    lab.exec_ok("node1", &["timeout", "5", "tcpdump", "-i", "eth0", "-c", "1", "-U", "-w", &path, &filter])?;
    let bytes = std::fs::read(&pcap)?;
    // pcap: a 24-byte file header and a 16-byte record header, then Ethernet, IPv4, UDP.
    let frame = bytes.get(40..).ok_or("an empty capture")?;
    let ihl = usize::from(frame.get(14).ok_or("no IPv4 header")? & 0x0f) * 4;
    Ok(frame.get(14 + ihl + 8..).ok_or("no UDP payload")?.to_vec())
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

async fn wait_alive(lab: &Lab, want: u64, timeout: Duration) -> Result {
    let start = Instant::now();
    loop {
        // The speaker's metrics port opens a moment after the lab is up: until then, try again.
        let seen = member_metrics(lab).map(|(alive, _, _)| alive);
        if seen.as_ref().is_ok_and(|alive| *alive == want) {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(match seen {
                Ok(alive) => format!("node1 sees {alive} members alive, wanted {want}"),
                Err(e) => format!("node1's metrics never answered: {e}"),
            }
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_replayed_future_truncated_and_foreign_heartbeats_are_refused_and_counted() -> Result {
    let lab = Lab::up(LabOptions { nodes: 3, ..LabOptions::for_test() }).await?;
    wait_alive(&lab, 3, Duration::from_secs(10)).await?;
    let key = lab.kubectl(&[
        "get",
        "secret",
        "-n",
        "ferrolb-system",
        "ferrolb-memberlist",
        "-o",
        "go-template={{.data.secretkey | base64decode}}",
    ])?;
    let keys = KeyRing::new([key.as_bytes()])?;
    let real = capture_heartbeat(&lab)?;
    let seen = decode(&real, &keys)?;
    assert_eq!(seen.node, "node2", "captured {seen:?}");
    let (_, failures_before, before) = member_metrics(&lab)?;
    // node2's datagram is at least a round old before it comes back.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let forged = encode(&seen, &KeyRing::new([b"not-the-cluster-key-at-all-0123".as_slice()])?)?;
    let other_boot = Heartbeat { boot: BootId(seen.boot.0 ^ 1), ..seen.clone() };
    let future = Heartbeat { seq: u64::MAX - 1, sent_at_ms: unix_ms() + 60_000, report: None, ..seen.clone() };
    let intruder = Heartbeat { node: "intruder".into(), sent_at_ms: unix_ms(), seq: 1, report: None, ..seen.clone() };
    let truncated = real.get(..real.len() - 5).ok_or("a short heartbeat")?.to_vec();
    let mut burst: Vec<Vec<u8>> = (0..1000u32).map(|i| i.to_be_bytes().repeat(1 + (i % 40) as usize)).collect();
    burst.extend([
        forged,
        real.clone(),
        encode(&other_boot, &keys)?,
        encode(&future, &keys)?,
        encode(&intruder, &keys)?,
        truncated,
    ]);
    send_from_client(&lab, burst)?;
    // Held back past the 5 s freshness window, the same bytes are stale.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    send_from_client(&lab, vec![real])?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (alive, failures, after) = member_metrics(&lab)?;
    let grew = |reason: &str| rejected(&after, reason) - rejected(&before, reason);
    eprintln!("rejected by node1: {after:?} (before: {before:?})");
    assert_eq!(grew("malformed"), 1001, "1,000 garbage datagrams and the truncated one");
    assert_eq!(grew("bad_tag"), 1, "the forged one");
    assert_eq!(grew("replay"), 2, "the same bytes again, and another boot that is not newer");
    assert_eq!(grew("stale"), 2, "from the future, and the same bytes 5.5 s later");
    assert_eq!(grew("unknown_sender"), 1, "the intruder");
    assert_eq!((alive, failures), (3, failures_before), "membership did not change");
    // node2 is still heard: its next real heartbeat (sequence far below u64::MAX - 1) is accepted.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(member_metrics(&lab)?.0, 3);
    lab.check_daemons()?;
    Ok(())
}
