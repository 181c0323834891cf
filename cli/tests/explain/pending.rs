//! The Service has no address: the controller's reason, the facts behind it, what to change; or
//! the controller has not answered at all.

use std::collections::BTreeMap;

use ferrolb_cli::explain::{Topic, Verdict};

use super::fixtures::*;

#[test]
fn an_exhausted_pool_shows_its_counters_and_says_to_add_or_free_addresses() {
    let service = svc("default", "web").failed("IPAddressPool lab-bgp has no free IPv4 address");
    let pools = vec![
        pool("lab-bgp", &["203.0.113.0/30"]).ipv4(4, 0),
        pool("lab-l2", &["198.51.100.200/32"]).auto_assign(false),
    ];
    let e = run(&cluster(service, pools));

    assert_eq!(e.verdict, Verdict::Pending);
    assert_eq!(
        e.headline,
        "Service default/web has no address from FerroLB: IPAddressPool lab-bgp has no free IPv4 address."
    );
    assert_line(&e, Topic::Why, &["could not assign an address (AllocationFailed, since 2025-05-01T10:00:00Z)"]);
    assert_line(&e, Topic::Pools, &["Pool lab-bgp (203.0.113.0/30): IPv4: 4 assigned, 0 available."]);
    assert_no_line(&e, Topic::Pools, "lab-l2");
    assert_eq!(
        e.lines(Topic::NextSteps)[0],
        "Add IPv4 addresses to the spec.addresses of pool lab-bgp, or create another pool that serves this Service."
    );
    assert_line(&e, Topic::NextSteps, &["free addresses", "kubectl get services -A"]);
    assert!(e.lines(Topic::Announcement).is_empty(), "no address, nothing announced:\n{e}");
}

#[test]
fn exhaustion_of_every_automatic_pool_lists_them_when_the_message_names_none() {
    let service = svc("default", "web").failed("every pool that may serve this Service is out of IPv4 addresses");
    let pools = vec![pool("a", &["203.0.113.0/31"]).ipv4(2, 0), pool("b", &["203.0.113.2/31"]).ipv4(2, 0)];
    let e = run(&cluster(service, pools));

    assert_line(&e, Topic::Pools, &["Pool a (203.0.113.0/31): IPv4: 2 assigned, 0 available."]);
    assert_line(&e, Topic::Pools, &["Pool b (203.0.113.2/31)"]);
    assert_line(&e, Topic::NextSteps, &["Add IPv4 addresses to the spec.addresses of pools a and b"]);
}

#[test]
fn a_requested_address_outside_every_pool_lists_the_pools_ranges() {
    let service =
        svc("default", "web").annotation("ferrolb.io/loadBalancerIPs", "192.0.2.50").failed("192.0.2.50 is in no pool");
    let e = run(&cluster(service, lab_pools()));

    assert_line(&e, Topic::Pools, &["192.0.2.50, asked for in ferrolb.io/loadBalancerIPs, is in no IPAddressPool."]);
    assert_line(&e, Topic::Pools, &["Pool lab-bgp holds 203.0.113.0/24, 2001:db8:100::/120."]);
    assert_line(
        &e,
        Topic::Pools,
        &["Pool lab-l2 holds 198.51.100.200-198.51.100.250, 2001:db8:1::200-2001:db8:1::2ff."],
    );
    assert_line(&e, Topic::NextSteps, &["Ask for an address inside one of the pools", "or add 192.0.2.50 to a pool"]);
}

#[test]
fn the_deprecated_load_balancer_ip_field_is_named_as_the_source() {
    let service = svc("default", "web").load_balancer_ip("192.0.2.50").failed("192.0.2.50 is in no pool");
    let e = run(&cluster(service, lab_pools()));

    assert_line(&e, Topic::Pools, &["192.0.2.50, asked for in spec.loadBalancerIP, is in no IPAddressPool."]);
}

#[test]
fn a_named_pool_that_does_not_exist_lists_the_existing_ones() {
    let service =
        svc("default", "web").annotation("ferrolb.io/address-pool", "gold").failed("pool gold does not exist");
    let e = run(&cluster(service, lab_pools()));

    assert_line(&e, Topic::Pools, &["Pool gold, named by ferrolb.io/address-pool, does not exist."]);
    assert_line(&e, Topic::Pools, &["Existing pools: lab-bgp, lab-l2."]);
    assert_line(
        &e,
        Topic::NextSteps,
        &["Name an existing pool in ferrolb.io/address-pool, or create IPAddressPool gold."],
    );
}

