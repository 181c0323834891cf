//! Applying again, deleting, restoring at start, and the counters.

use super::*;
use ferrolb_core::addresses::Family;

fn one_pool() -> Allocator {
    alloc([pool("a", &["203.0.113.0/30"])])
}

#[test]
fn applying_again_returns_the_same_address() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a")).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "a")), ["203.0.113.0"]);
}

#[test]
fn applying_again_after_others_keeps_the_address() {
    let mut a = one_pool();
    a.apply(&svc("ns", "b")).unwrap();
    a.apply(&svc("ns", "a")).unwrap();
    a.delete(&key("ns", "b"));
    assert_eq!(given(&mut a, &svc("ns", "a")), ["203.0.113.1"]);
}

#[test]
fn a_changed_request_moves_the_service() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a")).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "a").requested("203.0.113.3")), ["203.0.113.3"]);
}

#[test]
fn a_changed_request_frees_the_old_address() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a")).unwrap();
    a.apply(&svc("ns", "a").requested("203.0.113.3")).unwrap();
    assert_eq!(given(&mut a, &svc("ns", "b")), ["203.0.113.0"]);
}

#[test]
fn a_refused_service_holds_nothing() {
    let mut a = one_pool();
    a.apply(&svc("ns", "b").requested("203.0.113.1")).unwrap();
    a.apply(&svc("ns", "a")).unwrap();
    a.apply(&svc("ns", "a").requested("203.0.113.1")).unwrap_err();
    assert_eq!(held(&a, &key("ns", "a")), Vec::<String>::new());
}

#[test]
fn deleting_frees_the_address() {
    let mut a = alloc([pool("a", &["203.0.113.7/32"])]);
    a.apply(&svc("ns", "a")).unwrap();
    a.delete(&key("ns", "a"));
    assert_eq!(given(&mut a, &svc("ns", "b")), ["203.0.113.7"]);
}

#[test]
fn deleting_returns_what_was_held() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a")).unwrap();
    assert_eq!(a.delete(&key("ns", "a")), [Assignment { ip: ip("203.0.113.0"), pool: pool_name("a") }]);
}

#[test]
fn deleting_one_sharer_keeps_the_address_for_the_other() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    a.apply(&svc("ns", "b").sharing_key("k").tcp(443)).unwrap();
    a.delete(&key("ns", "a"));
    assert_eq!(given(&mut a, &svc("ns", "c")), ["203.0.113.1"]);
}

#[test]
fn deleting_the_last_sharer_frees_the_address() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    a.apply(&svc("ns", "b").sharing_key("k").tcp(443)).unwrap();
    a.delete(&key("ns", "a"));
    a.delete(&key("ns", "b"));
    assert_eq!(given(&mut a, &svc("ns", "c")), ["203.0.113.0"]);
}

#[test]
fn a_recreated_service_keeps_nothing_of_the_old_one() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").requested("203.0.113.2")).unwrap();
    a.delete(&key("ns", "a"));
    assert_eq!(given(&mut a, &svc("ns", "a")), ["203.0.113.0"]);
}

#[test]
fn deleting_an_unknown_service_changes_nothing() {
    let mut a = one_pool();
    assert_eq!(a.delete(&key("ns", "nobody")), []);
}

#[test]
fn restore_accepts_an_address_of_an_allowed_pool() {
    let mut a = one_pool();
    let answers = a.restore(&svc("ns", "a"), &[ip("203.0.113.2")]);
    assert_eq!(answers, [Ok(Assignment { ip: ip("203.0.113.2"), pool: pool_name("a") })]);
}

#[test]
fn a_restored_address_is_kept_by_the_next_apply() {
    let mut a = one_pool();
    a.restore(&svc("ns", "a"), &[ip("203.0.113.2")]);
    assert_eq!(given(&mut a, &svc("ns", "a")), ["203.0.113.2"]);
}

#[test]
fn a_restored_address_is_not_given_to_another() {
    let mut a = alloc([pool("a", &["203.0.113.0/31"])]);
    a.restore(&svc("ns", "a"), &[ip("203.0.113.0")]);
    assert_eq!(given(&mut a, &svc("ns", "b")), ["203.0.113.1"]);
}

#[test]
fn restore_accepts_an_address_of_a_pool_that_does_not_assign_automatically() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]).manual()]);
    assert!(a.restore(&svc("ns", "a"), &[ip("203.0.113.2")])[0].is_ok());
}

#[test]
fn restore_refuses_an_address_in_use_by_a_service_that_does_not_share() {
    let mut a = one_pool();
    a.restore(&svc("ns", "a"), &[ip("203.0.113.2")]);
    let answers = a.restore(&svc("ns", "b"), &[ip("203.0.113.2")]);
    assert_eq!(answers, [Err(Refused::AddressInUse { address: ip("203.0.113.2"), by: key("ns", "a") })]);
}

#[test]
fn restore_accepts_a_shared_address_of_compatible_services() {
    let mut a = one_pool();
    a.restore(&svc("ns", "a").sharing_key("k").tcp(80), &[ip("203.0.113.2")]);
    assert!(a.restore(&svc("ns", "b").sharing_key("k").tcp(443), &[ip("203.0.113.2")])[0].is_ok());
}

#[test]
fn restore_refuses_an_address_in_no_pool() {
    let mut a = one_pool();
    let answers = a.restore(&svc("ns", "a"), &[ip("192.0.2.1")]);
    assert_eq!(answers, [Err(Refused::NotInAnyPool { address: ip("192.0.2.1") })]);
}

