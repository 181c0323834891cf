//! FerroLB's configuration kinds as `migrate` needs to know them: which `spec` fields each one
//! has (in the order we write them), and why the MetalLB fields it lacks are left behind.

/// The apiVersion of every object `migrate` writes.
pub const API_VERSION: &str = "ferrolb.io/v1beta1";

/// The API group of MetalLB's custom resources.
pub const METALLB_GROUP: &str = "metallb.io";

/// The namespace MetalLB is installed in, and reads its configuration from, by default.
pub const METALLB_NAMESPACE: &str = "metallb-system";

/// One FerroLB configuration kind.
#[derive(Debug)]
pub struct KindSpec {
    /// The kind's name, the same in MetalLB and FerroLB.
    pub kind: &'static str,
    /// The `spec` fields FerroLB has, in the order `migrate` writes them.
    pub fields: &'static [&'static str],
    /// For fields holding an object (or a list of objects) whose own fields we check: the
    /// field and the names it may hold. Label selectors are not listed: they are Kubernetes'
    /// own type, carried as they are.
    pub nested: &'static [(&'static str, &'static [&'static str])],
}

/// IPAddressPool: the addresses Services get.
pub const IP_ADDRESS_POOL: KindSpec = KindSpec {
    kind: "IPAddressPool",
    fields: &["addresses", "autoAssign", "avoidBuggyIPs", "serviceAllocation"],
    nested: &[("serviceAllocation", &["priority", "namespaces", "namespaceSelectors", "serviceSelectors"])],
};

/// L2Advertisement: which pools are announced with ARP/NDP, from which nodes.
pub const L2_ADVERTISEMENT: KindSpec = KindSpec {
    kind: "L2Advertisement",
    fields: &[
        "ipAddressPools",
        "ipAddressPoolSelectors",
        "nodeSelectors",
        "interfaces",
        "serviceSelectors",
        "preferredNodeSelectors",
    ],
    nested: &[],
};

/// BGPAdvertisement: which pools are announced over BGP, how, to which peers.
pub const BGP_ADVERTISEMENT: KindSpec = KindSpec {
    kind: "BGPAdvertisement",
    fields: &[
        "aggregationLength",
        "aggregationLengthV6",
        "localPref",
        "communities",
        "ipAddressPools",
        "ipAddressPoolSelectors",
        "nodeSelectors",
        "peers",
        "serviceSelectors",
    ],
    nested: &[],
};

/// BGPPeer: a router the speakers open sessions to.
pub const BGP_PEER: KindSpec = KindSpec {
    kind: "BGPPeer",
    fields: &[
        "myASN",
        "peerASN",
        "localASN",
        "dynamicASN",
        "peerAddress",
        "interface",
        "sourceAddress",
        "peerPort",
        "holdTime",
        "keepaliveTime",
        "connectTime",
        "routerID",
        "nodeSelectors",
        "password",
        "passwordSecret",
        "bfdProfile",
        "ebgpMultiHop",
        "enableGracefulRestart",
        "vrf",
        "dualStackAddressFamily",
        "disableMP",
    ],
    nested: &[("passwordSecret", &["name", "namespace"])],
};

/// BFDProfile: timers of the BFD sessions run beside BGP sessions.
pub const BFD_PROFILE: KindSpec = KindSpec {
    kind: "BFDProfile",
    fields: &[
        "receiveInterval",
        "transmitInterval",
        "detectMultiplier",
        "echoInterval",
        "echoMode",
        "passiveMode",
        "minimumTtl",
    ],
    nested: &[],
};

/// Community: names for BGP community values, usable in BGPAdvertisements.
pub const COMMUNITY: KindSpec =
    KindSpec { kind: "Community", fields: &["communities"], nested: &[("communities", &["name", "value"])] };

/// Every FerroLB configuration kind.
pub const ALL: [&KindSpec; 6] =
    [&IP_ADDRESS_POOL, &L2_ADVERTISEMENT, &BGP_ADVERTISEMENT, &BGP_PEER, &BFD_PROFILE, &COMMUNITY];

/// The FerroLB kind named `kind`, if it is a configuration kind.
pub fn by_name(kind: &str) -> Option<&'static KindSpec> {
    ALL.into_iter().find(|spec| spec.kind == kind)
}

/// The order in which `spec` fields of `kind` are written; empty for other kinds.
pub fn spec_order(kind: &str) -> &'static [&'static str] {
    by_name(kind).map_or(&[], |spec| spec.fields)
}

/// Why the MetalLB field `field` of a `kind` object is not carried over to FerroLB.
pub fn why_dropped(kind: &str, field: &str) -> String {
    let specific = match (kind, field) {
        ("BGPAdvertisement", "asPathPrepend") => {
            Some("FerroLB does not prepend AS numbers yet (MetalLB does with its frr-k8s backend only)")
        }
        ("BGPPeer", "enableLimitedUnnumbered") => {
            Some("FerroLB has no limited unnumbered mode (BGP unnumbered over spec.interface is supported)")
        }
        _ => None,
    };
    specific.map_or_else(|| format!("FerroLB's {kind} has no such field"), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_found_by_name_and_nested_fields_are_fields() {
        for spec in ALL {
            assert_eq!(by_name(spec.kind).map(|s| s.kind), Some(spec.kind));
            for (field, _) in spec.nested {
                assert!(spec.fields.contains(field), "{}.{field}", spec.kind);
            }
        }
        assert!(by_name("AddressPool").is_none());
        assert!(spec_order("Deployment").is_empty());
    }

    #[test]
    fn dropped_fields_say_why() {
        assert!(why_dropped("BGPPeer", "enableLimitedUnnumbered").contains("BGP unnumbered"));
        assert_eq!(why_dropped("L2Advertisement", "foo"), "FerroLB's L2Advertisement has no such field");
    }
}