#[test]
fn a_named_pool_that_is_not_accepted_shows_its_accepted_message() {
    let service = svc("default", "web")
        .annotation("metallb.io/address-pool", "lab-bgp")
        .failed("IPAddressPool lab-bgp is not accepted: spec.addresses[0]: \"203.0.113.0/33\" is not a valid address pool entry");
    let pools = vec![
        pool("lab-bgp", &["203.0.113.0/33"])
            .refused("InvalidAddresses", "spec.addresses[0]: \"203.0.113.0/33\" is not a valid address pool entry"),
    ];
    let e = run(&cluster(service, pools));

    assert_line(&e, Topic::Pools, &["Pool lab-bgp is not Accepted (InvalidAddresses): spec.addresses[0]"]);
    assert_line(
        &e,
        Topic::NextSteps,
        &["Fix IPAddressPool lab-bgp", "kubectl describe ipaddresspool lab-bgp", "metallb.io/address-pool"],
    );
}

#[test]
fn no_pool_for_the_namespace_shows_each_pools_restriction_and_the_ways_out() {
    let service = svc("team-a", "web").failed("no IPAddressPool allows Services of namespace team-a");
    let pools = vec![
        pool("team-b-pool", &["203.0.113.0/28"]).namespaces(&["team-b", "team-c"]),
        pool("prod-pool", &["203.0.113.16/28"]).namespace_selector("env", "prod"),
        pool("reserved", &["203.0.113.32/28"]).auto_assign(false),
    ];
    let mut observed = cluster(service, pools);
    observed.namespace_labels = Some(BTreeMap::from([("env".to_owned(), "dev".to_owned())]));
    let e = run(&observed);

    assert_eq!(
        e.headline,
        "Service team-a/web has no address from FerroLB: no IPAddressPool allows Services of namespace team-a."
    );
    assert_line(
        &e,
        Topic::Pools,
        &[
            "Pool team-b-pool does not serve it automatically",
            "admits only namespaces team-b, team-c, not namespace team-a",
        ],
    );
    assert_line(&e, Topic::Pools, &["Pool prod-pool does not serve it automatically", "namespaces labelled env=prod"]);
    assert_line(&e, Topic::Pools, &["Pool reserved does not serve it automatically: autoAssign is false"]);
    assert_line(
        &e,
        Topic::NextSteps,
        &["Add namespace team-a to the serviceAllocation.namespaces of pools prod-pool and team-b-pool"],
    );
    assert_line(&e, Topic::NextSteps, &["Or name pool reserved in the Service's ferrolb.io/address-pool annotation."]);
}

#[test]
fn a_namespace_selector_with_unknown_namespace_labels_says_it_cannot_tell() {
    let service = svc("team-a", "web").failed("no IPAddressPool allows Services of namespace team-a");
    let pools = vec![pool("prod-pool", &["203.0.113.16/28"]).namespace_selector("env", "prod")];
    let e = run(&cluster(service, pools));

    assert_line(&e, Topic::Pools, &["prod-pool", "whether namespace team-a matches is unknown"]);
}

#[test]
fn a_service_selector_that_does_not_match_is_explained() {
    let service = svc("default", "web").label("tier", "backend").failed("no pool assigns addresses automatically to this Service in namespace default: name a pool, or make a pool's serviceAllocation select it");
    let pools = vec![pool("front", &["203.0.113.0/28"]).service_selector("tier", "frontend")];
    let e = run(&cluster(service, pools));

    assert_line(&e, Topic::Pools, &["Pool front does not serve it automatically", "Services labelled tier=frontend"]);
    assert_line(&e, Topic::NextSteps, &["serviceAllocation", "pool front"]);
}

#[test]
fn a_requested_address_in_use_suggests_another_address_or_a_shared_key() {
    let service = svc("default", "web")
        .annotation("ferrolb.io/loadBalancerIPs", "203.0.113.9")
        .failed("203.0.113.9 is in use by default/other, which may not share it");
    let e = run(&cluster(service, lab_pools()));

    assert_line(
        &e,
        Topic::NextSteps,
        &["Ask for another address", "the same ferrolb.io/allow-shared-ip value", "ports must not overlap"],
    );
    assert_no_line(&e, Topic::Pools, "in no IPAddressPool");
}