#[test]
fn restore_refuses_an_address_of_a_pool_that_no_longer_admits_the_service() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]).namespaces(&["other"])]);
    let answers = a.restore(&svc("ns", "a"), &[ip("203.0.113.1")]);
    assert_eq!(answers, [Err(Refused::NotAllowed { address: ip("203.0.113.1"), pool: pool_name("a") })]);
}

#[test]
fn restore_refuses_an_address_the_service_no_longer_asks_for() {
    let mut a = one_pool();
    let answers = a.restore(&svc("ns", "a").requested("203.0.113.3"), &[ip("203.0.113.1")]);
    assert_eq!(answers, [Err(Refused::NotRequested { address: ip("203.0.113.1"), requested: ip("203.0.113.3") })]);
}

#[test]
fn restore_refuses_an_address_outside_the_named_pool() {
    let mut a = alloc([pool("a", &["203.0.113.0/30"]), pool("b", &["198.51.100.0/30"])]);
    let answers = a.restore(&svc("ns", "a").pool("b"), &[ip("203.0.113.1")]);
    assert_eq!(answers, [Err(Refused::OutsideNamedPool { address: ip("203.0.113.1"), pool: pool_name("b") })]);
}

#[test]
fn restore_refuses_a_second_address_of_one_family() {
    let mut a = one_pool();
    let answers = a.restore(&svc("ns", "a"), &[ip("203.0.113.1"), ip("203.0.113.2")]);
    let second =
        Refused::TwoAddressesOneFamily { family: Family::V4, first: ip("203.0.113.1"), second: ip("203.0.113.2") };
    assert_eq!(answers[1], Err(second));
}

#[test]
fn a_refused_restore_leaves_the_service_unknown() {
    let mut a = one_pool();
    a.restore(&svc("ns", "a"), &[ip("192.0.2.1")]);
    assert_eq!(a.services().count(), 0);
}

#[test]
fn reset_lets_the_first_claimant_keep_a_disputed_address() {
    let mut a = one_pool();
    a.apply(&svc("ns", "z")).unwrap();
    let refused = a.reset([(svc("ns", "b"), vec![ip("203.0.113.1")]), (svc("ns", "a"), vec![ip("203.0.113.1")])]);
    assert_eq!(
        refused,
        [(key("ns", "a"), ip("203.0.113.1"), Refused::AddressInUse { address: ip("203.0.113.1"), by: key("ns", "b") })]
    );
}

#[test]
fn reset_forgets_services_not_listed() {
    let mut a = one_pool();
    a.apply(&svc("ns", "z")).unwrap();
    a.reset([(svc("ns", "b"), vec![ip("203.0.113.1")])]);
    assert_eq!(a.services().cloned().collect::<Vec<_>>(), [key("ns", "b")]);
}

#[test]
fn counters_count_assigned_and_available_addresses() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a")).unwrap();
    assert_eq!(a.usage("a").unwrap().v4, Usage { assigned: 1, available: 3 });
}

#[test]
fn counters_count_a_shared_address_once() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a").sharing_key("k").tcp(80)).unwrap();
    a.apply(&svc("ns", "b").sharing_key("k").tcp(443)).unwrap();
    assert_eq!(a.usage("a").unwrap().v4, Usage { assigned: 1, available: 3 });
}

#[test]
fn counters_return_to_full_after_deletes() {
    let mut a = one_pool();
    a.apply(&svc("ns", "a")).unwrap();
    a.apply(&svc("ns", "b")).unwrap();
    a.delete(&key("ns", "a"));
    a.delete(&key("ns", "b"));
    assert_eq!(a.usage("a").unwrap().v4, Usage { assigned: 0, available: 4 });
}

#[test]
fn counters_leave_out_avoided_addresses() {
    let a = alloc([pool("a", &["203.0.113.0/24", "2001:db8::/120"]).avoid_buggy()]);
    let want = PoolUsage { v4: Usage { assigned: 0, available: 254 }, v6: Usage { assigned: 0, available: 256 } };
    assert_eq!(a.usage("a").unwrap(), want);
}

#[test]
fn counters_of_a_huge_ipv6_pool_are_capped() {
    let a = alloc([pool("a", &["2001:db8::/64"])]);
    assert_eq!(a.usage("a").unwrap().v6, Usage { assigned: 0, available: i64::MAX });
}

#[test]
fn counters_of_an_unknown_pool_are_none() {
    assert_eq!(one_pool().usage("nope"), None);
}

#[test]
fn a_whole_slash_20_is_handed_out_then_the_pool_is_exhausted() {
    let mut a = alloc([pool("a", &["10.20.0.0/20"])]);
    for i in 0..4096 {
        a.apply(&svc("ns", &format!("s{i}"))).unwrap();
    }
    assert_eq!(
        refused(&mut a, &svc("ns", "one-more")),
        Refused::PoolExhausted { pool: pool_name("a"), family: Family::V4 }
    );
}

#[test]
fn a_whole_slash_20_taken_back_is_free_again() {
    let mut a = alloc([pool("a", &["10.20.0.0/20"])]);
    for i in 0..4096 {
        a.apply(&svc("ns", &format!("s{i}"))).unwrap();
    }
    for i in 0..4096 {
        a.delete(&key("ns", &format!("s{i}")));
    }
    assert_eq!(a.usage("a").unwrap().v4, Usage { assigned: 0, available: 4096 });
}
