//! The Service has its address: from which pool, why, the pool's state, sharing, aliases.

use ferrolb_cli::explain::{Topic, Verdict};

use super::fixtures::*;

#[test]
fn a_requested_address_names_its_pool_the_annotation_and_the_pools_state() {
    let service = svc("default", "web").annotation("ferrolb.io/loadBalancerIPs", "203.0.113.5").assigned(
        &["203.0.113.5"],
        "lab-bgp",
        "203.0.113.5 from IPAddressPool lab-bgp: requested by ferrolb.io/loadBalancerIPs",
    );
    let mut pools = lab_pools();
    pools[0] = pool("lab-bgp", &["203.0.113.0/24", "2001:db8:100::/120"]).ipv4(3, 253);
    let e = run(&cluster(service, pools));

    assert_eq!(e.verdict, Verdict::Assigned);
    assert_eq!(e.headline, "Service default/web has 203.0.113.5 from IPAddressPool lab-bgp.");
    assert_line(&e, Topic::Why, &["FerroLB says: 203.0.113.5 from IPAddressPool lab-bgp: requested by"]);
    assert_line(&e, Topic::Why, &["asks for 203.0.113.5 in ferrolb.io/loadBalancerIPs"]);
    assert_line(&e, Topic::Why, &["No sharing key (ferrolb.io/allow-shared-ip)"]);
    assert_line(&e, Topic::Pools, &["Pool lab-bgp is Accepted."]);
    assert_line(&e, Topic::Pools, &["203.0.113.0/24, 2001:db8:100::/120", "IPv4: 3 assigned, 253 available"]);
    assert_line(&e, Topic::Announcement, &["203.0.113.5", "cannot be worked out here"]);
    assert!(e.lines(Topic::NextSteps).is_empty(), "nothing to change:\n{e}");
    assert!(e.lines(Topic::Annotations).is_empty(), "no alias was used:\n{e}");
}

#[test]
fn a_pool_named_through_a_metallb_alias_says_which_key_was_read() {
    let service = svc("shop", "cart").annotation("metallb.universe.tf/address-pool", "lab-l2").assigned(
        &["198.51.100.200"],
        "lab-l2",
        "198.51.100.200 from IPAddressPool lab-l2: named by ferrolb.io/address-pool",
    );
    let e = run(&cluster(service, lab_pools()));

    assert_eq!(e.headline, "Service shop/cart has 198.51.100.200 from IPAddressPool lab-l2.");
    assert_line(&e, Topic::Why, &["names pool lab-l2 in metallb.universe.tf/address-pool"]);
    assert_line(&e, Topic::Annotations, &["metallb.universe.tf/address-pool is read as ferrolb.io/address-pool"]);
}

#[test]
fn a_pool_chosen_by_its_service_allocation_says_so_with_the_restriction() {
    let service = svc("team-a", "api").assigned(
        &["203.0.113.20"],
        "team-a-pool",
        "203.0.113.20 from IPAddressPool team-a-pool: serviceAllocation of the pool selects this Service",
    );
    let pools = vec![
        pool("team-a-pool", &["203.0.113.16/28"]).namespaces(&["team-a"]).priority(10),
        pool("lab-bgp", &["203.0.113.128/25"]),
    ];
    let e = run(&cluster(service, pools));

    assert_line(&e, Topic::Why, &["serviceAllocation of the pool selects this Service"]);
    assert_line(&e, Topic::Why, &["pool team-a-pool's serviceAllocation (namespaces team-a; priority 10) admits it"]);
    assert_line(&e, Topic::Pools, &["Pool team-a-pool's serviceAllocation: namespaces team-a; priority 10."]);
}

#[test]
fn an_address_from_the_first_auto_assign_pool_explains_the_order() {
    let service = svc("default", "web").assigned(
        &["198.51.100.200"],
        "lab-l2",
        "198.51.100.200 from IPAddressPool lab-l2: first autoAssign pool with a free address",
    );
    let e = run(&cluster(service, lab_pools()));

    assert_line(&e, Topic::Why, &["first autoAssign pool with a free address"]);
    assert_line(&e, Topic::Why, &["asks for no address and names no pool", "then the others by name"]);
}

#[test]
fn a_sharing_key_is_reported_with_the_key_read() {
    let service = svc("default", "dns-udp")
        .annotation("metallb.io/allow-shared-ip", "dns")
        .annotation("ferrolb.io/loadBalancerIPs", "203.0.113.53")
        .assigned(
            &["203.0.113.53"],
            "lab-bgp",
            "203.0.113.53 from IPAddressPool lab-bgp: requested by ferrolb.io/loadBalancerIPs",
        );
    let e = run(&cluster(service, lab_pools()));

    assert_line(&e, Topic::Why, &["Sharing key \"dns\" (metallb.io/allow-shared-ip)", "ports do not overlap"]);
    assert_line(&e, Topic::Annotations, &["metallb.io/allow-shared-ip is read as ferrolb.io/allow-shared-ip"]);
}

