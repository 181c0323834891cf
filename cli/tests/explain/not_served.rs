//! Services FerroLB leaves alone, and why.

use ferrolb_cli::explain::{Topic, Verdict};

use super::fixtures::*;

#[test]
fn a_cluster_ip_service_is_not_served_and_the_fix_is_its_type() {
    let e = run(&cluster(svc("default", "web").type_("ClusterIP"), lab_pools()));

    assert_eq!(e.verdict, Verdict::NotServed);
    assert_eq!(
        e.headline,
        "FerroLB does not serve Service default/web: it is of type ClusterIP, and FerroLB gives addresses only to \
         Services of type LoadBalancer."
    );
    assert_line(&e, Topic::NextSteps, &["set spec.type: LoadBalancer", "kubectl patch service -n default web"]);
    assert!(e.lines(Topic::Why).is_empty(), "no annotation to comment on:\n{e}");
    assert!(e.lines(Topic::Announcement).is_empty());
}

#[test]
fn a_service_with_no_type_counts_as_cluster_ip_and_its_ferrolb_annotations_wait() {
    let mut service = svc("default", "web").annotation("metallb.universe.tf/address-pool", "lab-bgp");
    service.0.spec.as_mut().expect("the builder sets a spec").type_ = None;
    let e = run(&cluster(service, lab_pools()));

    assert_eq!(e.verdict, Verdict::NotServed);
    assert!(e.headline.contains("it is of type ClusterIP"), "{e}");
    assert_line(&e, Topic::Why, &["take effect only on a Service of type LoadBalancer"]);
    assert_line(&e, Topic::Annotations, &["metallb.universe.tf/address-pool is read as ferrolb.io/address-pool"]);
}

#[test]
fn another_load_balancer_class_is_left_alone_naming_the_class() {
    let service = svc("default", "web").class("example.com/cloud-lb").ingress(&["10.1.2.3"]);
    let e = run(&cluster(service, lab_pools()));

    assert_eq!(e.verdict, Verdict::NotServed);
    assert_eq!(
        e.headline,
        "FerroLB leaves Service default/web alone: its spec.loadBalancerClass is \"example.com/cloud-lb\", and \
         FerroLB serves only Services with no class or with the class ferrolb.io/lb."
    );
    assert_line(&e, Topic::Why, &["lists 10.1.2.3, written by that implementation, not by FerroLB"]);
    assert_line(&e, Topic::Why, &["ferrolb-controller started with class \"example.com/cloud-lb\" would serve it"]);
    assert_line(&e, Topic::NextSteps, &["re-create the Service with no spec.loadBalancerClass or with ferrolb.io/lb"]);
}

#[test]
fn ferrolbs_own_class_is_served() {
    let service = svc("default", "web").class("ferrolb.io/lb").failed("IPAddressPool lab-bgp has no free IPv4 address");
    let e = run(&cluster(service, lab_pools()));

    assert_eq!(e.verdict, Verdict::Pending);
}
