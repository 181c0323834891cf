//! A Kubernetes Service as FerroLB reads it, in one place: whether FerroLB serves it and why
//! not, its key, what it asks for, what it holds, its families, ports and traffic policy.
//!
//! The controller's allocator input, the announcer's `ServiceView` and `ferrolb explain` are all
//! built from [`ServiceReader`], so the three cannot read one Service two ways. Start there;
//! [`ClassPolicy`] says which Services are FerroLB's, [`ServiceKey`] names one.

mod class;
mod families;
mod key;
mod ports;
mod reader;
mod traffic;

#[cfg(test)]
pub(crate) mod tests;

pub use class::{ClassPolicy, DEFAULT_CLASS, NotServed};
pub use families::IpFamilies;
pub use key::ServiceKey;
pub use ports::{Port, Protocol};
pub use reader::ServiceReader;
pub use traffic::TrafficPolicy;

/// The Service annotation in which the controller names the pool(s) the addresses come from,
/// comma-separated when the two families come from two pools (the speakers read it).
pub const POOL_ANNOTATION: &str = "ferrolb.io/ip-allocated-from-pool";

/// The Service condition type the controller writes: True when the Service has its addresses,
/// else False with the reason as message.
pub const ASSIGNED_CONDITION: &str = "ferrolb.io/AddressAssigned";
