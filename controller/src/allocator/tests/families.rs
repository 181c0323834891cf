//! SingleStack, PreferDualStack and RequireDualStack.

use super::*;
use ferrolb_core::addresses::Family::{V4, V6};

fn dual_pool() -> Allocator {
    alloc([pool("a", &["203.0.113.0/30", "2001:db8::/126"])])
}

#[test]
fn single_stack_ipv6_gets_an_ipv6_address() {
    let mut a = dual_pool();
    assert_eq!(given(&mut a, &svc("ns", "a").families(IpFamilies::Single(V6))), ["2001:db8::"]);
}

#[test]
fn require_dual_stack_gets_both_primary_first() {
    let mut a = dual_pool();
    assert_eq!(given(&mut a, &svc("ns", "a").families(IpFamilies::RequireDual(V6))), ["2001:db8::", "203.0.113.0"]);
}

#[test]
fn require_dual_stack_without_ipv6_is_refused() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    let err = refused(&mut a, &svc("ns", "a").families(IpFamilies::RequireDual(V4)));
    assert_eq!(err, Refused::FamilyUnavailable { family: V6 });
}

#[test]
fn require_dual_stack_takes_nothing_when_refused() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a").families(IpFamilies::RequireDual(V4))).unwrap_err();
    assert_eq!(a.usage("a").unwrap().v4.assigned, 0);
}

#[test]
fn require_dual_stack_gives_up_a_held_address_when_refused() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    a.apply(&svc("ns", "a").families(IpFamilies::RequireDual(V4))).unwrap_err();
    assert_eq!(held(&a, &key("ns", "a")), Vec::<String>::new());
}

#[test]
fn prefer_dual_stack_gets_both_when_it_can() {
    let mut a = dual_pool();
    assert_eq!(given(&mut a, &svc("ns", "a").families(IpFamilies::PreferDual(V4))), ["203.0.113.0", "2001:db8::"]);
}

#[test]
fn prefer_dual_stack_settles_for_one_family() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    assert_eq!(given(&mut a, &svc("ns", "a").families(IpFamilies::PreferDual(V4))), ["203.0.113.0"]);
}

#[test]
fn prefer_dual_stack_says_why_a_family_is_missing() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    let applied = a.apply(&svc("ns", "a").families(IpFamilies::PreferDual(V4))).unwrap();
    assert_eq!(applied.missing, [(V6, Refused::FamilyUnavailable { family: V6 })]);
}

#[test]
fn prefer_dual_stack_settles_for_the_secondary_family() {
    let mut a = alloc([pool("a", &["2001:db8::/126"])]);
    assert_eq!(given(&mut a, &svc("ns", "a").families(IpFamilies::PreferDual(V4))), ["2001:db8::"]);
}

#[test]
fn prefer_dual_stack_adds_the_missing_family_when_a_pool_has_it() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    let spec = svc("ns", "a").families(IpFamilies::PreferDual(V4));
    a.apply(&spec).unwrap();
    a.set_pools(&pools([pool("a", &["203.0.113.0/30", "2001:db8::/126"])]));
    assert_eq!(given(&mut a, &spec), ["203.0.113.0", "2001:db8::"]);
}

#[test]
fn both_families_come_from_the_first_pool_that_has_both() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), pool("b", &["198.51.100.0/30", "2001:db8::/126"])]);
    let err = given(&mut a, &svc("ns", "a").families(IpFamilies::RequireDual(V4)));
    assert_eq!(err, ["198.51.100.0", "2001:db8::"]);
}

#[test]
fn without_a_dual_pool_each_family_comes_from_its_first_pool() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), pool("b", &["2001:db8::/126"])]);
    assert_eq!(given(&mut a, &svc("ns", "a").families(IpFamilies::RequireDual(V4))), ["203.0.113.0", "2001:db8::"]);
}

#[test]
fn an_added_family_comes_from_the_pool_of_the_address_held() {
    let mut a = alloc([pool("a", &["2001:db8:a::/126"]), pool("b", &["198.51.100.0/30", "2001:db8:b::/126"])]);
    a.apply(&svc("ns", "a").pool("b")).unwrap();
    let spec = svc("ns", "a").families(IpFamilies::PreferDual(V4));
    assert_eq!(given(&mut a, &spec), ["198.51.100.0", "2001:db8:b::"]);
}

#[test]
fn requested_addresses_of_both_families_are_given() {
    let mut a = dual_pool();
    let spec = svc("ns", "a").families(IpFamilies::RequireDual(V4)).requested("2001:db8::2").requested("203.0.113.3");
    assert_eq!(given(&mut a, &spec), ["203.0.113.3", "2001:db8::2"]);
}

#[test]
fn require_dual_stack_with_one_requested_address_is_refused() {
    let mut a = dual_pool();
    let err = refused(&mut a, &svc("ns", "a").families(IpFamilies::RequireDual(V4)).requested("203.0.113.3"));
    assert_eq!(err, Refused::NoRequestedAddressOfFamily { family: V6 });
}

#[test]
fn going_dual_stack_keeps_the_address_held() {
    let mut a = dual_pool();
    a.apply(&svc("ns", "b")).unwrap();
    a.apply(&svc("ns", "a").requested("203.0.113.2")).unwrap();
    a.delete(&key("ns", "b"));
    assert_eq!(given(&mut a, &svc("ns", "a").families(IpFamilies::RequireDual(V4))), ["203.0.113.2", "2001:db8::"]);
}

#[test]
fn going_single_stack_releases_the_other_family() {
    let mut a = dual_pool();
    a.apply(&svc("ns", "a").families(IpFamilies::RequireDual(V4))).unwrap();
    a.apply(&svc("ns", "a").families(IpFamilies::Single(V4))).unwrap();
    assert_eq!(a.usage("a").unwrap().v6.assigned, 0);
}

#[test]
fn ipv6_counters_are_kept_apart() {
    let mut a = dual_pool();
    a.apply(&svc("ns", "a").families(IpFamilies::RequireDual(V4))).unwrap();
    assert_eq!(a.usage("a").unwrap().v6, Usage { assigned: 1, available: 3 });
}

#[test]
fn a_dual_stack_sharer_joins_on_both_families() {
    let mut a = dual_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80).families(IpFamilies::RequireDual(V4))).unwrap();
    let b = svc("ns", "b").sharing_key("k").tcp(443).families(IpFamilies::RequireDual(V4));
    assert_eq!(given(&mut a, &b), ["203.0.113.0", "2001:db8::"]);
}
