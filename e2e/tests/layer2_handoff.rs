//! Layer2 handoff as a client on the node segment sees it: when the owner's speaker is stopped
//! (SIGTERM) and started again, or the owner's Node is excluded and then included again, every ARP
//! request l2client sends meanwhile is answered. The old owner keeps answering until the new
//! owner's gratuitous ARP is on the wire, then goes quiet; the same when the address moves back.
//! The speakers here run with `--layer2-restart-window=0`, so that SIGTERM hands over; with the
//! window on (the default), a speaker on a node in service restarts in place instead, and the
//! address never moves (the last test). For contrast, a speaker killed with SIGKILL leaves requests
//! unanswered for the detection time.

use std::net::IpAddr;
use std::process::Child;
use std::time::{Duration, Instant, SystemTime};

use ferrolb_e2e::layer2::{SOON, arp_owner, l2_lab_with, service};
use ferrolb_lab::layer2::{ArpConversation, ArpSeen, arp_conversation};
use ferrolb_lab::{Lab, process};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// How often l2client asks who has the address.
const ASK_EVERY: Duration = Duration::from_millis(50);
/// How long a request may wait for its reply and still count as answered: a host asks again only
/// after a second, and the lab's machine is shared, so a reply can be late by tens of milliseconds.
const ANSWER_WITHIN: Duration = Duration::from_millis(200);

const EXCLUDE: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// l2client asking for an address at a steady pace, with a capture of what it asks and hears.
struct Asking {
    capture: ferrolb_lab::layer2::ArpCapture,
    arping: Child,
    client_mac: String,
    ip: IpAddr,
}

impl Asking {
    /// Starts asking for `ip` every [`ASK_EVERY`] for `total`: ARP requests for IPv4, Neighbor
    /// Solicitations for IPv6 (each from a new ndisc6, so somewhat further apart).
    fn start(lab: &Lab, ip: IpAddr, total: Duration) -> Result<Asking> {
        let count = u32::try_from(total.as_millis() / ASK_EVERY.as_millis())?;
        let (capture, arping) = if ip.is_ipv6() {
            let capture = lab.capture_ndp("l2client")?;
            (capture, lab.ndisc_in_background("l2client", ip, ASK_EVERY, count)?)
        } else {
            let capture = lab.capture_arp("l2client")?;
            (capture, lab.arping_in_background("l2client", ip, ASK_EVERY, count)?)
        };
        Ok(Asking { capture, arping, client_mac: lab.mac("l2client")?, ip })
    }

    /// Waits for arping to finish; returns every ARP packet seen and the conversation about the address.
    async fn finish(mut self) -> Result<(Vec<ArpSeen>, ArpConversation)> {
        let mut arping = self.arping;
        tokio::task::spawn_blocking(move || arping.wait()).await??;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let seen = self.capture.all().to_vec();
        let talk = arp_conversation(&seen, &self.client_mac, self.ip, ANSWER_WITHIN);
        if !talk.unanswered.is_empty() {
            around(&seen, &talk.unanswered);
        }
        Ok((seen, talk))
    }
}

/// Prints the packets seen within 300 ms of each of `times`, to tell a late reply from a gap.
fn around(seen: &[ArpSeen], times: &[SystemTime]) {
    for at in times {
        eprintln!("around {at:?}:");
        let near = |p: &&ArpSeen| {
            let distance = p.at.duration_since(*at).unwrap_or_else(|e| e.duration());
            distance < Duration::from_millis(300)
        };
        for p in seen.iter().filter(near) {
            eprintln!("  {p:?}");
        }
    }
}

/// The first gratuitous announcement of `ip` by `mac` at or after `since`.
fn first_announcement(seen: &[ArpSeen], ip: IpAddr, mac: &str, since: SystemTime) -> Option<SystemTime> {
    seen.iter().filter(|p| p.announces(ip) && p.source_mac == mac && p.at >= since).map(|p| p.at).min()
}

