//! The raw-socket module: the only code in the crate allowed `unsafe` (each block carries a
//! `// SAFETY:` comment). [`packet`]: AF_PACKET sockets and multicast membership for Layer2.
//! BGP's TCP MD5 signature option joins here.

#[allow(unsafe_code)]
pub mod packet;

pub use packet::*;
