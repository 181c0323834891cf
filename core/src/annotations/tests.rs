//! Table-driven tests of [`super::parse`]: every rule, valid and invalid.

use super::*;

const POOL: &str = "ferrolb.io/address-pool";
const POOL_IO: &str = "metallb.io/address-pool";
const POOL_TF: &str = "metallb.universe.tf/address-pool";
const IPS: &str = "ferrolb.io/loadBalancerIPs";
const IPS_IO: &str = "metallb.io/loadBalancerIPs";
const IPS_TF: &str = "metallb.universe.tf/loadBalancerIPs";
const SHARE: &str = "ferrolb.io/allow-shared-ip";
const SHARE_TF: &str = "metallb.universe.tf/allow-shared-ip";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn pool(name: &str) -> Option<PoolName> {
    Some(PoolName::new(name).unwrap())
}

fn alias(alias: &'static str, canonical: &'static str) -> AliasUse {
    AliasUse { alias, canonical }
}

fn conflict(used: &'static str, used_value: &str, ignored: &'static str, ignored_value: &str) -> AnnotationWarning {
    AnnotationWarning::AliasConflict {
        used,
        used_value: used_value.into(),
        ignored,
        ignored_value: ignored_value.into(),
    }
}

struct Case {
    name: &'static str,
    annotations: &'static [(&'static str, &'static str)],
    load_balancer_ip: Option<&'static str>,
    want: ServiceRequest,
}

fn run(cases: Vec<Case>) {
    for case in cases {
        let annotations = case.annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let got = parse(&annotations, case.load_balancer_ip);
        assert_eq!(got, case.want, "{}", case.name);
        assert_eq!(got.is_valid(), case.want.problems.is_empty(), "{}", case.name);
    }
}

#[test]
fn nothing_set_asks_for_nothing() {
    run(vec![
        Case { name: "no annotations", annotations: &[], load_balancer_ip: None, want: ServiceRequest::default() },
        Case {
            name: "unrelated annotations and empty spec.loadBalancerIP",
            annotations: &[("example.com/owner", "team-a")],
            load_balancer_ip: Some(""),
            want: ServiceRequest::default(),
        },
    ]);
}

#[test]
fn address_pool() {
    run(vec![
        Case {
            name: "ferrolb.io key",
            annotations: &[(POOL, "bgp-pool")],
            load_balancer_ip: None,
            want: ServiceRequest { pool: pool("bgp-pool"), ..Default::default() },
        },
        Case {
            name: "metallb.io alias",
            annotations: &[(POOL_IO, "bgp-pool")],
            load_balancer_ip: None,
            want: ServiceRequest { pool: pool("bgp-pool"), aliases: vec![alias(POOL_IO, POOL)], ..Default::default() },
        },
        Case {
            name: "metallb.universe.tf alias",
            annotations: &[(POOL_TF, "bgp-pool")],
            load_balancer_ip: None,
            want: ServiceRequest { pool: pool("bgp-pool"), aliases: vec![alias(POOL_TF, POOL)], ..Default::default() },
        },
        Case {
            name: "ferrolb.io and an alias agreeing: the alias is not read",
            annotations: &[(POOL, "bgp-pool"), (POOL_TF, "bgp-pool")],
            load_balancer_ip: None,
            want: ServiceRequest { pool: pool("bgp-pool"), ..Default::default() },
        },
        Case {
            name: "ferrolb.io wins over a disagreeing alias",
            annotations: &[(POOL, "bgp-pool"), (POOL_TF, "l2-pool")],
            load_balancer_ip: None,
            want: ServiceRequest {
                pool: pool("bgp-pool"),
                warnings: vec![conflict(POOL, "bgp-pool", POOL_TF, "l2-pool")],
                ..Default::default()
            },
        },
        Case {
            name: "metallb.io wins over metallb.universe.tf",
            annotations: &[(POOL_IO, "a"), (POOL_TF, "b")],
            load_balancer_ip: None,
            want: ServiceRequest {
                pool: pool("a"),
                aliases: vec![alias(POOL_IO, POOL)],
                warnings: vec![conflict(POOL_IO, "a", POOL_TF, "b")],
                ..Default::default()
            },
        },
        Case {
            name: "an empty ferrolb.io value counts as unset",
            annotations: &[(POOL, ""), (POOL_TF, "l2-pool")],
            load_balancer_ip: None,
            want: ServiceRequest {
                pool: pool("l2-pool"),
                aliases: vec![alias(POOL_TF, POOL)],
                warnings: vec![AnnotationWarning::EmptyValue { key: POOL }],
                ..Default::default()
            },
        },
        Case {
            name: "not a valid pool name",
            annotations: &[(POOL_TF, "Bad_Pool")],
            load_balancer_ip: None,
            want: ServiceRequest {
                aliases: vec![alias(POOL_TF, POOL)],
                problems: vec![AnnotationError::InvalidPoolName {
                    key: POOL_TF,
                    value: "Bad_Pool".into(),
                    problem: NameProblem::NotDnsSubdomain,
                }],
                ..Default::default()
            },
        },
    ]);
}

