//! When to try reaching a peer again: after 1, 2, 4, … seconds, at most
//! every five minutes. Keeping in touch with contacts, with the party's
//! own devices, and asking the cadre's relay for a reservation all wait
//! this way between attempts.

use std::time::{Duration, Instant};

/// The first wait after an attempt.
pub(crate) const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
pub(crate) const LONGEST_RETRY: Duration = Duration::from_secs(300);
/// After this many failed attempts at reaching a contact, every other
/// attempt also looks its card up in the DHT.
pub(crate) const DHT_AFTER_ATTEMPTS: u32 = 3;

/// The attempts at reaching one peer, and when the next one is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Retry {
    next: Instant,
    wait: Duration,
    attempts: u32,
}

impl Retry {
    /// No attempt made yet: the first is due at `now`.
    pub(crate) fn starting(now: Instant) -> Retry {
        Retry {
            next: now,
            wait: FIRST_RETRY,
            attempts: 0,
        }
    }

    /// Whether the next attempt is due at `now`.
    pub(crate) fn is_due(&self, now: Instant) -> bool {
        now >= self.next
    }

    /// When the next attempt is due.
    pub(crate) fn next_at(&self) -> Instant {
        self.next
    }

    /// Counts an attempt made at `now`: the next is due after the current
    /// wait, and the wait after it doubles, up to [`LONGEST_RETRY`].
    pub(crate) fn attempted(&mut self, now: Instant) {
        self.attempts = self.attempts.saturating_add(1);
        self.next = now + self.wait;
        self.wait = (self.wait * 2).min(LONGEST_RETRY);
    }

    /// Whether the attempt about to be made also looks the contact's card
    /// up in the DHT: the 4th, the 6th, the 8th, …
    pub(crate) fn looks_in_dht(&self) -> bool {
        let attempt = self.attempts.saturating_add(1);
        attempt > DHT_AFTER_ATTEMPTS && (attempt - DHT_AFTER_ATTEMPTS) % 2 == 1
    }

    /// Something new turned up (a newer card): wait as after a first
    /// attempt again.
    pub(crate) fn start_over(&mut self) {
        self.wait = FIRST_RETRY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The moments (seconds after the first) at which `retry` makes its
    /// next `count` attempts, each right when due, and whether each looks
    /// in the DHT.
    fn schedule(mut retry: Retry, start: Instant, count: usize) -> Vec<(u64, bool)> {
        let mut now = start;
        let mut attempts = Vec::new();
        for _ in 0..count {
            assert!(retry.is_due(now));
            let dht = retry.looks_in_dht();
            retry.attempted(now);
            attempts.push((now.duration_since(start).as_secs(), dht));
            assert!(!retry.is_due(now), "the next attempt waits");
            assert!(!retry.is_due(retry.next - Duration::from_millis(1)));
            now = retry.next;
        }
        attempts
    }

    #[test]
    fn attempts_back_off_doubling_up_to_five_minutes_and_look_in_the_dht_every_other_time_after_three() {
        let start = Instant::now();
        assert_eq!(
            schedule(Retry::starting(start), start, 12),
            [
                (0, false),
                (1, false),
                (3, false),
                (7, true),
                (15, false),
                (31, true),
                (63, false),
                (127, true),
                (255, false),
                (511, true),
                (811, false),
                (1111, true),
            ]
        );
    }

    #[test]
    fn a_newer_card_starts_the_waits_over() {
        let start = Instant::now();
        let mut retry = Retry::starting(start);
        for second in [0, 1, 3, 7] {
            retry.attempted(start + Duration::from_secs(second));
        }
        retry.start_over();
        let resumed = start + Duration::from_secs(15);
        retry.attempted(resumed);
        assert!(retry.is_due(resumed + FIRST_RETRY));
        assert!(!retry.is_due(resumed + FIRST_RETRY - Duration::from_millis(1)));
    }
}
