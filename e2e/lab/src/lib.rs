//! FerroLB's lab: a real Kubernetes control plane (kube-apiserver + etcd, see
//! `e2e/testcluster`) and a routed network of namespaces with a router (FRR or BIRD), nodes
//! and clients, built on this machine without Docker. The `ferrolb-lab` binary is the
//! user's door to it; [`Lab`] is the tests'.
//!
//! Start reading at [`plan`] (the topology as values), then [`lab`] (building and tearing down),
//! then [`realnodes`] (kubelet, containerd, kube-proxy and pods, for `--nodes-kind real`).

pub mod backends;
pub mod cluster;
pub mod cmd;
pub mod error;
pub mod gobgp;
pub mod lab;
pub mod layer2;
pub mod load;
pub mod metallb;
pub mod plan;
pub mod process;
pub mod realnodes;
pub mod router;
pub mod standin;
pub mod state;
pub mod teardown;

pub use backends::{Backend, Health};
pub use error::{Error, Result};
pub use lab::{Lab, LabOptions};
pub use plan::{LabName, Plan};
pub use realnodes::config::{NodesKind, ProxyMode};
pub use router::{Family, Route, RouterKind};
pub use state::{Lb, Mode};
pub use teardown::{DownReport, all_labs, down};
