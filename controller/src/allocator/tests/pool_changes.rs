//! A new configuration: what must move is released, the rest stays put.

use super::*;

#[test]
fn an_address_still_in_its_pool_stays() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a").requested("203.0.113.2")).unwrap();
    let changed = a.set_pools(&pools([pool("a", &["203.0.113.0/29"])]));
    assert_eq!(changed, Reconfigured::default());
}

#[test]
fn an_address_that_left_every_pool_is_released() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    let changed = a.set_pools(&pools([pool("a", &["198.51.100.0/30"])]));
    assert_eq!(changed.released, [key("ns", "a")]);
}

#[test]
fn a_released_service_gets_a_new_address_when_applied_again() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    a.set_pools(&pools([pool("a", &["198.51.100.0/30"])]));
    assert_eq!(given(&mut a, &svc("ns", "a")), ["198.51.100.0"]);
}

#[test]
fn only_the_services_that_must_move_are_released() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    a.apply(&svc("ns", "b")).unwrap();
    let changed = a.set_pools(&pools([pool("a", &["203.0.113.1/32"])]));
    assert_eq!(changed.released, [key("ns", "a")]);
}

#[test]
fn a_service_that_stays_keeps_its_address() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    a.apply(&svc("ns", "b")).unwrap();
    a.set_pools(&pools([pool("a", &["203.0.113.1/32"])]));
    assert_eq!(held(&a, &key("ns", "b")), ["203.0.113.1"]);
}

#[test]
fn a_pool_that_now_selects_other_namespaces_releases_the_address() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    let changed = a.set_pools(&pools([pool("a", &["203.0.113.0/30"]).namespaces(&["other"])]));
    assert_eq!(changed.released, [key("ns", "a")]);
}

#[test]
fn a_pool_that_stops_assigning_automatically_keeps_its_addresses() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    let changed = a.set_pools(&pools([pool("a", &["203.0.113.0/30"]).manual()]));
    assert_eq!(changed.released, Vec::<ServiceKey>::new());
}

#[test]
fn a_pool_that_starts_avoiding_buggy_ips_releases_a_0_address() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    let changed = a.set_pools(&pools([pool("a", &["203.0.113.0/30"]).avoid_buggy()]));
    assert_eq!(changed.released, [key("ns", "a")]);
}

#[test]
fn a_renamed_pool_keeps_the_address_and_says_so() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    let changed = a.set_pools(&pools([pool("b", &["203.0.113.0/30"])]));
    assert_eq!(changed.repooled, [key("ns", "a")]);
}

#[test]
fn a_renamed_pool_is_named_in_the_assignment() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    a.set_pools(&pools([pool("b", &["203.0.113.0/30"])]));
    assert_eq!(a.addresses(&key("ns", "a"))[0].pool, pool_name("b"));
}

#[test]
fn a_renamed_pool_releases_services_that_name_the_old_one() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a").pool("a")).unwrap();
    let changed = a.set_pools(&pools([pool("b", &["203.0.113.0/30"])]));
    assert_eq!(changed.released, [key("ns", "a")]);
}

#[test]
fn counters_follow_the_new_pools() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("ns", "a")).unwrap();
    a.set_pools(&pools([pool("a", &["203.0.113.0/29"])]));
    assert_eq!(a.usage("a").unwrap().v4, Usage { assigned: 1, available: 7 });
}

#[test]
fn an_address_kept_after_a_change_is_not_given_again() {
    let mut a = alloc([pool("a", &["203.0.113.0/31"])]);
    a.apply(&svc("ns", "a")).unwrap();
    a.set_pools(&pools([pool("b", &["203.0.113.0/31"])]));
    assert_eq!(given(&mut a, &svc("ns", "b")), ["203.0.113.1"]);
}

#[test]
fn a_sharer_the_pool_no_longer_admits_is_released_alone() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"])]);
    a.apply(&svc("one", "a").sharing_key("k").tcp(80)).unwrap();
    a.apply(&svc("two", "b").sharing_key("k").tcp(443)).unwrap();
    a.set_pools(&pools([pool("a", &["203.0.113.0/30"]).namespaces(&["one"])]));
    assert_eq!(a.users(ip("203.0.113.0")), [key("one", "a")]);
}

#[test]
fn a_pool_with_an_invalid_name_is_left_out_and_reported() {
    let mut a = alloc([]);
    let changed = a.set_pools(&pools([pool("Not_Valid", &["203.0.113.0/30"])]));
    assert_eq!(changed.invalid_pool_names, ["Not_Valid"]);
}