#[test]
fn load_balancer_ips() {
    run(vec![
        Case {
            name: "one address",
            annotations: &[(IPS, "203.0.113.5")],
            load_balancer_ip: None,
            want: ServiceRequest {
                requested: vec![ip("203.0.113.5")],
                requested_from: Some(RequestSource::Annotation(IPS)),
                ..Default::default()
            },
        },
        Case {
            name: "one per family, spaces tolerated",
            annotations: &[(IPS, " 2001:db8:100::5 ,203.0.113.5 ")],
            load_balancer_ip: None,
            want: ServiceRequest {
                requested: vec![ip("2001:db8:100::5"), ip("203.0.113.5")],
                requested_from: Some(RequestSource::Annotation(IPS)),
                ..Default::default()
            },
        },
        Case {
            name: "IPv4-mapped IPv6 reads as IPv4",
            annotations: &[(IPS_IO, "::ffff:203.0.113.5")],
            load_balancer_ip: None,
            want: ServiceRequest {
                requested: vec![ip("203.0.113.5")],
                requested_from: Some(RequestSource::Annotation(IPS_IO)),
                aliases: vec![alias(IPS_IO, IPS)],
                ..Default::default()
            },
        },
        Case {
            name: "alias spellings differing only in spaces agree",
            annotations: &[(IPS, "203.0.113.5,2001:db8:100::5"), (IPS_TF, "203.0.113.5, 2001:db8:100::5")],
            load_balancer_ip: None,
            want: ServiceRequest {
                requested: vec![ip("203.0.113.5"), ip("2001:db8:100::5")],
                requested_from: Some(RequestSource::Annotation(IPS)),
                ..Default::default()
            },
        },
        Case {
            name: "two of one family",
            annotations: &[(IPS, "203.0.113.5,203.0.113.6")],
            load_balancer_ip: None,
            want: ServiceRequest {
                requested_from: Some(RequestSource::Annotation(IPS)),
                problems: vec![AnnotationError::TwoOfOneFamily {
                    key: IPS,
                    family: Family::V4,
                    first: ip("203.0.113.5"),
                    second: ip("203.0.113.6"),
                }],
                ..Default::default()
            },
        },
        Case {
            name: "three addresses",
            annotations: &[(IPS, "203.0.113.5,2001:db8:100::5,203.0.113.6")],
            load_balancer_ip: None,
            want: ServiceRequest {
                requested_from: Some(RequestSource::Annotation(IPS)),
                problems: vec![AnnotationError::TooManyAddresses { key: IPS, count: 3 }],
                ..Default::default()
            },
        },
        Case {
            name: "entries that are not addresses, each reported",
            annotations: &[(IPS_TF, "203.0.113.5, nonsense,,203.0.113.0/24")],
            load_balancer_ip: None,
            want: ServiceRequest {
                requested_from: Some(RequestSource::Annotation(IPS_TF)),
                aliases: vec![alias(IPS_TF, IPS)],
                problems: vec![
                    AnnotationError::InvalidAddress { key: IPS_TF, entry: "nonsense".into() },
                    AnnotationError::InvalidAddress { key: IPS_TF, entry: "".into() },
                    AnnotationError::InvalidAddress { key: IPS_TF, entry: "203.0.113.0/24".into() },
                ],
                ..Default::default()
            },
        },
        Case {
            name: "whitespace only counts as unset",
            annotations: &[(IPS, "  ")],
            load_balancer_ip: None,
            want: ServiceRequest { warnings: vec![AnnotationWarning::EmptyValue { key: IPS }], ..Default::default() },
        },
    ]);
}

