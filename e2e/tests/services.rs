//! The moment the user waits for: `kubectl get svc` shows an EXTERNAL-IP, the right one,
//! and when it cannot, the Service says exactly why.

use std::net::IpAddr;
use std::time::Duration;

use ferrolb_crds::IPAddressPool;
use ferrolb_e2e::{lb_service, wait_accepted, wait_ingress, wait_service_condition};
use ferrolb_lab::{Lab, LabOptions};
use kube::api::Api;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const SOON: Duration = Duration::from_secs(3);

async fn lab_with_pool(pool_yaml: &str) -> Result<Lab> {
    let mut lab = Lab::up(LabOptions { nodes: 1, ..LabOptions::for_test() }).await?;
    lab.apply(pool_yaml)?;
    let name = pool_yaml
        .split("name: ")
        .nth(1)
        .and_then(|s| s.split(['}', '\n', ',']).next())
        .unwrap_or("lab")
        .trim()
        .to_owned();
    wait_accepted::<IPAddressPool>(&mut lab, &name, "True", Duration::from_secs(10)).await?;
    Ok(lab)
}

const L2_POOL: &str = "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: lab}\n\
    spec: {addresses: [198.51.100.200-198.51.100.250, '2001:db8:1::200-2001:db8:1::2ff']}\n";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_load_balancer_service_gets_its_address_and_says_where_it_came_from() -> Result {
    let mut lab = lab_with_pool(L2_POOL).await?;
    lab.apply(&lb_service("web", 80, "", ""))?;
    let (ips, took) = wait_ingress(&mut lab, "default", "web", 1, SOON).await?;
    eprintln!("web got {ips:?} {took:?} after kubectl apply returned");
    assert_eq!(ips, [ip("198.51.100.200")]);

    let shown = lab.kubectl(&["get", "svc", "web"])?;
    assert!(shown.contains("198.51.100.200"), "kubectl get svc: {shown}");
    let pool = lab.kubectl(&[
        "get",
        "svc",
        "web",
        "-o",
        "jsonpath={.metadata.annotations.ferrolb\\.io/ip-allocated-from-pool}",
    ])?;
    assert_eq!(pool, "lab");
    let c = wait_service_condition(&mut lab, "default", "web", "True", SOON).await?;
    assert_eq!(c.message, "198.51.100.200 from IPAddressPool lab: first autoAssign pool with a free address");
    let events = lab.kubectl(&["get", "events", "--field-selector", "involvedObject.name=web"])?;
    assert!(events.contains("IPAllocated"), "{events}");
    let counts =
        lab.kubectl(&["get", "ipaddresspool", "lab", "-o", "jsonpath={.status.assignedIPv4}/{.status.availableIPv4}"])?;
    assert_eq!(counts, "1/50");

    // Deleted, its address goes back to the pool.
    lab.kubectl(&["delete", "svc", "web"])?;
    let start = std::time::Instant::now();
    while lab.kubectl(&["get", "ipaddresspool", "lab", "-o", "jsonpath={.status.assignedIPv4}"])? != "0" {
        assert!(start.elapsed() < SOON, "the address was not released");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn requested_and_shared_addresses_follow_the_rules() -> Result {
    let mut lab = lab_with_pool(L2_POOL).await?;
    // MetalLB's spelling is read, and the Service is told so.
    lab.apply(&lb_service("a", 80, "metallb.universe.tf/loadBalancerIPs: 198.51.100.210", ""))?;
    assert_eq!(wait_ingress(&mut lab, "default", "a", 1, SOON).await?.0, [ip("198.51.100.210")]);
    let events = lab.kubectl(&["get", "events", "--field-selector", "involvedObject.name=a"])?;
    assert!(events.contains("AnnotationAlias") && events.contains("read as ferrolb.io/loadBalancerIPs"), "{events}");

    // The same address without a sharing key: refused, naming the holder.
    lab.apply(&lb_service("b", 81, "ferrolb.io/loadBalancerIPs: 198.51.100.210", ""))?;
    let c = wait_service_condition(&mut lab, "default", "b", "False", SOON).await?;
    assert_eq!(c.reason, "AllocationFailed");
    assert!(c.message.contains("default/a"), "{}", c.message);

    // A sharing key and distinct ports: one address for two Services.
    lab.apply(&lb_service("c", 80, "ferrolb.io/allow-shared-ip: team", ""))?;
    lab.apply(&lb_service("d", 443, "ferrolb.io/allow-shared-ip: team", ""))?;
    let c_ip = wait_ingress(&mut lab, "default", "c", 1, SOON).await?.0;
    let d_ip = wait_ingress(&mut lab, "default", "d", 1, SOON).await?.0;
    assert_eq!(c_ip, d_ip, "Services with one sharing key and distinct ports share an address");
    // The same key but an overlapping port: refused, naming the port and the other Service.
    lab.apply(&lb_service(
        "e",
        80,
        &format!("ferrolb.io/allow-shared-ip: team, ferrolb.io/loadBalancerIPs: {}", c_ip[0]),
        "",
    ))?;
    let c = wait_service_condition(&mut lab, "default", "e", "False", SOON).await?;
    assert!(c.message.contains("80") && c.message.contains("default/c"), "{}", c.message);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn dual_stack_services_get_one_address_per_family() -> Result {
    let mut lab = lab_with_pool(L2_POOL).await?;
    lab.apply(&lb_service("both", 80, "", "ipFamilyPolicy: RequireDualStack, ipFamilies: [IPv4, IPv6]"))?;
    let (ips, _) = wait_ingress(&mut lab, "default", "both", 2, SOON).await?;
    assert_eq!(ips, [ip("198.51.100.200"), ip("2001:db8:1::200")]);
    lab.apply(&lb_service("six", 80, "", "ipFamilyPolicy: SingleStack, ipFamilies: [IPv6]"))?;
    assert_eq!(wait_ingress(&mut lab, "default", "six", 1, SOON).await?.0, [ip("2001:db8:1::201")]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn prefer_dual_stack_gains_its_missing_family_when_a_pool_offers_it() -> Result {
    let v4_only = "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: four}\n\
        spec: {addresses: [198.51.100.200-198.51.100.210]}\n";
    let mut lab = lab_with_pool(v4_only).await?;
    lab.apply(&lb_service("pref", 80, "", "ipFamilyPolicy: PreferDualStack, ipFamilies: [IPv4, IPv6]"))?;
    assert_eq!(wait_ingress(&mut lab, "default", "pref", 1, SOON).await?.0, [ip("198.51.100.200")]);
    let c = wait_service_condition(&mut lab, "default", "pref", "True", SOON).await?;
    assert!(c.message.contains("no IPv6 address"), "{}", c.message);

    // An IPv6 pool appears: the Service keeps its IPv4 address and gains an IPv6 one.
    lab.apply(
        "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: six}\n\
         spec: {addresses: ['2001:db8:1::200-2001:db8:1::20f']}\n",
    )?;
    let (ips, _) = wait_ingress(&mut lab, "default", "pref", 2, Duration::from_secs(10)).await?;
    assert_eq!(ips, [ip("198.51.100.200"), ip("2001:db8:1::200")]);
    let pools = lab.kubectl(&[
        "get",
        "svc",
        "pref",
        "-o",
        "jsonpath={.metadata.annotations.ferrolb\\.io/ip-allocated-from-pool}",
    ])?;
    assert_eq!(pools, "four,six");

    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exhausted_pool_says_so_until_an_address_is_freed() -> Result {
    let pool = "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: small}\nspec: {addresses: [198.51.100.200-198.51.100.201]}\n";
    let mut lab = lab_with_pool(pool).await?;
    for (name, port) in [("one", 80), ("two", 81)] {
        lab.apply(&lb_service(name, port, "", ""))?;
        wait_ingress(&mut lab, "default", name, 1, SOON).await?;
    }
    lab.apply(&lb_service("three", 82, "", ""))?;
    let c = wait_service_condition(&mut lab, "default", "three", "False", SOON).await?;
    assert!(c.message.contains("small"), "the refusal names the pool: {}", c.message);
    let pending = lab.kubectl(&["get", "svc", "three"])?;
    assert!(pending.contains("<pending>"), "{pending}");
    // The user asks why, the two ways they would.
    let described = lab.kubectl(&["describe", "svc", "three"])?;
    assert!(described.contains("AllocationFailed") && described.contains("small"), "{described}");
    let explain = std::process::Command::new(ferrolb_e2e::workspace_binary("ferrolb"))
        .args(["explain", "service", "three", "-n", "default", "--kubeconfig"])
        .arg(lab.kubeconfig())
        .output()?;
    let said = String::from_utf8_lossy(&explain.stdout);
    eprintln!("ferrolb explain service three:\n{said}");
    assert!(explain.status.success(), "{}", String::from_utf8_lossy(&explain.stderr));
    assert!(said.contains("has no address") && said.contains("small"), "{said}");
    lab.kubectl(&["delete", "svc", "one"])?;
    assert_eq!(wait_ingress(&mut lab, "default", "three", 1, SOON).await?.0, [ip("198.51.100.200")]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_leader_keeps_every_address_in_use() -> Result {
    let mut lab = Lab::up(LabOptions { nodes: 1, controllers: 2, ..LabOptions::for_test() }).await?;
    lab.apply(L2_POOL)?;
    wait_accepted::<IPAddressPool>(&mut lab, "lab", "True", Duration::from_secs(10)).await?;
    let mut before = Vec::new();
    for i in 0..5 {
        lab.apply(&lb_service(&format!("s{i}"), 80, "", ""))?;
        before.push(wait_ingress(&mut lab, "default", &format!("s{i}"), 1, SOON).await?.0);
    }
    let leader = ferrolb_e2e::controller_leader(&lab);
    let daemon = lab.record().daemons.iter().find(|d| d.name == leader).cloned().ok_or("no leader process")?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(daemon.pid), nix::sys::signal::Signal::SIGKILL)?;
    // A Service created while nobody leads gets its address from the new leader.
    lab.apply(&lb_service("late", 80, "", ""))?;
    let (late, took) = wait_ingress(&mut lab, "default", "late", 1, Duration::from_secs(10)).await?;
    eprintln!("after the leader died, the new leader served a new Service in {took:?}");
    assert!(took < Duration::from_secs(5));
    let client = lab.client().await?;
    let api: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client, "default");
    for (i, ips) in before.iter().enumerate() {
        let svc = api.get(&format!("s{i}")).await?;
        assert_eq!(&ferrolb_e2e::ingress(&svc), ips, "s{i} kept its address");
        assert!(!ips.contains(&late[0]), "the new Service got an address in use");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn services_of_another_class_are_left_alone() -> Result {
    let mut lab = lab_with_pool(L2_POOL).await?;
    lab.apply(&lb_service("theirs", 80, "", "loadBalancerClass: example.com/other"))?;
    lab.apply(&lb_service("ours", 80, "", "loadBalancerClass: ferrolb.io/lb"))?;
    wait_ingress(&mut lab, "default", "ours", 1, SOON).await?;
    let theirs = lab.kubectl(&["get", "svc", "theirs", "-o", "jsonpath={.status}"])?;
    assert!(!theirs.contains("ingress") && !theirs.contains("ferrolb"), "{theirs}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_annotations_are_refused_and_touch_nothing_else() -> Result {
    let mut lab = lab_with_pool(L2_POOL).await?;
    lab.apply(&lb_service("fine", 80, "", ""))?;
    let fine = wait_ingress(&mut lab, "default", "fine", 1, SOON).await?.0;
    for (name, annotation, says) in [
        ("bad-ip", "ferrolb.io/loadBalancerIPs: 198.51.100.300", "198.51.100.300"),
        ("two-v4", "ferrolb.io/loadBalancerIPs: '198.51.100.210,198.51.100.211'", "IPv4"),
        ("no-pool", "ferrolb.io/address-pool: nowhere", "nowhere"),
    ] {
        lab.apply(&lb_service(name, 80, annotation, ""))?;
        let c = wait_service_condition(&mut lab, "default", name, "False", SOON).await?;
        assert!(c.message.contains(says), "{name}: {}", c.message);
    }
    assert_eq!(wait_ingress(&mut lab, "default", "fine", 1, SOON).await?.0, fine, "the valid Service was touched");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_written_by_hand_into_another_status_stays_with_its_owner() -> Result {
    let mut lab = lab_with_pool(L2_POOL).await?;
    lab.apply(&lb_service("owner", 80, "", ""))?;
    let owned = wait_ingress(&mut lab, "default", "owner", 1, SOON).await?.0;
    lab.apply(&lb_service("intruder", 81, "", ""))?;
    wait_ingress(&mut lab, "default", "intruder", 1, SOON).await?;
    let patch = format!(r#"{{"status":{{"loadBalancer":{{"ingress":[{{"ip":"{}"}}]}}}}}}"#, owned[0]);
    lab.kubectl(&["patch", "svc", "intruder", "--subresource=status", "--type=merge", "-p", &patch])?;
    let start = std::time::Instant::now();
    loop {
        let events = lab.kubectl(&["get", "events", "--field-selector", "involvedObject.name=intruder"])?;
        if events.contains("AddressNotKept") {
            assert!(events.contains("default/owner"), "the refusal names the owner: {events}");
            break;
        }
        assert!(start.elapsed() < SOON, "no AddressNotKept Event: {events}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let intruder = wait_ingress(&mut lab, "default", "intruder", 1, SOON).await?.0;
    assert_ne!(intruder, owned);
    assert_eq!(wait_ingress(&mut lab, "default", "owner", 1, SOON).await?.0, owned, "the owner keeps its address");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shrunk_pool_makes_only_the_services_outside_it_wait() -> Result {
    let pool = |last: u8| {
        format!(
            "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {{name: shrinking}}\nspec: {{addresses: [198.51.100.200-198.51.100.{last}]}}\n"
        )
    };
    let mut lab = lab_with_pool(&pool(202)).await?;
    let mut had = Vec::new();
    for (i, name) in ["s0", "s1", "s2"].iter().enumerate() {
        lab.apply(&lb_service(name, 80 + i as u16, "", ""))?;
        had.push(wait_ingress(&mut lab, "default", name, 1, SOON).await?.0);
    }
    lab.apply(&pool(201))?;
    let c = wait_service_condition(&mut lab, "default", "s2", "False", SOON).await?;
    assert!(c.message.contains("shrinking"), "{}", c.message);
    for (i, name) in ["s0", "s1"].iter().enumerate() {
        assert_eq!(wait_ingress(&mut lab, "default", name, 1, SOON).await?.0, had[i], "{name} moved");
    }
    lab.apply(&pool(205))?;
    assert_eq!(wait_ingress(&mut lab, "default", "s2", 1, SOON).await?.0, [ip("198.51.100.202")]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_controller_rides_out_an_apiserver_outage_and_catches_up() -> Result {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let mut lab = lab_with_pool(L2_POOL).await?;
    lab.apply(&lb_service("before", 80, "", ""))?;
    let before = wait_ingress(&mut lab, "default", "before", 1, SOON).await?.0;
    let apiserver = lab.record().daemons.iter().find(|d| d.name == "apiserver").cloned().ok_or("no apiserver")?;
    // The control plane freezes for eight seconds: every request and watch hangs, then fails.
    kill(Pid::from_raw(apiserver.pid), Signal::SIGSTOP)?;
    tokio::time::sleep(Duration::from_secs(8)).await;
    kill(Pid::from_raw(apiserver.pid), Signal::SIGCONT)?;
    lab.check_daemons()?;
    lab.apply(&lb_service("after", 81, "", ""))?;
    let (after, took) = wait_ingress(&mut lab, "default", "after", 1, Duration::from_secs(30)).await?;
    eprintln!("after the outage, a new Service got its address in {took:?}");
    assert_ne!(after, before);
    assert_eq!(wait_ingress(&mut lab, "default", "before", 1, SOON).await?.0, before);
    lab.check_daemons()?;
    Ok(())
}
