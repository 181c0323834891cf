//! LoadBalancer Services: which ones FerroLB serves ([`spec`]), what each should get
//! ([`plan`], from the allocator, with every address already in a status restored first),
//! and what to write on it ([`status`]). All pure; `service_watch` is the kube edge.

pub mod plan;
pub mod spec;
pub mod status;
