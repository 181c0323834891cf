//! FerroLB's API: the Rust types of the custom resources in group `ferrolb.io`, version
//! `v1beta1`. Kinds and field names follow MetalLB's, so that MetalLB YAML converts by
//! changing its apiVersion. Every rule one object can check alone is a CEL rule in the schema,
//! enforced by the apiserver at `kubectl apply`; rules between objects live in `ferrolb-core`.

pub mod bfd;
pub mod bgp_advertisement;
pub mod bgp_peer;
pub mod community;
pub mod generate;
pub mod l2;
pub mod pool;
pub mod reference;
pub mod schema;
pub mod service_status;
pub mod status;

pub use bfd::{BFDProfile, BFDProfileSpec};
pub use bgp_advertisement::{BGPAdvertisement, BGPAdvertisementSpec};
pub use bgp_peer::{BGPPeer, BGPPeerSpec, DynamicAsn, SecretReference};
pub use community::{Community, CommunityAlias, CommunitySpec};
pub use l2::{L2Advertisement, L2AdvertisementSpec, PreferredNodeSelector};
pub use pool::{IPAddressPool, IPAddressPoolSpec, IPAddressPoolStatus, ServiceAllocation};
pub use service_status::{BGPStatus, InterfaceInfo, L2Status, ServiceBGPStatus, ServiceL2Status};
pub use service_status::{
    NODE_LABEL, SERVICE_NAME_LABEL, SERVICE_NAMESPACE_LABEL, SESSION_BFD_PART, SESSION_CONDITION, label_value,
    shortened,
};
pub use status::{ACCEPTED, ConfigStatus};

/// The API group of every FerroLB custom resource.
pub const GROUP: &str = "ferrolb.io";
/// The served and stored version of the custom resources.
pub const VERSION: &str = "v1beta1";
