//! FerroLB's speaker: decides what this node announces, and announces it (Layer2, BGP).
//!
//! Filled by the Layer2 and BGP issues. Until it ships a `ferrolb-speaker` binary, the lab
//! reports that the speaker is not built and runs without it.