#[test]
fn a_port_overlap_under_a_shared_key_explains_the_sharing_rules() {
    let service = svc("default", "web")
        .annotation("ferrolb.io/allow-shared-ip", "k")
        .failed("port TCP/80 is already used on this address by Service default/other");
    let e = run(&cluster(service, lab_pools()));

    assert_line(
        &e,
        Topic::NextSteps,
        &["Services share an address only with the same ferrolb.io/allow-shared-ip value"],
    );
}

#[test]
fn malformed_annotations_are_reported_as_found_by_cores_parse() {
    let service = svc("default", "web")
        .annotation("ferrolb.io/loadBalancerIPs", "203.0.113.5,203.0.113.6")
        .annotation("metallb.universe.tf/address-pool", "")
        .failed("the Service's annotations cannot be honoured: ferrolb.io/loadBalancerIPs lists two IPv4 addresses");
    let e = run(&cluster(service, lab_pools()));

    assert_line(
        &e,
        Topic::NextSteps,
        &["Correct the Service: ferrolb.io/loadBalancerIPs lists two IPv4 addresses, 203.0.113.5 and 203.0.113.6"],
    );
    assert_line(&e, Topic::Annotations, &["Cannot be honoured: ferrolb.io/loadBalancerIPs lists two IPv4 addresses"]);
    assert_line(&e, Topic::Annotations, &["Ignored: metallb.universe.tf/address-pool is empty and is ignored."]);
}

#[test]
fn a_family_no_pool_has_says_which_pools_have_it() {
    let service = svc("default", "web")
        .policy("RequireDualStack")
        .failed("no pool that may serve this Service has IPv6 addresses");
    let pools =
        vec![pool("v4", &["203.0.113.0/24"]), pool("v6-only-for-b", &["2001:db8:100::/120"]).namespaces(&["b"])];
    let e = run(&cluster(service, pools));

    assert_line(&e, Topic::Pools, &["Pools with IPv6 addresses: pool v6-only-for-b."]);
    assert_line(
        &e,
        Topic::NextSteps,
        &["Add IPv6 addresses to a pool that serves this Service", "spec.ipFamilyPolicy"],
    );
}

#[test]
fn an_unrecognised_reason_is_still_shown_with_the_pools_that_could_serve() {
    let service = svc("default", "web").condition("False", "SomethingNew", "the moon is in the wrong phase");
    let e = run(&cluster(service, lab_pools()));

    assert_eq!(e.verdict, Verdict::Pending);
    assert_eq!(e.headline, "Service default/web has no address from FerroLB: the moon is in the wrong phase.");
    assert_line(&e, Topic::Why, &["condition is False with reason SomethingNew (since 2025-05-01T10:00:00Z)"]);
    assert_line(&e, Topic::Pools, &["Pool lab-bgp (203.0.113.0/24, 2001:db8:100::/120) may serve it."]);
    assert_line(&e, Topic::NextSteps, &["kubectl describe service -n default web"]);
}

#[test]
fn no_condition_at_all_asks_whether_the_controller_runs() {
    let service = svc("default", "web");
    let pools = vec![pool("lab-bgp", &["203.0.113.0/24"]), pool("new", &["192.0.2.0/24"]).unreported()];
    let e = run(&cluster(service, pools));

    assert_eq!(e.verdict, Verdict::NotHandled);
    assert_eq!(
        e.headline,
        "Service default/web has not been handled by FerroLB: ferrolb-controller has written no condition on it."
    );
    assert_line(&e, Topic::Why, &["type LoadBalancer with no loadBalancerClass"]);
    assert_eq!(e.lines(Topic::NextSteps)[0].split(':').next(), Some("Check that ferrolb-controller is running"));
    assert_line(&e, Topic::NextSteps, &["kubectl get pods -n ferrolb-system"]);
    assert_line(&e, Topic::Pools, &["Pool lab-bgp (203.0.113.0/24) may serve it."]);
    assert_line(
        &e,
        Topic::Pools,
        &["Pool new does not serve it automatically: the controller has not validated it yet"],
    );
    assert_no_line(&e, Topic::Why, "No IPAddressPool has an Accepted condition");
}

#[test]
fn no_condition_and_no_accepted_pool_points_at_the_controller_not_running() {
    let pools = vec![pool("lab-bgp", &["203.0.113.0/24"]).unreported()];
    let e = run(&cluster(svc("default", "web"), pools));

    assert_eq!(e.verdict, Verdict::NotHandled);
    assert_line(&e, Topic::Why, &["No IPAddressPool has an Accepted condition either"]);
}

