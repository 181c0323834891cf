//! FerroLB's controller. Today it validates the configuration: it watches the configuration
//! objects, builds one Config with `ferrolb-core`, and tells each object, on its Accepted
//! condition and with Events, whether it is in use and if not why. Address assignment comes
//! with the controller issue.
//!
//! Pure decisions: `ferrolb_core::config_objects` (decoding), [`config_status`] (what to write). The kube
//! edge: [`config_watch`].

pub mod allocator;
pub mod config_status;
pub mod config_watch;
pub mod leader;
pub mod metrics;
pub mod service_watch;
pub mod services;
