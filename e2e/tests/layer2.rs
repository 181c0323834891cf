//! Layer2 mode as a user on the node segment sees it: exactly one node answers ARP and NDP for a
//! Service's address, curl reaches it, and when that node fails another takes over within half a
//! second, with or without the control plane.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ferrolb_crds::IPAddressPool;
use ferrolb_e2e::layer2::{POOL, SOON, arp_owner, l2_lab, service};
use ferrolb_e2e::{ready, summary, wait_accepted};
use ferrolb_lab::{Lab, LabOptions};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The one MAC answering NDP for `ip` from l2client.
async fn ndp_owner(lab: &Lab, ip: IpAddr, timeout: Duration) -> Result<String> {
    let start = Instant::now();
    let mut last = Vec::new();
    while start.elapsed() < timeout {
        last = lab.ndisc("l2client", ip)?;
        if last.len() == 1 {
            return Ok(last[0].clone());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("NDP for {ip}: wanted exactly one advertisement within {timeout:?}, last got {last:?}").into())
}

fn url(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("http://{v4}/"),
        IpAddr::V6(v6) => format!("http://[{v6}]/"),
    }
}

/// curl from l2client, retried until it answers or `timeout`.
async fn curl_until_ok(lab: &Lab, ip: IpAddr, timeout: Duration) -> Result<String> {
    let start = Instant::now();
    loop {
        match lab.curl("l2client", &url(ip)) {
            Ok(body) => return Ok(body.trim().to_owned()),
            Err(e) if start.elapsed() > timeout => return Err(format!("curl {ip}: {e}").into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exactly_one_node_answers_arp_and_curl_reaches_it() -> Result {
    let mut lab = l2_lab(None).await?;
    let ips = service(&mut lab, "web", "", &["node1", "node2", "node3"], 1).await?;
    let ip = ips[0];
    let mac = arp_owner(&lab, ip, SOON).await?;
    let owner = lab.node_by_mac(&mac)?;
    eprintln!("{ip} is answered by {owner} ({mac})");
    // Watched on the wire: whatever arping and curl ask, only the owner ever claims the address.
    let mut capture = lab.capture_arp("l2client")?;
    assert_eq!(lab.arping("l2client", ip, 5)?, vec![mac.clone(); 5]);
    assert_eq!(curl_until_ok(&lab, ip, SOON).await?, owner);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let claims: Vec<String> = capture.all().iter().filter(|p| p.claims(ip)).map(|p| p.source_mac.clone()).collect();
    assert!(claims.len() >= 5, "{claims:?}");
    assert!(claims.iter().all(|m| *m == mac), "another node claimed {ip}: {claims:?}");

    // The owner's metrics say what it announces and what it answered.
    let node_ip = lab.plan().host(&owner).map(|h| h.v4()).ok_or("no owner host")?;
    let metrics = lab.curl("l2client", &format!("http://{node_ip}:7473/metrics"))?;
    let announced =
        format!(r#"ferrolb_speaker_announced{{service="default/web",protocol="layer2",node="{owner}",ip="{ip}"}} 1"#);
    assert!(metrics.contains(&announced), "{metrics}");
    let answered =
        ferrolb_e2e::metric(&metrics, r#"ferrolb_layer2_responses_sent_total{interface="eth0",family="arp"}"#)
            .unwrap_or_default();
    assert!(answered >= 8, "{metrics}");
    assert!(metrics.contains("ferrolb_members_alive 3"), "{metrics}");
    assert!(metrics.contains("ferrolb_layer2_gratuitous_sent_total"), "{metrics}");
    assert!(metrics.contains("ferrolb_member_failures_detected_total 0"), "{metrics}");
    lab.check_daemons()?;
    Ok(())
}

/// With `--gratuitous-refresh=2s` the owner keeps announcing its address every 2 s after the gain
/// burst, and only the owner does: switches never age its MAC out (MetalLB issue 2910).
#[tokio::test(flavor = "multi_thread")]
async fn with_a_gratuitous_refresh_the_owner_repeats_its_announcement_at_the_interval() -> Result {
    let speaker_args = vec!["--gratuitous-refresh=2s".to_owned()];
    let mut lab = Lab::up(LabOptions { nodes: 2, speaker_args, ..LabOptions::for_test() }).await?;
    lab.apply(POOL)?;
    wait_accepted::<IPAddressPool>(&mut lab, "l2", "True", Duration::from_secs(10)).await?;
    let ip = service(&mut lab, "refresh", "", &["node1", "node2"], 1).await?[0];
    let mac = arp_owner(&lab, ip, SOON).await?;
    // Past the gain burst (its last round is at +2 s), watch for 7 s. Without the flag nothing is
    // announced in that window (checked by hand: 0 rounds).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut capture = lab.capture_arp("l2client")?;
    tokio::time::sleep(Duration::from_secs(7)).await;
    let rounds: Vec<_> = capture.all().iter().filter(|p| p.announces(ip) && !p.reply).cloned().collect();
    let from: Vec<&str> = rounds.iter().map(|p| p.source_mac.as_str()).collect();
    assert!(from.iter().all(|m| *m == mac), "only the owner {mac} announces {ip}: {from:?}");
    let gaps: Vec<Duration> = rounds.windows(2).map(|w| w[1].at.duration_since(w[0].at).unwrap_or_default()).collect();
    eprintln!("{ip}: {} refresh rounds in 7 s, {gaps:?} apart", rounds.len());
    assert!(rounds.len() >= 3, "at least three rounds in 7 s at a 2 s interval: {rounds:?}");
    for gap in &gaps {
        assert!(gap.abs_diff(Duration::from_secs(2)) < Duration::from_millis(300), "rounds {gaps:?} apart, want 2 s");
    }
    lab.check_daemons()?;
    Ok(())
}

/// Cuts the owner of `ip` (`how`), then expects another node's gratuitous ARP at l2client within
/// half a second and curl to reach that node; returns (old owner, new owner, time to the GARP).
async fn fail_over(lab: &Lab, ip: IpAddr, how: Cut) -> Result<(String, String, Duration)> {
    let mac = arp_owner(lab, ip, SOON).await?;
    let owner = lab.node_by_mac(&mac)?;
    let mut capture = lab.capture_arp("l2client")?;
    let cut = std::time::SystemTime::now();
    match how {
        Cut::LinkDown => lab.link_down(&owner)?,
        Cut::KillSpeaker => lab.kill_speaker(&owner)?,
    }
    let garp = capture
        .wait_announcement(ip, Duration::from_secs(3))
        .ok_or_else(|| format!("no gratuitous ARP for {ip} within 3 s of cutting {owner} ({how:?})"))?;
    let took = garp.at.duration_since(cut).unwrap_or_default();
    let new_owner = lab.node_by_mac(&garp.source_mac)?;
    eprintln!("{how:?} {owner}: {new_owner} announced {ip} after {took:?}");
    assert_ne!(new_owner, owner);
    assert!(took < Duration::from_millis(500), "failover took {took:?}");
    assert_eq!(curl_until_ok(lab, ip, SOON).await?, new_owner);
    let claims: Vec<String> = capture.all().iter().filter(|p| p.claims(ip)).map(|p| p.source_mac.clone()).collect();
    assert!(claims.iter().all(|m| *m == garp.source_mac), "after the failover, others claimed {ip}: {claims:?}");
    Ok((owner, new_owner, took))
}

/// How a test cuts a node.
#[derive(Debug, Clone, Copy)]
enum Cut {
    /// `ip link set eth0 down` in the node.
    LinkDown,
    /// `kill -9` of its speaker.
    KillSpeaker,
}

/// The nodes named by the ServiceL2Status objects of `default/<service>`.
fn status_nodes(lab: &Lab, service: &str) -> Result<Vec<String>> {
    let out = lab.kubectl(&[
        "get",
        "servicel2statuses",
        "-n",
        "default",
        "-l",
        &format!("ferrolb.io/service-name={service}"),
        "-o",
        "jsonpath={range .items[*]}{.status.node}{\"\\n\"}{end}",
    ])?;
    let mut nodes: Vec<String> = out.lines().map(str::to_owned).filter(|l| !l.is_empty()).collect();
    nodes.sort();
    Ok(nodes)
}

async fn wait_status_nodes(lab: &Lab, service: &str, want: &[String], timeout: Duration) -> Result {
    let start = Instant::now();
    loop {
        let got = status_nodes(lab, service)?;
        if got == want {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(format!("ServiceL2Status of {service}: want {want:?}, got {got:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn when_the_owner_loses_its_link_another_node_takes_over_within_half_a_second() -> Result {
    let mut lab = l2_lab(None).await?;
    let ip = service(&mut lab, "web", "", &["node1", "node2", "node3"], 1).await?[0];
    let owner = lab.node_by_mac(&arp_owner(&lab, ip, SOON).await?)?;
    // The owner, and only it, reports the announcement, and says so on the Service.
    wait_status_nodes(&lab, "web", std::slice::from_ref(&owner), SOON).await?;
    let start = Instant::now();
    loop {
        let events = lab.kubectl(&["get", "events", "--field-selector", "involvedObject.name=web"])?;
        if events.contains("nodeAssigned") && events.contains(&owner) {
            break;
        }
        assert!(start.elapsed() < SOON, "no nodeAssigned Event: {events}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (_, new_owner, _) = fail_over(&lab, ip, Cut::LinkDown).await?;
    // The cut-off node cannot reach the API server: the new owner replaces its status object.
    wait_status_nodes(&lab, "web", std::slice::from_ref(&new_owner), SOON).await?;
    Ok(())
}

/// Drops every heartbeat a node sends (UDP to the member port) while it still hears the others and
/// still reaches the clients: a one-way partition. The nftables table lives in the node's own
/// namespace, so it goes with the lab even if the test fails before [`heal`].
fn drop_heartbeats_from(lab: &Lab, node: &str) -> Result {
    for rule in [
        "add table inet flbsplit",
        "add chain inet flbsplit out { type filter hook output priority 0 ; }",
        "add rule inet flbsplit out udp dport 7946 drop",
    ] {
        let mut args = vec!["nft"];
        args.extend(rule.split(' '));
        lab.exec_ok(node, &args)?;
    }
    Ok(())
}

fn heal(lab: &Lab, node: &str) -> Result {
    lab.exec_ok(node, &["nft", "delete", "table", "inet", "flbsplit"])?;
    Ok(())
}

/// From ARP replies seen at l2client: how long `old` still claimed `ip` after another MAC first
/// did (zero if it stopped first), and the MACs claiming it from `settled` on.
fn overlap(
    seen: &[ferrolb_lab::layer2::ArpSeen],
    ip: IpAddr,
    old: &str,
    settled: std::time::SystemTime,
) -> (Duration, Vec<String>) {
    let claims: Vec<_> = seen.iter().filter(|p| p.claims(ip)).collect();
    let first_other = claims.iter().find(|p| p.source_mac != old).map(|p| p.at);
    let last_old = claims.iter().rev().find(|p| p.source_mac == old).map(|p| p.at);
    let both = match (first_other, last_old) {
        (Some(other), Some(old)) => old.duration_since(other).unwrap_or_default(),
        _ => Duration::ZERO,
    };
    let mut after: Vec<String> = claims.iter().filter(|p| p.at >= settled).map(|p| p.source_mac.clone()).collect();
    after.sort();
    after.dedup();
    (both, after)
}

/// Issue 17's split brain: the owner's heartbeats are lost while it still hears the others. The
/// others find it dead and take the address; the owner learns from their reports that it is unheard
/// and steps down, so exactly one MAC answers ARP; once heartbeats flow again, exactly one still does.
#[tokio::test(flavor = "multi_thread")]
async fn when_the_owners_heartbeats_are_lost_it_steps_down_and_exactly_one_node_answers() -> Result {
    let mut lab = l2_lab(None).await?;
    let ip = service(&mut lab, "oneway", "", &["node1", "node2", "node3"], 1).await?[0];
    let old_mac = arp_owner(&lab, ip, SOON).await?;
    let owner = lab.node_by_mac(&old_mac)?;
    let mut capture = lab.capture_arp("l2client")?;
    let mut asking = lab.arping_in_background("l2client", ip, Duration::from_millis(20), 150)?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cut = std::time::SystemTime::now();
    drop_heartbeats_from(&lab, &owner)?;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let _ = asking.wait();
    let (both, after) = overlap(capture.all(), ip, &old_mac, cut + Duration::from_secs(1));
    eprintln!("heartbeats from {owner} dropped: two MACs answered {ip} for {both:?}; from 1 s on: {after:?}");
    assert_eq!(after.len(), 1, "exactly one MAC answers from 1 s after the cut: {after:?}");
    assert_ne!(after[0], old_mac, "the unheard owner stepped down");
    assert!(both <= Duration::from_millis(100), "two MACs answered for {both:?}");
    let new_owner = lab.node_by_mac(&after[0])?;
    assert_eq!(curl_until_ok(&lab, ip, SOON).await?, new_owner);
    // The old owner says why it stepped down.
    let node_ip = lab.plan().host(&owner).map(|h| h.v4()).ok_or("no owner host")?;
    let metrics = lab.curl("l2client", &format!("http://{node_ip}:7473/metrics"))?;
    assert!(metrics.contains("ferrolb_member_unheard_step_downs_total 1"), "{metrics}");

    let mut capture = lab.capture_arp("l2client")?;
    let mut asking = lab.arping_in_background("l2client", ip, Duration::from_millis(20), 150)?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let healed = std::time::SystemTime::now();
    heal(&lab, &owner)?;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let _ = asking.wait();
    let (both, after) = overlap(capture.all(), ip, &after[0], healed + Duration::from_secs(1));
    eprintln!("healed: two MACs answered {ip} for {both:?}; from 1 s on: {after:?}");
    assert_eq!(after.len(), 1, "exactly one MAC answers from 1 s after healing: {after:?}");
    assert!(both <= Duration::from_millis(100), "two MACs answered for {both:?} after healing");
    lab.check_daemons()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn when_the_owners_speaker_is_killed_another_node_takes_over() -> Result {
    let mut lab = l2_lab(None).await?;
    let ip = service(&mut lab, "web", "", &["node1", "node2", "node3"], 1).await?[0];
    let (_, new_owner, _) = fail_over(&lab, ip, Cut::KillSpeaker).await?;
    wait_status_nodes(&lab, "web", std::slice::from_ref(&new_owner), SOON).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv6_exactly_one_node_answers_ndp_and_curl_reaches_it() -> Result {
    let mut lab = l2_lab(None).await?;
    let spec = "ipFamilyPolicy: SingleStack, ipFamilies: [IPv6]";
    let ip = service(&mut lab, "web6", spec, &["node1", "node2", "node3"], 1).await?[0];
    assert!(ip.is_ipv6(), "{ip}");
    let mac = ndp_owner(&lab, ip, SOON).await?;
    let owner = lab.node_by_mac(&mac)?;
    eprintln!("{ip} is answered by {owner} ({mac})");
    for _ in 0..3 {
        assert_eq!(lab.ndisc("l2client", ip)?, std::slice::from_ref(&mac));
    }
    assert_eq!(curl_until_ok(&lab, ip, SOON).await?, owner);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn with_traffic_policy_local_the_node_with_the_backend_answers_and_follows_it() -> Result {
    let mut lab = l2_lab(None).await?;
    let ip = service(&mut lab, "local", "externalTrafficPolicy: Local", &["node2"], 1).await?[0];
    let mac = arp_owner(&lab, ip, SOON).await?;
    assert_eq!(lab.node_by_mac(&mac)?, "node2");
    assert_eq!(curl_until_ok(&lab, ip, SOON).await?, "node2");

    // The backend moves to node3: so does the address.
    lab.backends("default", "local", &ready(&["node3"])).await?;
    let node3 = lab.mac("node3")?;
    let start = Instant::now();
    while arp_owner(&lab, ip, SOON).await? != node3 {
        assert!(start.elapsed() < SOON, "the address did not follow the backend to node3");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(curl_until_ok(&lab, ip, SOON).await?, "node3");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_advertisement_node_selector_keeps_a_node_out() -> Result {
    let mut lab = l2_lab(None).await?;
    let ip = service(&mut lab, "web", "", &["node1", "node2", "node3"], 1).await?[0];
    let owner = lab.node_by_mac(&arp_owner(&lab, ip, SOON).await?)?;
    // The same advertisement, now excluding the node that answered.
    lab.apply(&format!(
        "apiVersion: ferrolb.io/v1beta1\nkind: L2Advertisement\nmetadata: {{name: l2}}\n\
         spec: {{ipAddressPools: [l2], nodeSelectors: [{{matchExpressions: \
         [{{key: kubernetes.io/hostname, operator: NotIn, values: [{owner}]}}]}}]}}\n"
    ))?;
    let start = Instant::now();
    loop {
        let now = lab.node_by_mac(&arp_owner(&lab, ip, SOON).await?)?;
        if now != owner {
            eprintln!("{owner} excluded: {now} answers");
            assert_eq!(curl_until_ok(&lab, ip, SOON).await?, now);
            break;
        }
        assert!(start.elapsed() < SOON, "{owner} still answers although the nodeSelector excludes it");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_status_nodes(&lab, "web", &[lab.node_by_mac(&arp_owner(&lab, ip, SOON).await?)?], SOON).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_control_plane_addresses_keep_answering_and_failing_over() -> Result {
    let mut lab = l2_lab(None).await?;
    let ip = service(&mut lab, "web", "", &["node1", "node2", "node3"], 1).await?[0];
    let mac = arp_owner(&lab, ip, SOON).await?;
    let owner = lab.node_by_mac(&mac)?;
    lab.stop_control_plane()?;
    // Give the watches time to notice and start retrying.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(arp_owner(&lab, ip, SOON).await?, mac);
    assert_eq!(curl_until_ok(&lab, ip, SOON).await?, owner);
    let (_, new_owner, _) = fail_over(&lab, ip, Cut::LinkDown).await?;
    assert_ne!(new_owner, owner);
    Ok(())
}

fn speakers_rss_kib(lab: &Lab) -> Result<Vec<u64>> {
    ["node1", "node2", "node3"].iter().map(|n| Ok(lab.rss_kib(&format!("ferrolb-speaker-{n}"))?)).collect()
}

/// The figures the Layer2 issue asks for: failover time over 20 cuts, create -> first curl,
/// delete -> no more replies, and the speakers' memory idle and with 1,000 announced addresses.
/// `cargo test -p ferrolb-e2e --test layer2 -- --ignored --nocapture layer2_figures`
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: several minutes"]
async fn layer2_figures() -> Result {
    use futures::StreamExt;
    use k8s_openapi::api::core::v1::Service;
    use kube::api::{Api, DeleteParams, PostParams};

    let mut lab = l2_lab(None).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!("BENCH speaker RSS idle (KiB, node1..3): {:?}", speakers_rss_kib(&lab)?);

    // Failover: cut the owner's link, time the first gratuitous ARP at l2client, restore.
    let ip = service(&mut lab, "web", "", &["node1", "node2", "node3"], 1).await?[0];
    let mut failovers = Vec::new();
    for trial in 0..20 {
        let (old, _, took) = fail_over(&lab, ip, Cut::LinkDown).await?;
        failovers.push(took);
        lab.link_up(&old)?;
        // Let the node rejoin (its speaker hears the others again) and the address settle.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        arp_owner(&lab, ip, SOON).await?;
        eprintln!("trial {trial}: {took:?}");
    }
    let (_, p99) = summary("failover cut -> first GARP at l2client", failovers);
    assert!(p99 < Duration::from_millis(500), "failover p99 {p99:?}");

    // Create -> first successful curl, and delete -> no more ARP replies.
    let client = lab.client().await?;
    let api: Api<Service> = Api::namespaced(client.clone(), "default");
    let plan = lab.plan().clone();
    let (mut creates, mut deletes) = (Vec::new(), Vec::new());
    for i in 0..10 {
        let name = format!("b{i}");
        let start = Instant::now();
        api.create(&PostParams::default(), &ferrolb_e2e::lb_service_object("default", &name, &[], false)).await?;
        ferrolb_lab::backends::apply(&client, &plan, "default", &name, &ready(&["node1", "node2", "node3"])).await?;
        let ip = loop {
            if let Some(ip) =
                api.get(&name).await.ok().as_ref().map(ferrolb_e2e::ingress).and_then(|v| v.first().copied())
            {
                break ip;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        loop {
            if lab.exec_ok("l2client", &["curl", "-sS", "--max-time", "0.2", &url(ip)]).is_ok() {
                break;
            }
            assert!(start.elapsed() < SOON, "{name} not reachable");
        }
        creates.push(start.elapsed());

        // Ask every 10 ms while deleting; the last reply's capture time, after the delete started.
        arp_owner(&lab, ip, SOON).await?;
        let mut capture = lab.capture_arp("l2client")?;
        let netns = lab.netns("l2client")?.to_owned();
        let ip_text = ip.to_string();
        let asking = std::thread::spawn(move || {
            std::process::Command::new("ip")
                .args(["netns", "exec", &netns, "arping", "-i", "eth0", "-c", "60", "-W", "0.01", &ip_text])
                .output()
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let deleted = std::time::SystemTime::now();
        api.delete(&name, &DeleteParams::default()).await?;
        let _ = asking.join();
        let last_reply = capture.all().iter().filter(|p| p.reply && p.sender_ip == Some(ip)).map(|p| p.at).max();
        let replies_after =
            capture.all().iter().filter(|p| p.reply && p.sender_ip == Some(ip) && p.at > deleted).count();
        let took = last_reply.and_then(|t| t.duration_since(deleted).ok()).unwrap_or_default();
        eprintln!("{name}: reachable after {:?}; {replies_after} replies after delete, last {took:?}", creates[i]);
        deletes.push(took);
    }
    summary("Service create -> first successful curl from l2client", creates);
    summary("Service delete -> last ARP reply", deletes);

    // 1,000 addresses, all announced by node1.
    lab.apply(
        "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bulk}\n\
         spec: {addresses: ['2001:db8:1::1:0/112'], autoAssign: false}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: bulk}\n\
         spec: {ipAddressPools: [bulk], nodeSelectors: [{matchLabels: {kubernetes.io/hostname: node1}}]}\n",
    )?;
    wait_accepted::<IPAddressPool>(&mut lab, "bulk", "True", Duration::from_secs(10)).await?;
    let started = Instant::now();
    futures::stream::iter(0..1000)
        .map(|i| {
            let (api, client, plan) = (api.clone(), client.clone(), plan.clone());
            async move {
                let name = format!("bulk-{i}");
                let svc =
                    ferrolb_e2e::lb_service_object("default", &name, &[("ferrolb.io/address-pool", "bulk")], true);
                api.create(&PostParams::default(), &svc).await.map_err(|e| e.to_string())?;
                ferrolb_lab::backends::apply(&client, &plan, "default", &name, &ready(&["node1"]))
                    .await
                    .map_err(|e| e.to_string())
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<std::result::Result<Vec<_>, String>>()?;
    eprintln!("1,000 Services and their slices written in {:?}", started.elapsed());
    let node1 = lab.plan().host("node1").map(|h| h.v4()).ok_or("node1")?;
    let start = Instant::now();
    let announced = loop {
        let metrics = lab.curl("l2client", &format!("http://{node1}:7473/metrics"))?;
        let n = metrics.lines().filter(|l| l.starts_with("ferrolb_speaker_announced{") && l.contains("bulk-")).count();
        if n >= 1000 || start.elapsed() > Duration::from_secs(120) {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    eprintln!("node1 announces {announced} bulk addresses after {:?}", start.elapsed());
    tokio::time::sleep(Duration::from_secs(3)).await;
    eprintln!("BENCH speaker RSS with 1,000 addresses on node1 (KiB, node1..3): {:?}", speakers_rss_kib(&lab)?);
    assert_eq!(announced, 1000);
    Ok(())
}
