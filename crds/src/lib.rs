//! FerroLB's API: the Rust types of the custom resources in group `ferrolb.io`.
//!
//! Filled by the API issue; see `README.md` in this crate and `ARCHITECTURE.md`.

/// The API group of every FerroLB custom resource.
pub const GROUP: &str = "ferrolb.io";
/// The served and stored version of the custom resources.
pub const VERSION: &str = "v1beta1";
