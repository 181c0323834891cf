//! Sharing an address: same key, no common port, same selector under Local.

use super::*;

fn one_pool() -> Allocator {
    alloc([pool("a", &["203.0.113.0/30"])])
}

#[test]
fn the_style_guide_example_refuses_an_overlapping_port() {
    let mut alloc = one_pool();
    alloc.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    let err = alloc.apply(&svc("ns", "b").sharing_key("k").tcp(80).requested("203.0.113.0")).unwrap_err();
    assert_eq!(err, Refused::PortOverlap { with: key("ns", "a"), port: Port::tcp(80) });
}

#[test]
fn same_key_and_other_ports_share_a_requested_address() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b").sharing_key("k").tcp(443).requested("203.0.113.0")), ["203.0.113.0"]);
}

#[test]
fn same_key_without_a_request_joins_the_address_in_use() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b").sharing_key("k").tcp(443)), ["203.0.113.0"]);
}

#[test]
fn joining_skips_an_address_whose_ports_overlap() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b").sharing_key("k").tcp(80)), ["203.0.113.1"]);
}

#[test]
fn joining_across_namespaces_works_with_the_same_key() {
    let mut a = one_pool();
    a.apply(&svc("one", "a").sharing_key("k").tcp(80)).unwrap();
    assert_eq!(given(&mut a, &svc("two", "b").sharing_key("k").tcp(53)), ["203.0.113.0"]);
}

#[test]
fn the_same_port_number_over_another_protocol_does_not_overlap() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(53)).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b").sharing_key("k").udp(53)), ["203.0.113.0"]);
}

#[test]
fn the_lowest_common_port_is_named() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(443).tcp(80)).unwrap();
    let err = refused(&mut a, &svc("ns", "b").sharing_key("k").tcp(443).tcp(80).requested("203.0.113.0"));
    assert_eq!(err, Refused::PortOverlap { with: key("ns", "a"), port: Port::tcp(80) });
}

#[test]
fn another_key_is_refused() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    let err = refused(&mut a, &svc("ns", "b").sharing_key("j").tcp(443).requested("203.0.113.0"));
    assert_eq!(err, Refused::SharingKeyMismatch { with: key("ns", "a") });
}

#[test]
fn a_service_without_key_may_not_join() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    let err = refused(&mut a, &svc("ns", "b").tcp(443).requested("203.0.113.0"));
    assert_eq!(err, Refused::AddressInUse { address: ip("203.0.113.0"), by: key("ns", "a") });
}

#[test]
fn an_address_held_without_key_is_not_shared() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").tcp(80)).unwrap();
    let err = refused(&mut a, &svc("ns", "b").sharing_key("k").tcp(443).requested("203.0.113.0"));
    assert_eq!(err, Refused::AddressInUse { address: ip("203.0.113.0"), by: key("ns", "a") });
}

#[test]
fn a_different_key_never_joins_automatically() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b").sharing_key("j").tcp(443)), ["203.0.113.1"]);
}

#[test]
fn local_policy_with_another_selector_is_refused() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80).local().selector("app", "web")).unwrap();
    let b = svc("ns", "b").sharing_key("k").tcp(443).selector("app", "db").requested("203.0.113.0");
    assert_eq!(refused(&mut a, &b), Refused::SelectorMismatch { with: key("ns", "a") });
}

#[test]
fn local_policy_on_the_newcomer_also_needs_the_same_selector() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80).selector("app", "web")).unwrap();
    let b = svc("ns", "b").sharing_key("k").tcp(443).local().selector("app", "db").requested("203.0.113.0");
    assert_eq!(refused(&mut a, &b), Refused::SelectorMismatch { with: key("ns", "a") });
}

#[test]
fn local_policy_with_the_same_selector_shares() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80).local().selector("app", "web")).unwrap();
    let b = svc("ns", "b").sharing_key("k").tcp(443).local().selector("app", "web");
    assert_eq!(given(&mut a, &b), ["203.0.113.0"]);
}

#[test]
fn cluster_policy_shares_whatever_the_selectors() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80).selector("app", "web")).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b").sharing_key("k").tcp(443).selector("app", "db")), ["203.0.113.0"]);
}

#[test]
fn joining_skips_an_address_whose_selector_differs_under_local() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80).local().selector("app", "web")).unwrap();
    let b = svc("ns", "b").sharing_key("k").tcp(443).local().selector("app", "db");
    assert_eq!(given(&mut a, &b), ["203.0.113.1"]);
}

#[test]
fn the_first_refusing_user_in_key_order_is_named() {
    let mut a = one_pool();
    a.apply(&svc("ns", "b").sharing_key("k").tcp(80)).unwrap();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(81).requested("203.0.113.0")).unwrap();
    let err = refused(&mut a, &svc("ns", "c").sharing_key("k").tcp(80).tcp(81).requested("203.0.113.0"));
    assert_eq!(err, Refused::PortOverlap { with: key("ns", "a"), port: Port::tcp(81) });
}

#[test]
fn a_sole_user_may_change_its_key_and_keep_its_address() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").requested("203.0.113.2")).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "a").sharing_key("j")), ["203.0.113.2"]);
}

#[test]
fn a_sole_user_may_drop_its_key_and_keep_its_address() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").requested("203.0.113.2")).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "a").no_sharing_key()), ["203.0.113.2"]);
}

#[test]
fn after_a_change_of_key_the_old_key_may_not_join() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    a.apply(&svc("ns", "a").sharing_key("j").tcp(80)).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b").sharing_key("k").tcp(443)), ["203.0.113.1"]);
}

#[test]
fn a_user_that_changes_key_while_sharing_moves() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    a.apply(&svc("ns", "b").sharing_key("k").tcp(443)).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b").sharing_key("j").tcp(443)), ["203.0.113.1"]);
}

#[test]
fn the_user_left_behind_keeps_the_address() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    a.apply(&svc("ns", "b").sharing_key("k").tcp(443)).unwrap();
    a.apply(&svc("ns", "b").sharing_key("j").tcp(443)).unwrap();
    assert_eq!(a.users(ip("203.0.113.0")), [key("ns", "a")]);
}

#[test]
fn a_user_whose_ports_come_to_overlap_moves() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    a.apply(&svc("ns", "b").sharing_key("k").tcp(443)).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b").sharing_key("k").tcp(80)), ["203.0.113.1"]);
}

#[test]
fn a_shared_address_lists_its_users() {
    let mut a = one_pool();
    a.apply(&svc("ns", "b").sharing_key("k").tcp(80)).unwrap();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(443)).unwrap();
    assert_eq!(a.users(ip("203.0.113.0")), [key("ns", "a"), key("ns", "b")]);
}

#[test]
fn joining_prefers_the_address_in_the_earlier_pool() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), pool("b", &["198.51.100.0/30"])]);
    a.apply(&svc("ns", "x").sharing_key("k").tcp(80).pool("b")).unwrap();
    a.apply(&svc("ns", "y").sharing_key("k").tcp(80).pool("a")).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "z").sharing_key("k").tcp(443)), ["203.0.113.0"]);
}

#[test]
fn joining_stays_within_the_named_pool() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), pool("b", &["198.51.100.0/30"])]);
    a.apply(&svc("ns", "x").sharing_key("k").tcp(80)).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "y").sharing_key("k").tcp(443).pool("b")), ["198.51.100.0"]);
}
