//! Which AS number a BGP peer must have: what a `BGPPeer` configures and what the session's state
//! machine checks the peer's OPEN against.

/// How the peer's AS number is known, and so which AS the peer must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerAsn {
    /// This AS number.
    Fixed(u32),
    /// Whatever the peer says, if the session is iBGP (the peer's AS is ours).
    DynamicInternal,
    /// Whatever the peer says, if the session is eBGP (the peer's AS is not ours).
    DynamicExternal,
}
