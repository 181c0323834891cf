//! What ferrolb-controller writes on the objects it serves, as the two programs agreed. `explain`
//! reads only these; it does not link the controller.

// The class FerroLB serves by default (besides no class at all), the condition type the
// controller writes (True with reason [`ALLOCATED`], or False with reason
// [`ALLOCATION_FAILED`] and the precise reason as message) and the annotation naming the
// pool(s), defined once in ferrolb-core beside the Service reader.
pub use ferrolb_core::service::{
    ASSIGNED_CONDITION as ADDRESS_ASSIGNED, DEFAULT_CLASS as FERROLB_CLASS, POOL_ANNOTATION as ALLOCATED_FROM_POOL,
};

/// Reason of the True condition, and of the Normal Event, when addresses are assigned.
pub const ALLOCATED: &str = "IPAllocated";

/// Reason of the False condition, and of the Warning Event, when no address can be assigned.
pub const ALLOCATION_FAILED: &str = "AllocationFailed";

/// Reason of the Normal Event saying a MetalLB annotation was read as FerroLB's.
pub const ANNOTATION_ALIAS: &str = "AnnotationAlias";

/// The namespace the install manifests put FerroLB in.
pub const INSTALL_NAMESPACE: &str = "ferrolb-system";

/// The suffix the PreferDualStack message ends with when one family is missing:
/// `"; no IPv6 address: <reason>"`.
pub(crate) fn missing_family_marker(family: ferrolb_core::addresses::Family) -> String {
    format!("; no {family} address: ")
}
