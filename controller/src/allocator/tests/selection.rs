//! Which pool and which address: requested, named, serviceAllocation, automatic; avoidBuggyIPs;
//! exhaustion.

use super::*;
use ferrolb_core::addresses::Family;

#[test]
fn the_first_service_gets_the_lowest_address() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    assert_eq!(given(&mut a, &svc("ns", "a")), ["203.0.113.0"]);
}

#[test]
fn the_next_service_gets_the_next_address() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b")), ["203.0.113.1"]);
}

#[test]
fn ranges_are_used_in_the_order_written() {
    let mut a = alloc([pool("a", &["203.0.113.9/32", "203.0.113.1/32"])]);
    assert_eq!(given(&mut a, &svc("ns", "a")), ["203.0.113.9"]);
}

#[test]
fn the_assignment_names_its_pool() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    let applied = a.apply(&svc("ns", "a")).unwrap();
    assert_eq!(applied.assigned, [Assignment { ip: ip("203.0.113.0"), pool: pool_name("a") }]);
}

#[test]
fn a_requested_address_is_given() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    assert_eq!(given(&mut a, &svc("ns", "a").requested("203.0.113.2")), ["203.0.113.2"]);
}

#[test]
fn a_requested_address_in_no_pool_is_refused() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    let err = refused(&mut a, &svc("ns", "a").requested("198.51.100.7"));
    assert_eq!(err, Refused::NotInAnyPool { address: ip("198.51.100.7") });
}

#[test]
fn a_requested_address_may_come_from_a_pool_that_does_not_assign_automatically() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]).manual()]);
    assert_eq!(given(&mut a, &svc("ns", "a").requested("203.0.113.1")), ["203.0.113.1"]);
}

#[test]
fn a_requested_address_in_a_pool_for_other_namespaces_is_refused() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]).namespaces(&["other"])]);
    let err = refused(&mut a, &svc("ns", "a").requested("203.0.113.1"));
    assert_eq!(err, Refused::NotAllowed { address: ip("203.0.113.1"), pool: pool_name("a") });
}

#[test]
fn a_requested_address_outside_the_named_pool_is_refused() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), pool("b", &["198.51.100.0/30"])]);
    let err = refused(&mut a, &svc("ns", "a").pool("b").requested("203.0.113.1"));
    assert_eq!(err, Refused::OutsideNamedPool { address: ip("203.0.113.1"), pool: pool_name("b") });
}

#[test]
fn a_named_pool_is_used_even_when_it_does_not_assign_automatically() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), pool("b", &["198.51.100.0/30"]).manual()]);
    assert_eq!(given(&mut a, &svc("ns", "a").pool("b")), ["198.51.100.0"]);
}

#[test]
fn a_named_pool_that_does_not_exist_is_refused() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    assert_eq!(refused(&mut a, &svc("ns", "a").pool("nope")), Refused::PoolNotFound { pool: pool_name("nope") });
}

#[test]
fn a_named_pool_for_other_namespaces_is_refused() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]).namespaces(&["other"])]);
    assert_eq!(refused(&mut a, &svc("ns", "a").pool("a")), Refused::PoolNotAllowed { pool: pool_name("a") });
}

#[test]
fn a_full_named_pool_is_exhausted() {
    let mut a = alloc([pool("a", &["203.0.113.7/32"]), pool("b", &["198.51.100.0/30"])]);
    a.apply(&svc("ns", "a").pool("a")).unwrap();
    let err = refused(&mut a, &svc("ns", "b").pool("a"));
    assert_eq!(err, Refused::PoolExhausted { pool: pool_name("a"), family: Family::V4 });
}

#[test]
fn a_named_pool_without_the_family_says_so() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    let err = refused(&mut a, &svc("ns", "a").pool("a").families(IpFamilies::Single(Family::V6)));
    assert_eq!(err, Refused::PoolLacksFamily { pool: pool_name("a"), family: Family::V6 });
}

#[test]
fn a_pool_selecting_the_namespace_comes_before_general_pools() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), pool("z", &["198.51.100.0/30"]).namespaces(&["ns"])]);
    assert_eq!(given(&mut a, &svc("ns", "a")), ["198.51.100.0"]);
}

#[test]
fn a_pool_selecting_the_namespace_by_labels_comes_first() {
    let z = pool("z", &["198.51.100.0/30"]).namespace_selector("team", "blue");
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), z]);
    assert_eq!(given(&mut a, &svc("ns", "a").namespace_label("team", "blue")), ["198.51.100.0"]);
}

#[test]
fn a_pool_selecting_the_service_by_labels_comes_first() {
    let z = pool("z", &["198.51.100.0/30"]).service_selector("tier", "gold");
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), z]);
    assert_eq!(given(&mut a, &svc("ns", "a").label("tier", "gold")), ["198.51.100.0"]);
}

#[test]
fn a_pool_needs_both_its_namespace_and_its_service_selector_to_match() {
    let z = pool("z", &["198.51.100.0/30"]).namespaces(&["ns"]).service_selector("tier", "gold");
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), z]);
    assert_eq!(given(&mut a, &svc("ns", "a").label("tier", "iron")), ["203.0.113.0"]);
}

#[test]
fn a_pool_selecting_other_namespaces_is_skipped() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), pool("b", &["198.51.100.0/30"]).namespaces(&["other"])]);
    assert_eq!(given(&mut a, &svc("ns", "a")), ["203.0.113.0"]);
}

#[test]
fn a_lower_priority_number_is_tried_first() {
    let one = pool("y", &["198.51.100.0/30"]).namespaces(&["ns"]).priority(1);
    let two = pool("x", &["192.0.2.0/30"]).namespaces(&["ns"]).priority(2);
    let mut a = alloc([one, two]);
    assert_eq!(given(&mut a, &svc("ns", "a")), ["198.51.100.0"]);
}

