//! Why a received BFD Control packet was discarded: one enum for the codec, the TTL check, the
//! demultiplexer and the session, so the I/O layer counts every drop under one metric.

/// Why a received packet was discarded. Each variant has a stable label ([`DropReason::as_str`])
/// for a metric and a sentence (its `Display`) for a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
pub enum DropReason {
    /// The datagram is shorter than the 24 octets of a Control packet without authentication.
    #[error("the datagram is shorter than a BFD Control packet (24 octets)")]
    Short,
    /// The version field is not 1 (RFC 5880 section 6.8.6).
    #[error("the BFD version is not 1")]
    BadVersion,
    /// The length field is under the minimum (24 octets) or over the datagram's size.
    #[error("the length field is under 24 octets or over the datagram's size")]
    BadLength,
    /// The Detect Mult field is zero.
    #[error("the Detect Mult field is zero")]
    ZeroDetectMult,
    /// The Multipoint (M) bit is set.
    #[error("the Multipoint bit is set")]
    Multipoint,
    /// The My Discriminator field is zero.
    #[error("the My Discriminator field is zero")]
    ZeroMyDiscriminator,
    /// The Your Discriminator field is zero while the state is neither Down nor AdminDown.
    #[error("the Your Discriminator field is zero in state Init or Up")]
    ZeroYourDiscriminator,
    /// The Authentication Present (A) bit is set; FerroLB configures no authentication.
    #[error("the packet is authenticated and no authentication is configured")]
    AuthUnsupported,
    /// The TTL or hop limit is not the one the session's hop mode requires (RFC 5881 section 5,
    /// RFC 5883 section 5).
    #[error("the TTL or hop limit is not acceptable for the session")]
    Ttl,
    /// No session has the packet's Your Discriminator as its local discriminator.
    #[error("no session has the packet's Your Discriminator")]
    UnknownDiscriminator,
    /// Your Discriminator is zero and no session is configured for the sender and path.
    #[error("no session is configured for the sender and path")]
    UnknownPeer,
    /// Your Discriminator names a session configured for another sender or path.
    #[error("the packet's Your Discriminator names a session of another peer or path")]
    PeerMismatch,
    /// Your Discriminator is non-zero and is not the session's local discriminator.
    #[error("the packet's Your Discriminator is not the session's")]
    DiscriminatorMismatch,
    /// The session is administratively down: it discards every packet (RFC 5880 section 6.8.6).
    #[error("the session is administratively down")]
    AdminDown,
}

impl DropReason {
    /// Every variant, in declaration order: to pre-register a metric's label values.
    pub const ALL: [DropReason; 14] = [
        DropReason::Short,
        DropReason::BadVersion,
        DropReason::BadLength,
        DropReason::ZeroDetectMult,
        DropReason::Multipoint,
        DropReason::ZeroMyDiscriminator,
        DropReason::ZeroYourDiscriminator,
        DropReason::AuthUnsupported,
        DropReason::Ttl,
        DropReason::UnknownDiscriminator,
        DropReason::UnknownPeer,
        DropReason::PeerMismatch,
        DropReason::DiscriminatorMismatch,
        DropReason::AdminDown,
    ];

    /// A stable snake_case label for a metric; never changes once released.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Short => "short",
            DropReason::BadVersion => "bad_version",
            DropReason::BadLength => "bad_length",
            DropReason::ZeroDetectMult => "zero_detect_mult",
            DropReason::Multipoint => "multipoint",
            DropReason::ZeroMyDiscriminator => "zero_my_discriminator",
            DropReason::ZeroYourDiscriminator => "zero_your_discriminator",
            DropReason::AuthUnsupported => "auth_unsupported",
            DropReason::Ttl => "ttl",
            DropReason::UnknownDiscriminator => "unknown_discriminator",
            DropReason::UnknownPeer => "unknown_peer",
            DropReason::PeerMismatch => "peer_mismatch",
            DropReason::DiscriminatorMismatch => "discriminator_mismatch",
            DropReason::AdminDown => "admin_down",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn labels_are_unique_snake_case_and_all_is_complete() {
        let labels: HashSet<&str> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(labels.len(), DropReason::ALL.len());
        for label in labels {
            assert!(label.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{label}");
        }
        // The match is exhaustive: a new variant fails to compile here until it has a place in ALL.
        let position = |r: DropReason| match r {
            DropReason::Short => 0,
            DropReason::BadVersion => 1,
            DropReason::BadLength => 2,
            DropReason::ZeroDetectMult => 3,
            DropReason::Multipoint => 4,
            DropReason::ZeroMyDiscriminator => 5,
            DropReason::ZeroYourDiscriminator => 6,
            DropReason::AuthUnsupported => 7,
            DropReason::Ttl => 8,
            DropReason::UnknownDiscriminator => 9,
            DropReason::UnknownPeer => 10,
            DropReason::PeerMismatch => 11,
            DropReason::DiscriminatorMismatch => 12,
            DropReason::AdminDown => 13,
        };
        for (i, reason) in DropReason::ALL.into_iter().enumerate() {
            assert_eq!(position(reason), i, "{reason:?}");
        }
    }
}
