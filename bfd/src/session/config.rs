//! A session's configured timers and role, and what makes them unusable.

use std::time::Duration;

use crate::packet::Micros;

/// What the operator configures for one session (RFC 5880 section 6.8.1's bfd.DesiredMinTxInterval,
/// bfd.RequiredMinRxInterval, bfd.DetectMult, and the Active or Passive role of section 6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionConfig {
    /// How often we want to send once Up. Until Up, at least one second is used (slow start).
    pub desired_min_tx: Duration,
    /// How often we can receive; zero asks the peer to send nothing.
    pub required_min_rx: Duration,
    /// How many intervals without a packet declare the peer down (the peer multiplies by ours).
    pub detect_mult: u8,
    /// Passive role: send nothing until the peer's first packet (RFC 5880 section 6.1).
    pub passive: bool,
}

impl Default for SessionConfig {
    /// 300 ms both ways, multiplier 3, active: about a second to detect a failure.
    fn default() -> Self {
        SessionConfig {
            desired_min_tx: Duration::from_millis(300),
            required_min_rx: Duration::from_millis(300),
            detect_mult: 3,
            passive: false,
        }
    }
}

impl SessionConfig {
    /// Whether the packet fields can carry this configuration: a non-zero multiplier, a transmit
    /// interval of 1 µs to `u32::MAX` µs, a receive interval of zero or 1 µs to `u32::MAX` µs.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.detect_mult == 0 {
            return Err(ConfigError::ZeroDetectMult);
        }
        let representable = |d: Duration| (1..=u128::from(u32::MAX)).contains(&d.as_micros());
        if !representable(self.desired_min_tx) {
            return Err(ConfigError::IntervalOutOfRange { field: "desired_min_tx", interval: self.desired_min_tx });
        }
        if !self.required_min_rx.is_zero() && !representable(self.required_min_rx) {
            return Err(ConfigError::IntervalOutOfRange { field: "required_min_rx", interval: self.required_min_rx });
        }
        Ok(())
    }

    /// The receive interval as the packet carries it.
    pub(crate) fn required_min_rx_micros(&self) -> Micros {
        Micros::from_duration(self.required_min_rx)
    }
}

/// A session that cannot be created or reconfigured as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A local discriminator must be non-zero (RFC 5880 section 6.8.1).
    #[error("the local discriminator is zero")]
    ZeroLocalDiscriminator,
    /// The detection time multiplier must be non-zero.
    #[error("the detection time multiplier is zero")]
    ZeroDetectMult,
    /// An interval the packet's 32-bit microsecond field cannot carry.
    #[error("{field} {interval:?} is outside 1 µs to about 71 minutes")]
    IntervalOutOfRange {
        /// The configuration field.
        field: &'static str,
        /// The configured value.
        interval: Duration,
    },
}