#[test]
fn no_condition_with_a_pool_that_excludes_the_namespace_says_so_before_the_controller_answers() {
    let service = svc("team-a", "web").annotation("ferrolb.io/loadBalancerIPs", "192.0.2.9");
    let e = run(&cluster(service, vec![pool("team-b", &["198.51.100.0/24"]).namespaces(&["team-b"])]));

    assert_eq!(e.verdict, Verdict::NotHandled);
    assert_line(&e, Topic::Pools, &["192.0.2.9, asked for in ferrolb.io/loadBalancerIPs, is in no IPAddressPool."]);
    assert_line(&e, Topic::NextSteps, &["Ask for an address inside one of the pools"]);
}

#[test]
fn no_condition_and_no_pool_says_to_create_one() {
    let service = svc("default", "web").class("ferrolb.io/lb").ingress(&["10.0.0.1"]);
    let e = run(&cluster(service, vec![]));

    assert_eq!(e.verdict, Verdict::NotHandled);
    assert_line(&e, Topic::Why, &["with the class ferrolb.io/lb"]);
    assert_line(&e, Topic::Why, &["lists 10.0.0.1 nonetheless"]);
    assert_line(&e, Topic::Pools, &["There is no IPAddressPool at all."]);
    assert_line(&e, Topic::NextSteps, &["Create an IPAddressPool"]);
}

#[test]
fn pools_that_cannot_be_read_are_said_not_checked() {
    let service =
        svc("default", "web").annotation("ferrolb.io/address-pool", "gold").failed("pool gold does not exist");
    let mut observed = cluster(service, vec![]);
    observed.pools = Err("FerroLB's CRDs are not installed".to_owned());
    let e = run(&observed);

    assert_line(&e, Topic::Pools, &["could not be read (FerroLB's CRDs are not installed)"]);
    assert_no_line(&e, Topic::Pools, "does not exist");

    let mut observed = cluster(svc("default", "web"), vec![]);
    observed.pools = Err("forbidden".to_owned());
    let e = run(&observed);
    assert_line(&e, Topic::NextSteps, &["kubectl get crd ipaddresspools.ferrolb.io"]);
}

#[test]
fn the_controllers_own_wording_of_an_address_in_use_gives_one_step_not_two() {
    let service = svc("default", "web").annotation("ferrolb.io/loadBalancerIPs", "203.0.113.9").failed(
        "203.0.113.9 is in use by Service default/other, and only Services with the same sharing key may share an \
         address",
    );
    let e = run(&cluster(service, lab_pools()));

    assert_eq!(e.lines(Topic::NextSteps).len(), 1, "{e}");
    assert_line(&e, Topic::NextSteps, &["Ask for another address", "ferrolb.io/allow-shared-ip"]);
}

#[test]
fn an_avoided_address_suggests_another_or_turning_avoid_buggy_ips_off() {
    let service = svc("default", "web")
        .annotation("ferrolb.io/loadBalancerIPs", "203.0.113.255")
        .failed("203.0.113.255 ends in .0 or .255, which pool lab-bgp avoids (avoidBuggyIPs)");
    let e = run(&cluster(service, lab_pools()));

    assert_line(&e, Topic::NextSteps, &["does not end in .0 or .255", "avoidBuggyIPs: false on pool lab-bgp"]);
}

#[test]
fn require_dual_stack_with_one_requested_family_says_to_list_both_or_relax_the_policy() {
    let service = svc("default", "web")
        .policy("RequireDualStack")
        .annotation("metallb.io/loadBalancerIPs", "203.0.113.5")
        .failed("the Service asks for specific addresses, but for no IPv6 address");
    let e = run(&cluster(service, lab_pools()));

    assert_line(
        &e,
        Topic::NextSteps,
        &["List one address of each family", "metallb.io/loadBalancerIPs", "(it is RequireDualStack)"],
    );
}

#[test]
fn the_controllers_wording_for_a_named_pool_that_excludes_the_namespace_is_checked_against_the_pool() {
    let service = svc("team-a", "web")
        .annotation("ferrolb.io/address-pool", "team-b")
        .failed("pool team-b does not serve this Service: its serviceAllocation selects other namespaces or Services");
    let e = run(&cluster(service, vec![pool("team-b", &["198.51.100.0/24"]).namespaces(&["team-b"])]));

    assert_line(
        &e,
        Topic::Pools,
        &["Pool team-b, named by ferrolb.io/address-pool, may not serve this Service", "not namespace team-a"],
    );
    assert_line(&e, Topic::NextSteps, &["Change the serviceAllocation of pool team-b", "or name another pool"]);
}
