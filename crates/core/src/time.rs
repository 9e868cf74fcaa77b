//! Points in time, passed in by the caller: `core` never reads a clock.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch (UTC).
///
/// Protocol code receives the current time as a `Timestamp` argument rather
/// than asking the system, which keeps state machines deterministic under
/// simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// A timestamp `millis` milliseconds after the Unix epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Timestamp(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole milliseconds from `earlier` to `self`, or zero when `earlier`
    /// is not before `self` (clocks of different machines disagree; a
    /// negative span is never meaningful to callers).
    pub const fn millis_since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// This timestamp moved `millis` milliseconds later, saturating at the
    /// end of representable time.
    pub const fn plus_millis(self, millis: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_between_out_of_order_times_is_zero_not_negative() {
        let early = Timestamp::from_millis(1_000);
        let late = Timestamp::from_millis(4_500);
        assert_eq!(late.millis_since(early), 3_500);
        assert_eq!(early.millis_since(late), 0);
    }

    #[test]
    fn adding_past_the_end_of_time_saturates() {
        assert_eq!(
            Timestamp::from_millis(u64::MAX - 1).plus_millis(10),
            Timestamp::from_millis(u64::MAX)
        );
    }
}
