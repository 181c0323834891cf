//! The raw-socket module: the only code in the crate allowed `unsafe` (each block carries a
//! `// SAFETY:` comment). [`packet`]: AF_PACKET sockets and multicast membership for Layer2.
//! [`tcp_md5`]: BGP's TCP MD5 signature option.

#[allow(unsafe_code)]
pub mod packet;
#[allow(unsafe_code)]
pub mod tcp_md5;

pub use packet::*;
