//! Which address families a Service wants, from `spec.ipFamilyPolicy` and `spec.ipFamilies`.

use crate::addresses::Family;

/// Which address families a Service wants, read from `spec.ipFamilyPolicy` and `spec.ipFamilies`
/// (the first of `ipFamilies` is the primary family).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpFamilies {
    /// One address of this family (SingleStack, or PreferDualStack with one family listed).
    Single(Family),
    /// Both families, the primary first, taking whichever can be had (PreferDualStack).
    PreferDual(Family),
    /// Both families, the primary first, or none at all (RequireDualStack).
    RequireDual(Family),
}

impl IpFamilies {
    /// The families of a Service whose `spec.ipFamilyPolicy` is `policy` and whose
    /// `spec.ipFamilies` starts with `primary` (IPv4 when unset); an unknown policy reads as
    /// SingleStack.
    pub fn from_spec(policy: Option<&str>, primary: Option<&str>) -> Self {
        let primary = if primary == Some("IPv6") { Family::V6 } else { Family::V4 };
        match policy {
            Some("PreferDualStack") => IpFamilies::PreferDual(primary),
            Some("RequireDualStack") => IpFamilies::RequireDual(primary),
            _ => IpFamilies::Single(primary),
        }
    }

    /// The families wanted, the primary first.
    pub fn wanted(self) -> Vec<Family> {
        match self {
            IpFamilies::Single(family) => vec![family],
            IpFamilies::PreferDual(primary) | IpFamilies::RequireDual(primary) => vec![primary, other(primary)],
        }
    }

    /// Whether an address of `family` is wanted.
    pub fn wants(self, family: Family) -> bool {
        match self {
            IpFamilies::Single(wanted) => wanted == family,
            IpFamilies::PreferDual(_) | IpFamilies::RequireDual(_) => true,
        }
    }
}

impl Default for IpFamilies {
    fn default() -> Self {
        IpFamilies::Single(Family::V4)
    }
}

/// The family that is not `family`.
fn other(family: Family) -> Family {
    match family {
        Family::V4 => Family::V6,
        Family::V6 => Family::V4,
    }
}
