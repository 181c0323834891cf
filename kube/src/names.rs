//! The names FerroLB's programs write under: their field manager (server-side apply), the
//! reportingController of their Events, and the controller's Lease. One constant per program,
//! so a patch and an Event from the same program always carry the same name. The label names
//! FerroLB sets on its status objects live beside their values in ferrolb-crds
//! (`NODE_LABEL`, `SERVICE_NAME_LABEL`, `SERVICE_NAMESPACE_LABEL`).

/// The controller's name.
pub const CONTROLLER: &str = "ferrolb-controller";
/// The speaker's name.
pub const SPEAKER: &str = "ferrolb-speaker";
/// The Secret (in FerroLB's namespace) holding the key of the speakers' member heartbeats;
/// the controller creates it when missing.
pub const MEMBER_SECRET: &str = "ferrolb-memberlist";
/// The data key of that Secret.
pub const MEMBER_KEY: &str = "secretkey";