#[test]
fn spec_load_balancer_ip() {
    run(vec![
        Case {
            name: "used when no annotation asks",
            annotations: &[],
            load_balancer_ip: Some("2001:db8:100::7"),
            want: ServiceRequest {
                requested: vec![ip("2001:db8:100::7")],
                requested_from: Some(RequestSource::LoadBalancerIp),
                ..Default::default()
            },
        },
        Case {
            name: "not an address",
            annotations: &[],
            load_balancer_ip: Some("203.0.113.300"),
            want: ServiceRequest {
                requested_from: Some(RequestSource::LoadBalancerIp),
                problems: vec![AnnotationError::InvalidLoadBalancerIp { value: "203.0.113.300".into() }],
                ..Default::default()
            },
        },
        Case {
            name: "the annotation wins over a different spec.loadBalancerIP",
            annotations: &[(IPS, "203.0.113.5")],
            load_balancer_ip: Some("203.0.113.9"),
            want: ServiceRequest {
                requested: vec![ip("203.0.113.5")],
                requested_from: Some(RequestSource::Annotation(IPS)),
                warnings: vec![AnnotationWarning::LoadBalancerIpIgnored { value: "203.0.113.9".into(), key: IPS }],
                ..Default::default()
            },
        },
        Case {
            name: "spec.loadBalancerIP among the annotated addresses agrees",
            annotations: &[(IPS, "203.0.113.5,2001:db8:100::5")],
            load_balancer_ip: Some("203.0.113.5"),
            want: ServiceRequest {
                requested: vec![ip("203.0.113.5"), ip("2001:db8:100::5")],
                requested_from: Some(RequestSource::Annotation(IPS)),
                ..Default::default()
            },
        },
        Case {
            name: "an invalid annotation still wins, and the ignored field is reported",
            annotations: &[(IPS, "nonsense")],
            load_balancer_ip: Some("203.0.113.5"),
            want: ServiceRequest {
                requested_from: Some(RequestSource::Annotation(IPS)),
                warnings: vec![AnnotationWarning::LoadBalancerIpIgnored { value: "203.0.113.5".into(), key: IPS }],
                problems: vec![AnnotationError::InvalidAddress { key: IPS, entry: "nonsense".into() }],
                ..Default::default()
            },
        },
    ]);
}

#[test]
fn allow_shared_ip() {
    let key = |k: &str| Some(SharingKey::new(k).unwrap());
    run(vec![
        Case {
            name: "ferrolb.io key",
            annotations: &[(SHARE, "dns")],
            load_balancer_ip: None,
            want: ServiceRequest { sharing_key: key("dns"), ..Default::default() },
        },
        Case {
            name: "metallb.universe.tf alias",
            annotations: &[(SHARE_TF, "dns")],
            load_balancer_ip: None,
            want: ServiceRequest {
                sharing_key: key("dns"),
                aliases: vec![alias(SHARE_TF, SHARE)],
                ..Default::default()
            },
        },
        Case {
            name: "empty means no sharing",
            annotations: &[(SHARE, "")],
            load_balancer_ip: None,
            want: ServiceRequest { warnings: vec![AnnotationWarning::EmptyValue { key: SHARE }], ..Default::default() },
        },
        Case {
            name: "ferrolb.io wins over a disagreeing alias",
            annotations: &[(SHARE, "dns"), (SHARE_TF, "web")],
            load_balancer_ip: None,
            want: ServiceRequest {
                sharing_key: key("dns"),
                warnings: vec![conflict(SHARE, "dns", SHARE_TF, "web")],
                ..Default::default()
            },
        },
    ]);
}

#[test]
fn all_three_together() {
    run(vec![Case {
        name: "a MetalLB Service moved as is",
        annotations: &[(POOL_TF, "l2-pool"), (IPS_TF, "198.51.100.210"), (SHARE_TF, "web")],
        load_balancer_ip: None,
        want: ServiceRequest {
            pool: pool("l2-pool"),
            requested: vec![ip("198.51.100.210")],
            requested_from: Some(RequestSource::Annotation(IPS_TF)),
            sharing_key: Some(SharingKey::new("web").unwrap()),
            aliases: vec![alias(POOL_TF, POOL), alias(IPS_TF, IPS), alias(SHARE_TF, SHARE)],
            ..Default::default()
        },
    }]);
}

#[test]
fn findings_read_as_sentences() {
    assert_eq!(alias(POOL_TF, POOL).to_string(), "metallb.universe.tf/address-pool is read as ferrolb.io/address-pool");
    assert_eq!(
        conflict(POOL, "a", POOL_TF, "b").to_string(),
        "metallb.universe.tf/address-pool is \"b\" but ferrolb.io/address-pool is \"a\"; \
         ferrolb.io/address-pool wins"
    );
    let error = AnnotationError::TwoOfOneFamily {
        key: IPS,
        family: Family::V4,
        first: ip("203.0.113.5"),
        second: ip("203.0.113.6"),
    };
    assert_eq!(
        error.to_string(),
        "ferrolb.io/loadBalancerIPs lists two IPv4 addresses, 203.0.113.5 and 203.0.113.6, \
         but at most one per family may be asked for"
    );
}

#[test]
fn keys_and_newtypes() {
    assert_eq!(Annotation::AddressPool.key(), POOL);
    assert_eq!(Annotation::LoadBalancerIps.aliases(), [IPS_IO, IPS_TF]);
    assert_eq!(Annotation::ALL.map(Annotation::key), [POOL, IPS, SHARE]);
    assert_eq!(PoolName::new("default"), Ok(PoolName("default".into())));
    assert_eq!(PoolName::new(""), Err(NameProblem::Empty));
    assert_eq!(SharingKey::new(" "), Err(EmptySharingKey));
    assert_eq!(SharingKey::new("k").unwrap().as_str(), "k");
}
