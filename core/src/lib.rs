//! FerroLB's pure shared domain: addresses, one validated configuration, selectors.
//!
//! No I/O, no Kubernetes client, no async runtime may enter this crate. Filled by the API
//! and controller issues.
