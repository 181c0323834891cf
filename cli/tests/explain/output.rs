//! What the user reads: the printed layout, and FerroLB's Events.

use ferrolb_cli::explain::{Topic, Verdict};

use super::fixtures::*;

#[test]
fn the_printed_answer_starts_with_the_headline_and_numbers_the_steps() {
    let service =
        svc("default", "web").annotation("ferrolb.io/address-pool", "gold").failed("pool gold does not exist");
    let e = run(&cluster(service, lab_pools()));
    let text = e.to_string();

    assert!(
        text.starts_with("Service default/web has no address from FerroLB: pool gold does not exist.\n\nWhy:\n  "),
        "{text}"
    );
    assert!(text.contains("\nWhat to change:\n  1. Name an existing pool in ferrolb.io/address-pool"), "{text}");
    let why = text.find("\nWhy:").expect("a Why section");
    let steps = text.find("\nWhat to change:").expect("a What to change section");
    let pools = text.find("\nPools:").expect("a Pools section");
    assert!(why < steps && steps < pools, "sections in order of importance:\n{text}");
    assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "{text:?}");
}

#[test]
fn the_announcement_section_is_separate_and_says_what_it_could_not_read() {
    let service = svc("default", "web").assigned(
        &["203.0.113.5"],
        "lab-bgp",
        "203.0.113.5 from IPAddressPool lab-bgp: first autoAssign pool with a free address",
    );
    let text = run(&cluster(service, lab_pools())).to_string();

    assert!(
        text.contains(
            "\nAnnouncement:\n  Layer2: no ServiceL2Status says a node announces 203.0.113.5; which node should \
             cannot be worked out here"
        ),
        "{text}"
    );
}

#[test]
fn ferrolbs_events_are_shown_newest_last_with_counts_and_others_left_out() {
    let service = svc("default", "web").failed("IPAddressPool lab-bgp has no free IPv4 address");
    let mut observed = cluster(service, lab_pools());
    let mut repeated = event(
        "web",
        "Warning",
        "AllocationFailed",
        "IPAddressPool lab-bgp has no free IPv4 address",
        "2025-05-01T10:05:00Z",
    );
    repeated.count = Some(4);
    let mut foreign = event("web", "Normal", "EnsuringLoadBalancer", "Ensuring load balancer", "2025-05-01T10:06:00Z");
    foreign.reporting_component = Some("service-controller".to_owned());
    observed.events = vec![
        repeated,
        event(
            "web",
            "Normal",
            "AnnotationAlias",
            "metallb.universe.tf/address-pool is read as ferrolb.io/address-pool",
            "2025-05-01T10:00:00Z",
        ),
        foreign,
    ];
    let e = run(&observed);

    assert_eq!(e.verdict, Verdict::Pending);
    assert_eq!(
        e.lines(Topic::Events),
        [
            "2025-05-01T10:00:00Z Normal AnnotationAlias: metallb.universe.tf/address-pool is read as ferrolb.io/address-pool",
            "2025-05-01T10:05:00Z Warning AllocationFailed (x4): IPAddressPool lab-bgp has no free IPv4 address",
        ]
    );
}

#[test]
fn only_the_last_five_events_are_shown() {
    let mut observed = cluster(svc("default", "web"), lab_pools());
    observed.events = (0..8)
        .map(|minute| {
            event(
                "web",
                "Warning",
                "AllocationFailed",
                &format!("try {minute}"),
                &format!("2025-05-01T10:0{minute}:00Z"),
            )
        })
        .rev()
        .collect();
    let e = run(&observed);

    let events = e.lines(Topic::Events);
    assert_eq!(events.len(), 5);
    assert!(events[0].ends_with("try 3") && events[4].ends_with("try 7"), "{events:?}");
}