/// The last (unicast) reply about `ip` from `mac` up to `until`.
fn last_reply(seen: &[ArpSeen], ip: IpAddr, mac: &str, until: SystemTime) -> Option<SystemTime> {
    seen.iter()
        .filter(|p| p.reply && !p.broadcast && p.sender_ip == Some(ip) && p.source_mac == mac && p.at <= until)
        .map(|p| p.at)
        .max()
}

/// Asserts that `from_mac` answered until `to_mac` announced the address (its first announcement
/// after `since`): the old owner's last reply is less than one request interval before the
/// announcement, or after it. Returns the announcement's time.
fn handed_over(seen: &[ArpSeen], ip: IpAddr, from_mac: &str, to_mac: &str, since: SystemTime) -> Result<SystemTime> {
    let announced = first_announcement(seen, ip, to_mac, since)
        .ok_or_else(|| format!("{to_mac} never announced {ip} after {since:?}"))?;
    let last = last_reply(seen, ip, from_mac, announced + ASK_EVERY)
        .ok_or_else(|| format!("{from_mac} never answered for {ip} before {to_mac} announced it"))?;
    let gap = announced.duration_since(last).unwrap_or_default();
    eprintln!("{from_mac} last answered {gap:?} before {to_mac} announced {ip}");
    assert!(gap < ASK_EVERY + Duration::from_millis(20), "{from_mac} went quiet {gap:?} before {to_mac} announced");
    Ok(announced)
}

/// The other MAC that answered besides `old`, which must be the only one.
fn the_other(talk: &ArpConversation, old: &str) -> Result<String> {
    let others: Vec<&String> = talk.answered_by.iter().map(|(m, _, _)| m).filter(|m| *m != old).collect();
    match others.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(format!("wanted exactly one other MAC to answer besides {old}: {:?}", talk.answered_by).into()),
    }
}

/// A 3-node Layer2 lab with one Service, backends on every node, and who answers for it.
struct Owned {
    lab: Lab,
    ip: IpAddr,
    /// The owner's MAC.
    mac: String,
    /// The owner.
    node: String,
}

impl Owned {
    async fn new(service_name: &str) -> Result<Owned> {
        Owned::with_spec(service_name, "").await
    }

    async fn with_spec(service_name: &str, extra_spec: &str) -> Result<Owned> {
        Owned::with_args(service_name, extra_spec, &["--layer2-restart-window=0"]).await
    }

    async fn with_args(service_name: &str, extra_spec: &str, speaker_args: &[&str]) -> Result<Owned> {
        let mut lab = l2_lab_with(None, speaker_args).await?;
        let ip = service(&mut lab, service_name, extra_spec, &["node1", "node2", "node3"], 1).await?[0];
        let mac = if ip.is_ipv6() { ndp_owner(&lab, ip).await? } else { arp_owner(&lab, ip, SOON).await? };
        let node = lab.node_by_mac(&mac)?;
        Ok(Owned { lab, ip, mac, node })
    }
}