#[test]
fn two_families_from_two_pools_name_each_pool() {
    let service = svc("default", "web").policy("RequireDualStack").assigned(
        &["203.0.113.5", "2001:db8:1::200"],
        "lab-bgp,lab-l2",
        "203.0.113.5 from IPAddressPool lab-bgp, 2001:db8:1::200 from IPAddressPool lab-l2: first autoAssign pool \
         with a free address",
    );
    let e = run(&cluster(service, lab_pools()));

    assert_eq!(
        e.headline,
        "Service default/web has 203.0.113.5 from IPAddressPool lab-bgp and 2001:db8:1::200 from IPAddressPool lab-l2."
    );
    assert_line(&e, Topic::Pools, &["Pool lab-bgp is Accepted."]);
    assert_line(&e, Topic::Pools, &["Pool lab-l2 is Accepted."]);
}

#[test]
fn prefer_dual_stack_with_one_family_missing_says_why_and_what_to_change() {
    let service = svc("default", "web").policy("PreferDualStack").assigned(
        &["198.51.100.201"],
        "lab-l2",
        "198.51.100.201 from IPAddressPool lab-l2: first autoAssign pool with a free address; no IPv6 address: \
         no pool that may serve this Service has IPv6 addresses",
    );
    let pools = vec![pool("lab-l2", &["198.51.100.200-198.51.100.250"])];
    let e = run(&cluster(service, pools));

    assert_eq!(e.verdict, Verdict::Assigned);
    assert_eq!(e.headline, "Service default/web has 198.51.100.201 from IPAddressPool lab-l2.");
    assert_line(&e, Topic::Why, &["FerroLB says: 198.51.100.201 from IPAddressPool lab-l2: first autoAssign"]);
    assert_no_line(
        &e,
        Topic::Why,
        "FerroLB says: 198.51.100.201 from IPAddressPool lab-l2: first autoAssign pool with a free address; no IPv6",
    );
    assert_line(
        &e,
        Topic::Why,
        &["no IPv6 address, though its ipFamilyPolicy is PreferDualStack", "has IPv6 addresses"],
    );
    assert_line(&e, Topic::NextSteps, &["Add IPv6 addresses to a pool that serves this Service"]);
    assert_line(&e, Topic::Pools, &["No IPAddressPool has IPv6 addresses."]);
}

#[test]
fn a_pool_no_longer_accepted_is_shown_with_its_message() {
    let service = svc("default", "web").assigned(
        &["203.0.113.5"],
        "lab-bgp",
        "203.0.113.5 from IPAddressPool lab-bgp: first autoAssign pool with a free address",
    );
    let pools = vec![
        pool("lab-bgp", &["203.0.113.0/24"])
            .refused("InvalidAddresses", "spec.addresses[1]: 203.0.113.0/24 overlaps IPAddressPool other"),
    ];
    let e = run(&cluster(service, pools));

    assert_line(
        &e,
        Topic::Pools,
        &["Pool lab-bgp is not Accepted (InvalidAddresses): spec.addresses[1]: 203.0.113.0/24 overlaps"],
    );
}

#[test]
fn an_address_its_pool_no_longer_holds_is_pointed_out() {
    let service = svc("default", "web").assigned(
        &["203.0.113.5"],
        "lab-bgp",
        "203.0.113.5 from IPAddressPool lab-bgp: first autoAssign pool with a free address",
    );
    let shrunk = vec![pool("lab-bgp", &["203.0.113.128/25"])];
    let e = run(&cluster(service.clone(), shrunk));
    assert_line(&e, Topic::Why, &["203.0.113.5 is no longer in pool lab-bgp (203.0.113.128/25)"]);

    let e = run(&cluster(service, vec![pool("other", &["192.0.2.0/24"])]));
    assert_line(&e, Topic::Why, &["Pool lab-bgp no longer exists"]);
}

#[test]
fn a_condition_about_an_older_generation_says_the_latest_change_is_not_handled_yet() {
    let service = svc("default", "web")
        .assigned(
            &["203.0.113.5"],
            "lab-bgp",
            "203.0.113.5 from IPAddressPool lab-bgp: first autoAssign pool with a free address",
        )
        .generation(3);
    let e = run(&cluster(service, lab_pools()));

    assert_line(&e, Topic::Why, &["generation 1 of the Service, which is now at generation 3"]);
}

#[test]
fn another_class_answered_by_a_controller_started_with_it_is_served() {
    let service = svc("default", "web").class("example.com/internal").assigned(
        &["203.0.113.5"],
        "lab-bgp",
        "203.0.113.5 from IPAddressPool lab-bgp: first autoAssign pool with a free address",
    );
    let e = run(&cluster(service, lab_pools()));

    assert_eq!(e.verdict, Verdict::Assigned);
    assert_line(&e, Topic::Why, &["\"example.com/internal\"", "started with that class name"]);
}

#[test]
fn an_address_listed_twice_in_the_status_is_explained_once() {
    let service = svc("default", "web").assigned(
        &["203.0.113.5", "203.0.113.5"],
        "lab-bgp",
        "203.0.113.5 from IPAddressPool lab-bgp: first autoAssign pool with a free address",
    );
    let e = run(&cluster(service, lab_pools()));

    assert_eq!(e.verdict, Verdict::Assigned);
    assert_eq!(e.headline, "Service default/web has 203.0.113.5 from IPAddressPool lab-bgp.");
}