#[test]
fn a_pool_without_priority_comes_after_those_with_one() {
    let none = pool("a", &["198.51.100.0/30"]).namespaces(&["ns"]);
    let ten = pool("b", &["192.0.2.0/30"]).namespaces(&["ns"]).priority(10);
    let mut a = alloc([none, ten]);
    assert_eq!(given(&mut a, &svc("ns", "a")), ["192.0.2.0"]);
}

#[test]
fn equal_priorities_are_tried_by_pool_name() {
    let b = pool("b", &["198.51.100.0/30"]).namespaces(&["ns"]).priority(1);
    let a = pool("a", &["192.0.2.0/30"]).namespaces(&["ns"]).priority(1);
    let mut alloc = alloc([b, a]);
    assert_eq!(given(&mut alloc, &svc("ns", "a")), ["192.0.2.0"]);
}

#[test]
fn general_pools_are_tried_by_name() {
    let mut a = alloc([pool("b", &["198.51.100.0/30"]), pool("a", &["203.0.113.0/30"])]);
    assert_eq!(given(&mut a, &svc("ns", "a")), ["203.0.113.0"]);
}

#[test]
fn a_full_selecting_pool_falls_back_to_general_pools() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), pool("b", &["198.51.100.9/32"]).namespaces(&["ns"])]);
    a.apply(&svc("ns", "a")).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b")), ["203.0.113.0"]);
}

#[test]
fn a_pool_that_does_not_assign_automatically_is_never_chosen() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]).manual()]);
    assert_eq!(refused(&mut a, &svc("ns", "a")), Refused::NoPoolMatches { namespace: "ns".into() });
}

#[test]
fn a_selecting_pool_that_does_not_assign_automatically_is_never_chosen() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]).namespaces(&["ns"]).manual()]);
    assert_eq!(refused(&mut a, &svc("ns", "a")), Refused::NoPoolMatches { namespace: "ns".into() });
}

#[test]
fn the_only_pool_when_full_is_exhausted() {
    let mut a = alloc([pool("a", &["203.0.113.7/32"])]);
    a.apply(&svc("ns", "a")).unwrap();
    assert_eq!(refused(&mut a, &svc("ns", "b")), Refused::PoolExhausted { pool: pool_name("a"), family: Family::V4 });
}

#[test]
fn several_full_pools_are_named_in_the_order_tried() {
    let mut a = alloc([pool("b", &["203.0.113.7/32"]), pool("a", &["198.51.100.7/32"])]);
    a.apply(&svc("ns", "a")).unwrap();
    a.apply(&svc("ns", "b")).unwrap();
    let err = refused(&mut a, &svc("ns", "c"));
    assert_eq!(err, Refused::PoolsExhausted { family: Family::V4, pools: vec![pool_name("a"), pool_name("b")] });
}

#[test]
fn no_pool_of_the_family_makes_it_unavailable() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    let err = refused(&mut a, &svc("ns", "a").families(IpFamilies::Single(Family::V6)));
    assert_eq!(err, Refused::FamilyUnavailable { family: Family::V6 });
}

#[test]
fn avoid_buggy_ips_skips_the_0_address() {
    let mut a = alloc([pool("a", &["203.0.113.0/24"]).avoid_buggy()]);
    assert_eq!(given(&mut a, &svc("ns", "a")), ["203.0.113.1"]);
}

#[test]
fn avoid_buggy_ips_skips_255_and_0_across_a_boundary() {
    let mut a = alloc([pool("a", &["10.0.0.254-10.0.1.1"]).avoid_buggy()]);
    a.apply(&svc("ns", "a")).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b")), ["10.0.1.1"]);
}

#[test]
fn avoid_buggy_ips_refuses_a_requested_0_address() {
    let mut a = alloc([pool("a", &["203.0.113.0/24"]).avoid_buggy()]);
    let err = refused(&mut a, &svc("ns", "a").requested("203.0.113.255"));
    assert_eq!(err, Refused::AvoidedAddress { address: ip("203.0.113.255"), pool: pool_name("a") });
}

#[test]
fn malformed_annotations_are_refused() {
    let problem = AnnotationError::InvalidLoadBalancerIp { value: "x".into() };
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    let err = refused(&mut a, &svc("ns", "a").problem(problem.clone()));
    assert_eq!(err, Refused::InvalidRequest { problem });
}

#[test]
fn malformed_annotations_leave_the_current_address_alone() {
    let problem = AnnotationError::InvalidLoadBalancerIp { value: "x".into() };
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    a.apply(&svc("ns", "a").problem(problem)).unwrap_err();
    assert_eq!(held(&a, &key("ns", "a")), ["203.0.113.0"]);
}

#[test]
fn two_requested_addresses_of_one_family_are_refused() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    let err = refused(&mut a, &svc("ns", "a").requested("203.0.113.1").requested("203.0.113.2"));
    let want =
        Refused::TwoAddressesOneFamily { family: Family::V4, first: ip("203.0.113.1"), second: ip("203.0.113.2") };
    assert_eq!(err, want);
}

#[test]
fn a_requested_address_of_an_unwanted_family_is_refused() {
    let mut a = alloc([pool("a", &["203.0.113.0/30", "2001:db8::/126"])]);
    let err = refused(&mut a, &svc("ns", "a").requested("2001:db8::1"));
    assert_eq!(err, Refused::FamilyNotWanted { address: ip("2001:db8::1"), family: Family::V6 });
}

#[test]
fn refusals_read_as_sentences() {
    let err = Refused::PortOverlap { with: key("ns", "a"), port: Port::tcp(80) };
    assert_eq!(err.to_string(), "port TCP/80 is already used on this address by Service ns/a");
}