/// The one MAC advertised for `ip` to l2client, once exactly one is.
async fn ndp_owner(lab: &Lab, ip: IpAddr) -> Result<String> {
    let start = Instant::now();
    loop {
        let macs = lab.ndisc("l2client", ip)?;
        if let [one] = macs.as_slice() {
            return Ok(one.clone());
        }
        if start.elapsed() > SOON {
            return Err(format!("NDP for {ip}: wanted one advertisement, got {macs:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn log_of(lab: &Lab, daemon: &str) -> Result<String> {
    let d = lab.record().daemons.iter().find(|d| d.name == daemon).ok_or_else(|| format!("no process {daemon}"))?;
    Ok(std::fs::read_to_string(&d.log)?)
}

/// `ferrolb_layer2_handoffs_total{outcome=...}` of a node's speaker.
fn handoffs(lab: &Lab, node: &str, outcome: &str) -> Result<u64> {
    let node_ip = lab.plan().host(node).map(|h| h.v4()).ok_or("no such node")?;
    let metrics = lab.curl("l2client", &format!("http://{node_ip}:7473/metrics"))?;
    let series = format!(r#"ferrolb_layer2_handoffs_total{{outcome="{outcome}"}}"#);
    Ok(ferrolb_e2e::metric(&metrics, &series).ok_or_else(|| format!("no {series} in {metrics}"))?)
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_then_start_hands_the_address_over_and_back_with_every_arp_request_answered() -> Result {
    sigterm_then_start(Owned::new("handoff").await?, 100).await
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv6_sigterm_then_start_hands_the_address_over_and_back_with_every_solicitation_answered() -> Result {
    let spec = "ipFamilyPolicy: SingleStack, ipFamilies: [IPv6]";
    sigterm_then_start(Owned::with_spec("handoff6", spec).await?, 40).await
}

/// SIGTERM to the owner's speaker while l2client asks, then start it again: every request is
/// answered, the address moves away on the new owner's announcement and back on the old one's.
async fn sigterm_then_start(owned: Owned, at_least: usize) -> Result {
    let Owned { mut lab, ip, mac: old_mac, node: owner } = owned;
    let speaker = format!("ferrolb-speaker-{owner}");
    let asking = Asking::start(&lab, ip, Duration::from_secs(6))?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let daemon = lab.record().daemons.iter().find(|d| d.name == speaker).cloned().ok_or("no owner speaker")?;
    let (stopping, stopping_at) = (Instant::now(), SystemTime::now());
    process::stop(&daemon, Duration::from_secs(3));
    let exit_took = stopping.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let starting_at = SystemTime::now();
    lab.restart(&speaker)?;
    let (seen, talk) = asking.finish().await?;

    eprintln!(
        "SIGTERM of {owner}'s speaker ({ip}): exited after {exit_took:?}; {} requests, unanswered at {:?}, slowest answer {:?}",
        talk.requests, talk.unanswered, talk.slowest
    );
    assert!(exit_took < Duration::from_millis(2500), "SIGTERM to exit took {exit_took:?}");
    assert!(talk.requests >= at_least, "l2client sent {} requests", talk.requests);
    assert!(talk.unanswered.is_empty(), "unanswered requests at {:?}", talk.unanswered);
    let new_mac = the_other(&talk, &old_mac)?;
    let new_owner = lab.node_by_mac(&new_mac)?;
    let away = handed_over(&seen, ip, &old_mac, &new_mac, stopping_at)?;
    assert!(away < starting_at, "the address moved while the old speaker was stopping, not after");
    // Started again, the old owner ranks first again: the interim owner answers until it announces.
    let back = handed_over(&seen, ip, &new_mac, &old_mac, starting_at)?;
    eprintln!("{ip}: {owner} -> {new_owner} at {away:?}, back at {back:?}");
    assert!(log_of(&lab, &speaker)?.contains("handed over: heard the new owner announce it"));
    assert_eq!(handoffs(&lab, &new_owner, "heard")?, 1, "the interim owner handed back on hearing {owner}");
    assert_eq!(handoffs(&lab, &new_owner, "bound")?, 0);
    lab.check_daemons()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn excluding_the_owner_node_and_including_it_again_leaves_no_arp_request_unanswered() -> Result {
    let Owned { lab, ip, mac: old_mac, node: owner } = Owned::new("excluded").await?;
    let asking = Asking::start(&lab, ip, Duration::from_secs(5))?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let excluded_at = SystemTime::now();
    lab.kubectl(&["label", "node", &owner, &format!("{EXCLUDE}=")])?;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let included_at = SystemTime::now();
    lab.kubectl(&["label", "node", &owner, &format!("{EXCLUDE}-")])?;
    let (seen, talk) = asking.finish().await?;

    eprintln!(
        "excluding {owner}: {} requests, unanswered at {:?}, slowest answer {:?}",
        talk.requests, talk.unanswered, talk.slowest
    );
    assert!(talk.requests >= 80, "arping sent {} requests", talk.requests);
    assert!(talk.unanswered.is_empty(), "unanswered ARP requests at {:?}", talk.unanswered);
    let new_mac = the_other(&talk, &old_mac)?;
    let away = handed_over(&seen, ip, &old_mac, &new_mac, excluded_at)?;
    assert!(away < included_at);
    handed_over(&seen, ip, &new_mac, &old_mac, included_at)?;
    // After the move back, only the old owner answers.
    assert_eq!(arp_owner(&lab, ip, SOON).await?, old_mac);
    lab.check_daemons()?;
    Ok(())
}

/// Unplanned, for contrast: SIGKILL gives no warning, so requests go unanswered until the other
/// speakers notice the silence (about 300 ms). Reported, and asserted to be more than zero, so this
/// test fails if the figure it reports stops meaning anything.
#[tokio::test(flavor = "multi_thread")]
async fn for_contrast_sigkill_leaves_requests_unanswered_for_the_detection_time() -> Result {
    let Owned { lab, ip, node: owner, .. } = Owned::new("killed").await?;
    let asking = Asking::start(&lab, ip, Duration::from_secs(3))?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    lab.kill_speaker(&owner)?;
    let (_, talk) = asking.finish().await?;
    let first = talk.unanswered.first().copied();
    let span = first.zip(talk.unanswered.last()).and_then(|(a, b)| b.duration_since(a).ok());
    eprintln!(
        "SIGKILL of {owner}'s speaker: {} of {} requests unanswered over {span:?}",
        talk.unanswered.len(),
        talk.requests
    );
    assert!(!talk.unanswered.is_empty(), "an unplanned stop cannot be handed over");
    assert!(talk.unanswered.len() <= 10, "more than 500 ms without an answer: {:?}", talk.unanswered);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_restart_window_a_restarted_speaker_keeps_its_address_and_nothing_moves() -> Result {
    let Owned { mut lab, ip, mac: old_mac, node: owner } = Owned::with_args("inplace", "", &[]).await?;
    let speaker = format!("ferrolb-speaker-{owner}");
    let asking = Asking::start(&lab, ip, Duration::from_secs(5))?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopping = Instant::now();
    lab.restart(&speaker)?;
    let restarted_in = stopping.elapsed();
    let (seen, talk) = asking.finish().await?;
    eprintln!(
        "restart of {owner}'s speaker ({ip}) in {restarted_in:?}: {} requests, unanswered at {:?}, answered by {:?}",
        talk.requests, talk.unanswered, talk.answered_by
    );
    // Only the owner ever answers or announces the address: it never moved.
    let others: Vec<&ArpSeen> =
        seen.iter().filter(|p| p.claims(ip) && !p.source_mac.eq_ignore_ascii_case(&old_mac)).collect();
    assert!(others.is_empty(), "another node claimed {ip}: {others:?}");
    assert!(talk.answered_by.iter().all(|(mac, _, _)| mac.eq_ignore_ascii_case(&old_mac)), "{:?}", talk.answered_by);
    assert!(log_of(&lab, &speaker)?.contains("restarting: keeping this node's addresses"));
    for other in ["node1", "node2", "node3"].into_iter().filter(|n| *n != owner) {
        assert_eq!(handoffs(&lab, other, "heard")?, 0, "{other} took no part");
        let log = log_of(&lab, &format!("ferrolb-speaker-{other}"))?;
        assert!(log.contains("member restarts: keeping its addresses with it"), "{other} was not told");
        assert!(!log.contains("member stopped answering"), "{other} counted the restart as a failure");
    }
    // The restarted speaker answers again (ARP requests during its restart wait for it).
    let last = talk.unanswered.last().copied();
    assert!(
        talk.requests > talk.unanswered.len() + 20,
        "{} requests, {} unanswered",
        talk.requests,
        talk.unanswered.len()
    );
    eprintln!("last unanswered request at {last:?}");
    lab.check_daemons()?;
    Ok(())
}
