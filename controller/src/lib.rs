//! FerroLB's controller: assigns addresses from IPAddressPools to LoadBalancer Services.
//!
//! Filled by the controller issue. Until it ships a `ferrolb-controller` binary, the lab
//! reports that the controller is not built and runs without it.
