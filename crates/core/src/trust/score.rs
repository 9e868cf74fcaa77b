//! The score model: how a node's trust in a party moves, as pure functions.
//!
//! A score is a number in `[0, 1]`. Every party starts at
//! [`TrustConfig::start`]; what the node sees moves it ([`ScoreChange`]):
//! slowly up for valid behaviour, fast down for invalid messages, timeouts
//! and proven fraud. Between changes it decays back toward the start
//! ([`decay`]), so old behaviour counts less than new. That is the
//! **earned** score: what the node itself saw of the party.
//!
//! Signed attestations by parties whose trust was earned add a transitive
//! [`boost`] each, as a **standing** component ([`standing_boost`]): it is
//! summed anew from the attestations still alive whenever a score is read,
//! does not decay, and is gone the moment an attestation expires. The score
//! a party has is the earned score plus its standing boost
//! ([`attested_score`]). The [`reputation`] mixes that score with its trend
//! and with real statistics of the party's tallies.
//!
//! Nothing here reads a clock: time is always a parameter.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// Every parameter of the model, with the defaults the design names.
///
/// It reads from JSON with camelCase names (`{"decayRate": 0.1}`); a
/// parameter left out keeps its default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrustConfig {
    /// Where every party starts, and where decay leads back to.
    pub start: f64,
    /// Added for each valid message.
    pub valid_message: f64,
    /// Taken away for each invalid message (malformed, wrongly signed,
    /// against a protocol's rules).
    pub invalid_message: f64,
    /// Taken away for each request the peer let time out.
    pub timeout: f64,
    /// Taken away when verified evidence of fraud names the party: a
    /// sharp drop, from the start to nothing with the defaults.
    pub evidence_penalty: f64,
    /// The share of the distance to the start that decay removes per
    /// [`TrustConfig::decay_interval_ms`], in `[0, 1]`.
    pub decay_rate: f64,
    /// The interval of [`TrustConfig::decay_rate`], in milliseconds.
    pub decay_interval_ms: u64,
    /// The factor of the transitive boost: recommended score ×
    /// recommender's score × this.
    pub attestation_weight: f64,
    /// The least earned score a party must have for its attestations to
    /// count (contacts count whatever their score). Above the start: a
    /// party nobody has seen, or one only attested by others, never
    /// recommends.
    pub recommender_threshold: f64,
    /// How far back the trend looks, in milliseconds.
    pub trend_window_ms: u64,
    /// Weight of the current score in the reputation.
    pub reputation_score_weight: f64,
    /// Weight of the trend in the reputation.
    pub reputation_trend_weight: f64,
    /// Weight of the real statistics in the reputation.
    pub reputation_statistics_weight: f64,
    /// Gossip that reaches the node through a peer scored below this is
    /// not forwarded.
    pub relay_threshold: f64,
    /// A peer whose score falls below this is disconnected, and its new
    /// connections are closed while it stays there.
    pub disconnect_below: f64,
    /// Below this score a party's tokens are not accepted offline at all;
    /// from here to 1 the offline acceptance cap grows linearly.
    pub offline_floor: f64,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            start: 0.5,
            valid_message: 0.001,
            invalid_message: 0.1,
            timeout: 0.05,
            evidence_penalty: 0.5,
            decay_rate: 0.05,
            decay_interval_ms: 60 * 60 * 1000,
            attestation_weight: 0.1,
            recommender_threshold: 0.6,
            trend_window_ms: 7 * 24 * 60 * 60 * 1000,
            reputation_score_weight: 0.6,
            reputation_trend_weight: 0.2,
            reputation_statistics_weight: 0.2,
            relay_threshold: 0.2,
            disconnect_below: 0.1,
            offline_floor: 0.3,
        }
    }
}

impl TrustConfig {
    /// Checks that every parameter makes sense: scores, rates, weights and
    /// thresholds are numbers in `[0, 1]`, the decay interval and the trend
    /// window are not zero, and the recommender threshold lies above the
    /// start. The error says which parameter is wrong, in words.
    pub fn validate(&self) -> Result<(), String> {
        let unit = [
            ("start", self.start),
            ("validMessage", self.valid_message),
            ("invalidMessage", self.invalid_message),
            ("timeout", self.timeout),
            ("evidencePenalty", self.evidence_penalty),
            ("decayRate", self.decay_rate),
            ("attestationWeight", self.attestation_weight),
            ("recommenderThreshold", self.recommender_threshold),
            ("reputationScoreWeight", self.reputation_score_weight),
            ("reputationTrendWeight", self.reputation_trend_weight),
            ("reputationStatisticsWeight", self.reputation_statistics_weight),
            ("relayThreshold", self.relay_threshold),
            ("disconnectBelow", self.disconnect_below),
            ("offlineFloor", self.offline_floor),
        ];
        if let Some((name, value)) = unit.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
            return Err(format!(
                "The trust parameter {name} must be a number from 0 to 1, not {value}."
            ));
        }
        if self.decay_interval_ms == 0 {
            return Err("The trust parameter decayIntervalMs must not be zero.".to_owned());
        }
        if self.trend_window_ms == 0 {
            return Err("The trust parameter trendWindowMs must not be zero.".to_owned());
        }
        if self.recommender_threshold <= self.start {
            return Err(format!(
                "The trust parameter recommenderThreshold ({}) must lie above start ({}): otherwise a party \
                 nobody has dealt with could vouch for others.",
                self.recommender_threshold, self.start
            ));
        }
        Ok(())
    }
}

/// Something the node saw that moves a party's earned score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ScoreChange {
    /// `count` valid messages.
    Valid {
        /// How many.
        count: u32,
    },
    /// `count` invalid messages.
    Invalid {
        /// How many.
        count: u32,
    },
    /// `count` requests that timed out.
    Timeout {
        /// How many.
        count: u32,
    },
    /// Verified evidence of fraud.
    Evidence,
}

impl ScoreChange {
    /// How much the change moves a score before clamping.
    pub fn delta(&self, config: &TrustConfig) -> f64 {
        match *self {
            ScoreChange::Valid { count } => config.valid_message * f64::from(count),
            ScoreChange::Invalid { count } => -config.invalid_message * f64::from(count),
            ScoreChange::Timeout { count } => -config.timeout * f64::from(count),
            ScoreChange::Evidence => -config.evidence_penalty,
        }
    }
}

/// `value` held in `[0, 1]`; not-a-number reads as 0.
pub fn clamp(value: f64) -> f64 {
    if value.is_nan() { 0.0 } else { value.clamp(0.0, 1.0) }
}

/// The score after `change`: the delta added, the result held in `[0, 1]`.
pub fn apply(score: f64, change: ScoreChange, config: &TrustConfig) -> f64 {
    clamp(clamp(score) + change.delta(config))
}

/// The score `elapsed_ms` later with nothing else happening: its distance
/// to the start shrinks by the decay rate per interval,
/// `start + (score − start) · (1 − rate)^(elapsed / interval)`.
///
/// Decay composes: decaying over `a` then over `b` is decaying over
/// `a + b`, so a node may apply it whenever it reads or changes a score.
pub fn decay(score: f64, elapsed_ms: u64, config: &TrustConfig) -> f64 {
    decay_toward(score, config.start, elapsed_ms, config)
}

/// [`decay`], but toward `target` rather than the start: a party that
/// verified evidence names decays toward 0, so time alone never makes a
/// proven cheat trusted again.
pub fn decay_toward(score: f64, target: f64, elapsed_ms: u64, config: &TrustConfig) -> f64 {
    let (score, target) = (clamp(score), clamp(target));
    if config.decay_interval_ms == 0 || elapsed_ms == 0 {
        return score;
    }
    let keep = 1.0 - clamp(config.decay_rate);
    // Precision: whole intervals of u64 milliseconds fit f64 well enough
    // for a factor that only ever shrinks.
    #[allow(clippy::cast_precision_loss)]
    let intervals = elapsed_ms as f64 / config.decay_interval_ms as f64;
    clamp(target + (score - target) * keep.powf(intervals))
}

/// A score and the moment it was last brought up to date.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreState {
    /// The score at `at`.
    pub value: f64,
    /// When it was last decayed or changed.
    pub at: Timestamp,
}

impl ScoreState {
    /// A party never seen before, at `at`.
    pub fn fresh(at: Timestamp, config: &TrustConfig) -> ScoreState {
        ScoreState {
            value: clamp(config.start),
            at,
        }
    }

    /// The state decayed up to `now` toward `target` (an earlier `now`
    /// changes nothing).
    pub fn at(self, now: Timestamp, target: f64, config: &TrustConfig) -> ScoreState {
        if now <= self.at {
            return self;
        }
        ScoreState {
            value: decay_toward(self.value, target, now.millis_since(self.at), config),
            at: now,
        }
    }

    /// The state after `change` at `now`, decayed toward `target` first.
    pub fn changed(self, change: ScoreChange, now: Timestamp, target: f64, config: &TrustConfig) -> ScoreState {
        let current = self.at(now, target, config);
        ScoreState {
            value: apply(current.value, change, config),
            at: current.at,
        }
    }
}

/// The transitive boost an attestation gives its subject:
/// recommended score × recommender's score × [`TrustConfig::attestation_weight`].
pub fn boost(recommended: f64, recommender: f64, config: &TrustConfig) -> f64 {
    clamp(recommended) * clamp(recommender) * clamp(config.attestation_weight)
}

/// Whether a party's attestations count, and with what weight: a
/// contact's always do, at its earned score; anyone else's only when this
/// node has direct experience of it (`experienced`: messages, timeouts or
/// evidence, not merely attestations by others) and its earned score
/// reaches [`TrustConfig::recommender_threshold`] — which must lie above
/// the start, so trust that was never earned never recommends (checked
/// here too, whatever the config says). `None`: its attestations count for
/// nothing.
pub fn recommender_weight(earned: f64, experienced: bool, is_contact: bool, config: &TrustConfig) -> Option<f64> {
    let earned = clamp(earned);
    let earned_enough = experienced && earned >= config.recommender_threshold && earned > clamp(config.start);
    (is_contact || earned_enough).then_some(earned)
}

/// One attestation about a subject, as the node weighs it now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vouch {
    /// The attestation's score, in `[0, 1]`.
    pub recommended: f64,
    /// The attester's weight ([`recommender_weight`]; 1 for this node's
    /// own party), or `None` when its attestations do not count.
    pub recommender: Option<f64>,
    /// When the attestation stops counting.
    pub expires_at: Timestamp,
}

impl Vouch {
    /// The boost this attestation gives at `now`: [`boost`] while it lives
    /// and its attester counts, nothing at or after its expiry.
    pub fn boost_at(&self, now: Timestamp, config: &TrustConfig) -> f64 {
        match self.recommender {
            Some(recommender) if now < self.expires_at => boost(self.recommended, recommender, config),
            _ => 0.0,
        }
    }
}

/// The standing component of a score at `now`: the sum of the boosts of
/// the attestations still alive. It does not decay; an attestation's part
/// is withdrawn the moment it expires.
pub fn standing_boost(vouches: &[Vouch], now: Timestamp, config: &TrustConfig) -> f64 {
    vouches.iter().map(|vouch| vouch.boost_at(now, config)).sum()
}

/// The score a party has: its earned score plus its standing boost, held
/// in `[0, 1]`.
pub fn attested_score(earned: f64, standing: f64) -> f64 {
    let standing = if standing.is_finite() { standing.max(0.0) } else { 0.0 };
    clamp(clamp(earned) + standing)
}

/// The trend in `[0, 1]`: 0.5 when the score is where it was a trend
/// window ago, above when it rose, below when it fell
/// (`0.5 + (now − then) / 2`).
pub fn trend(now: f64, then: f64) -> f64 {
    clamp(0.5 + (clamp(now) - clamp(then)) / 2.0)
}

/// What a party did on its tallies with this node's party: commitments
/// kept (payments certified within the limits, invoices paid) and broken
/// (invoices declined). Later: lifts completed and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statistics {
    /// Commitments kept.
    pub kept: u64,
    /// Commitments broken.
    pub broken: u64,
}

/// The statistics as a number in `[0, 1]`:
/// `(kept + 1) / (kept + broken + 2)`, so a party with no record reads 0.5
/// and each kept or broken commitment moves it less than the one before.
pub fn statistics(stats: Statistics) -> f64 {
    // Counts above 2^53 lose precision, far beyond any tally's life.
    #[allow(clippy::cast_precision_loss)]
    let (kept, broken) = (stats.kept as f64, stats.broken as f64);
    clamp((kept + 1.0) / (kept + broken + 2.0))
}

/// The reputation: `0.6 × score + 0.2 × trend + 0.2 × statistics` with
/// the default weights (each weight from the config; together they should
/// sum to 1, and the result is held in `[0, 1]` regardless).
pub fn reputation(score: f64, trend: f64, statistics: f64, config: &TrustConfig) -> f64 {
    clamp(
        config.reputation_score_weight * clamp(score)
            + config.reputation_trend_weight * clamp(trend)
            + config.reputation_statistics_weight * clamp(statistics),
    )
}

/// How a score reads in words: what a badge names, so that colour is never
/// the only sign. Each level is where the node starts to treat the party
/// differently (see [`TrustConfig::level`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum TrustLevel {
    /// Convicted by evidence, or below [`TrustConfig::disconnect_below`]:
    /// the node will not stay connected to it.
    None,
    /// Below [`TrustConfig::offline_floor`] (or the relay threshold, when
    /// that is higher): none of its tokens are taken offline.
    Low,
    /// Where every party starts, give or take less than [`GOOD_MARGIN`]
    /// above it: no better than a stranger.
    Neutral,
    /// At least [`GOOD_MARGIN`] above the start: earned, or vouched for.
    Good,
    /// At or above [`TrustConfig::recommender_threshold`]: trusted enough
    /// that its own attestations count.
    High,
}

/// How far above the start a score must be to read as [`TrustLevel::Good`]:
/// one point of the 100 a person sees, so a score shown as the start's
/// never reads better than it.
pub const GOOD_MARGIN: f64 = 0.01;

impl TrustConfig {
    /// The level `score` reads as; a `convicted` party is always
    /// [`TrustLevel::None`].
    pub fn level(&self, score: f64, convicted: bool) -> TrustLevel {
        let score = clamp(score);
        if convicted || score < self.disconnect_below {
            TrustLevel::None
        } else if score < self.offline_floor.max(self.relay_threshold) {
            TrustLevel::Low
        } else if score >= self.recommender_threshold {
            TrustLevel::High
        } else if score >= self.start + GOOD_MARGIN {
            TrustLevel::Good
        } else {
            TrustLevel::Neutral
        }
    }
}

/// How a lift route ranks, for the lift protocol: the product of the
/// scores of the parties along it (every hop must hold its promise), so
/// one weak hop pulls the whole route down. An empty route ranks 1.
pub fn route_score(hops: &[f64]) -> f64 {
    hops.iter().fold(1.0, |product, hop| product * clamp(*hop))
}

/// The most units of a party's tokens to accept offline, for the token
/// exchange: nothing below [`TrustConfig::offline_floor`], rising linearly
/// to `full_cap` at a score of 1.
pub fn offline_acceptance_cap(score: f64, full_cap: u64, config: &TrustConfig) -> u64 {
    let floor = clamp(config.offline_floor);
    if floor >= 1.0 {
        return 0;
    }
    let share = clamp((clamp(score) - floor) / (1.0 - floor));
    // The share is in [0, 1], so the product is in [0, full_cap].
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let cap = (full_cap as f64 * share).floor() as u64;
    cap.min(full_cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOUR: u64 = 60 * 60 * 1000;

    fn any_change() -> impl Strategy<Value = ScoreChange> {
        prop_oneof![
            (0u32..10_000).prop_map(|count| ScoreChange::Valid { count }),
            (0u32..100).prop_map(|count| ScoreChange::Invalid { count }),
            (0u32..100).prop_map(|count| ScoreChange::Timeout { count }),
            Just(ScoreChange::Evidence),
        ]
    }

    fn is_rise(change: ScoreChange) -> bool {
        matches!(change, ScoreChange::Valid { .. })
    }

    fn vouch(recommended: f64, recommender: Option<f64>, expires_ms: u64) -> Vouch {
        Vouch {
            recommended,
            recommender,
            expires_at: Timestamp::from_millis(expires_ms),
        }
    }

    fn any_vouch() -> impl Strategy<Value = Vouch> {
        (0.0f64..=1.0, proptest::option::of(0.0f64..=1.0), 0u64..(1000 * HOUR))
            .prop_map(|(recommended, recommender, expires)| vouch(recommended, recommender, expires))
    }

    #[test]
    fn the_defaults_are_the_ones_the_design_names() {
        let c = TrustConfig::default();
        assert_eq!(c.start, 0.5);
        assert_eq!(ScoreChange::Valid { count: 1 }.delta(&c), 0.001);
        assert_eq!(ScoreChange::Invalid { count: 1 }.delta(&c), -0.1);
        assert_eq!(ScoreChange::Timeout { count: 1 }.delta(&c), -0.05);
        assert_eq!(c.attestation_weight, 0.1);
        assert_eq!(
            (
                c.reputation_score_weight,
                c.reputation_trend_weight,
                c.reputation_statistics_weight
            ),
            (0.6, 0.2, 0.2)
        );
    }

    #[test]
    fn each_level_begins_where_the_node_starts_treating_a_party_differently() {
        let c = TrustConfig::default();
        let read = |score: f64| c.level(score, false);
        assert_eq!(read(0.0), TrustLevel::None);
        assert_eq!(
            read(c.disconnect_below - 1e-9),
            TrustLevel::None,
            "the node disconnects below here"
        );
        assert_eq!(read(c.disconnect_below), TrustLevel::Low);
        assert_eq!(
            read(c.offline_floor - 1e-9),
            TrustLevel::Low,
            "no token is taken offline below here"
        );
        assert_eq!(read(c.offline_floor), TrustLevel::Neutral);
        assert_eq!(read(c.start), TrustLevel::Neutral, "a stranger reads neutral");
        assert_eq!(read(c.start + GOOD_MARGIN / 2.0), TrustLevel::Neutral);
        assert_eq!(read(c.start + GOOD_MARGIN), TrustLevel::Good);
        assert_eq!(read(c.recommender_threshold - 1e-9), TrustLevel::Good);
        assert_eq!(
            read(c.recommender_threshold),
            TrustLevel::High,
            "its own word counts from here"
        );
        assert_eq!(read(1.0), TrustLevel::High);
        assert_eq!(
            c.level(1.0, true),
            TrustLevel::None,
            "a convicted party is untrusted whatever its score"
        );
    }

    proptest! {
        #[test]
        fn a_higher_score_never_reads_a_lower_level(a in 0.0f64..=1.0, b in 0.0f64..=1.0) {
            let c = TrustConfig::default();
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(c.level(low, false) <= c.level(high, false));
        }
    }

    #[test]
    fn one_invalid_message_undoes_a_hundred_valid_ones() {
        let c = TrustConfig::default();
        let up = apply(0.5, ScoreChange::Valid { count: 100 }, &c);
        assert!((up - 0.6).abs() < 1e-12, "{up}");
        let down = apply(up, ScoreChange::Invalid { count: 1 }, &c);
        assert!((down - 0.5).abs() < 1e-12, "{down}");
    }

    #[test]
    fn a_boost_is_recommended_times_recommender_times_a_tenth() {
        let c = TrustConfig::default();
        assert!((boost(0.9, 0.8, &c) - 0.072).abs() < 1e-12);
        let standing = standing_boost(&[vouch(0.9, Some(0.8), 10)], Timestamp::from_millis(5), &c);
        let raised = attested_score(0.5, standing);
        assert!((raised - 0.572).abs() < 1e-12, "{raised}");
    }

    #[test]
    fn an_attestations_boost_stands_while_it_lives_and_is_withdrawn_at_expiry() {
        let c = TrustConfig::default();
        let vouches = [vouch(1.0, Some(0.7), 100 * HOUR)];
        // A day, then a month, into its life: the same boost, no decay.
        for at in [24 * HOUR, 99 * HOUR] {
            let standing = standing_boost(&vouches, Timestamp::from_millis(at), &c);
            assert!((standing - 0.07).abs() < 1e-12, "{standing}");
        }
        assert_eq!(standing_boost(&vouches, Timestamp::from_millis(100 * HOUR), &c), 0.0);
        assert_eq!(attested_score(0.5, 0.0), 0.5);
    }

    #[test]
    fn only_earned_trust_recommends() {
        let c = TrustConfig::default();
        // A stranger at the start, or one only raised by others' words.
        assert_eq!(recommender_weight(0.5, false, false, &c), None);
        assert_eq!(recommender_weight(0.9, false, false, &c), None);
        // Seen, but not above the threshold.
        assert_eq!(recommender_weight(0.55, true, false, &c), None);
        assert_eq!(recommender_weight(0.6, true, false, &c), Some(0.6));
        // A contact counts whatever its score, at its score.
        assert_eq!(recommender_weight(0.3, false, true, &c), Some(0.3));
        // A config whose threshold is not above the start still never lets
        // an unearned start recommend.
        let lax = TrustConfig {
            recommender_threshold: 0.5,
            ..c
        };
        assert_eq!(recommender_weight(0.5, true, false, &lax), None);
        assert!(lax.validate().is_err());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn a_config_reads_from_partial_json_and_bad_values_are_refused_in_words() {
        let config: TrustConfig = serde_json::from_str(r#"{"decayRate": 0.2, "decayIntervalMs": 60000}"#).unwrap();
        assert_eq!(config.decay_rate, 0.2);
        assert_eq!(config.decay_interval_ms, 60_000);
        assert_eq!(config.start, 0.5);
        let bad = TrustConfig {
            decay_rate: 1.5,
            ..TrustConfig::default()
        };
        assert_eq!(
            bad.validate(),
            Err("The trust parameter decayRate must be a number from 0 to 1, not 1.5.".to_owned())
        );
        let never = TrustConfig {
            decay_interval_ms: 0,
            ..TrustConfig::default()
        };
        assert!(never.validate().unwrap_err().contains("decayIntervalMs"));
    }

    #[test]
    fn decay_halves_the_distance_in_the_expected_time() {
        let c = TrustConfig {
            decay_rate: 0.5,
            decay_interval_ms: HOUR,
            ..TrustConfig::default()
        };
        assert!((decay(0.9, HOUR, &c) - 0.7).abs() < 1e-12);
        assert!((decay(0.1, 2 * HOUR, &c) - 0.4).abs() < 1e-12);
        assert_eq!(decay(0.9, 0, &c), 0.9);
    }

    #[test]
    fn reputation_mixes_score_trend_and_statistics() {
        let c = TrustConfig::default();
        let r = reputation(0.5, 1.0, 0.0, &c);
        assert!((r - 0.5).abs() < 1e-12, "{r}");
        assert!((reputation(1.0, 1.0, 1.0, &c) - 1.0).abs() < 1e-12);
        assert_eq!(statistics(Statistics::default()), 0.5);
        assert!((statistics(Statistics { kept: 8, broken: 0 }) - 0.9).abs() < 1e-12);
    }

    #[test]
    fn the_offline_cap_is_nothing_below_the_floor_and_full_at_one() {
        let c = TrustConfig::default();
        assert_eq!(offline_acceptance_cap(0.2, 10_000, &c), 0);
        assert_eq!(offline_acceptance_cap(0.3, 10_000, &c), 0);
        assert_eq!(offline_acceptance_cap(1.0, 10_000, &c), 10_000);
        assert_eq!(offline_acceptance_cap(0.65, 10_000, &c), 5_000);
    }

    #[test]
    fn one_weak_hop_pulls_a_route_down() {
        assert_eq!(route_score(&[]), 1.0);
        assert!(route_score(&[0.9, 0.9, 0.1]) < route_score(&[0.6, 0.6, 0.6]));
    }

    proptest! {
        #[test]
        fn scores_stay_between_zero_and_one(
            start in -2.0f64..3.0,
            changes in proptest::collection::vec((any_change(), 0u64..(100 * HOUR)), 0..64),
        ) {
            let c = TrustConfig::default();
            let mut state = ScoreState { value: start, at: Timestamp::EPOCH };
            for (change, gap) in changes {
                let now = state.at.plus_millis(gap);
                state = state.changed(change, now, c.start, &c);
                prop_assert!((0.0..=1.0).contains(&state.value), "{}", state.value);
            }
        }

        #[test]
        fn rises_never_lower_and_falls_never_raise(score in 0.0f64..=1.0, change in any_change()) {
            let c = TrustConfig::default();
            let after = apply(score, change, &c);
            if is_rise(change) {
                prop_assert!(after >= score);
            } else {
                prop_assert!(after <= score);
            }
        }

        #[test]
        fn a_higher_score_stays_at_least_as_high_after_the_same_change(
            a in 0.0f64..=1.0, b in 0.0f64..=1.0, change in any_change(), elapsed in 0u64..(1000 * HOUR),
        ) {
            let c = TrustConfig::default();
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(apply(low, change, &c) <= apply(high, change, &c));
            prop_assert!(decay(low, elapsed, &c) <= decay(high, elapsed, &c) + 1e-12);
        }

        #[test]
        fn more_valid_messages_never_score_lower(score in 0.0f64..=1.0, n in 0u32..5_000, more in 0u32..5_000) {
            let c = TrustConfig::default();
            let fewer = apply(score, ScoreChange::Valid { count: n }, &c);
            let most = apply(score, ScoreChange::Valid { count: n + more }, &c);
            prop_assert!(most >= fewer);
        }

        #[test]
        fn decay_moves_toward_the_start_and_converges(
            score in 0.0f64..=1.0, t1 in 0u64..(500 * HOUR), t2 in 0u64..(500 * HOUR),
        ) {
            let c = TrustConfig::default();
            let (early, late) = if t1 <= t2 { (t1, t2) } else { (t2, t1) };
            let d_early = (decay(score, early, &c) - c.start).abs();
            let d_late = (decay(score, late, &c) - c.start).abs();
            prop_assert!(d_late <= d_early + 1e-12);
            prop_assert!(d_early <= (score - c.start).abs() + 1e-12);
            // The same side of the start: decay never overshoots.
            prop_assert!((decay(score, late, &c) - c.start) * (score - c.start) >= 0.0);
            // After a long time the score is at the start.
            prop_assert!((decay(score, 10_000 * HOUR, &c) - c.start).abs() < 1e-9);
        }

        #[test]
        fn decaying_in_steps_is_decaying_at_once(score in 0.0f64..=1.0, a in 0u64..(100 * HOUR), b in 0u64..(100 * HOUR)) {
            let c = TrustConfig::default();
            let stepwise = decay(decay(score, a, &c), b, &c);
            prop_assert!((stepwise - decay(score, a + b, &c)).abs() < 1e-9);
        }

        #[test]
        fn boosts_grow_with_both_scores(r1 in 0.0f64..=1.0, r2 in 0.0f64..=1.0, t in 0.0f64..=1.0) {
            let c = TrustConfig::default();
            let (low, high) = if r1 <= r2 { (r1, r2) } else { (r2, r1) };
            prop_assert!(boost(low, t, &c) <= boost(high, t, &c));
            prop_assert!(boost(t, low, &c) <= boost(t, high, &c));
            prop_assert!((0.0..=c.attestation_weight).contains(&boost(r1, r2, &c)));
        }

        #[test]
        fn the_standing_boost_is_bounded_and_nothing_once_every_attestation_expired(
            vouches in proptest::collection::vec(any_vouch(), 0..16), at in 0u64..(2000 * HOUR),
        ) {
            let c = TrustConfig::default();
            let now = Timestamp::from_millis(at);
            let standing = standing_boost(&vouches, now, &c);
            prop_assert!(standing >= 0.0);
            #[allow(clippy::cast_precision_loss)]
            let most = vouches.len() as f64 * c.attestation_weight;
            prop_assert!(standing <= most + 1e-12);
            let latest = vouches.iter().map(|v| v.expires_at).max().unwrap_or(Timestamp::EPOCH);
            prop_assert_eq!(standing_boost(&vouches, latest, &c), 0.0);
        }

        #[test]
        fn time_only_withdraws_boosts_and_never_adds_one(
            vouches in proptest::collection::vec(any_vouch(), 0..16), t1 in 0u64..(2000 * HOUR), t2 in 0u64..(2000 * HOUR),
        ) {
            let c = TrustConfig::default();
            let (early, late) = if t1 <= t2 { (t1, t2) } else { (t2, t1) };
            let before = standing_boost(&vouches, Timestamp::from_millis(early), &c);
            let after = standing_boost(&vouches, Timestamp::from_millis(late), &c);
            prop_assert!(after <= before + 1e-12);
        }

        #[test]
        fn another_live_attestation_never_lowers_a_score(
            earned in 0.0f64..=1.0, vouches in proptest::collection::vec(any_vouch(), 0..16),
            more in any_vouch(), at in 0u64..(2000 * HOUR),
        ) {
            let c = TrustConfig::default();
            let now = Timestamp::from_millis(at);
            let without = attested_score(earned, standing_boost(&vouches, now, &c));
            let mut with = vouches.clone();
            with.push(more);
            let with = attested_score(earned, standing_boost(&with, now, &c));
            prop_assert!(with >= without);
            prop_assert!(without >= earned && (0.0..=1.0).contains(&with));
        }

        #[test]
        fn the_weight_of_a_recommender_grows_with_its_earned_score_and_never_exceeds_it(
            a in 0.0f64..=1.0, b in 0.0f64..=1.0, experienced: bool, contact: bool,
        ) {
            let c = TrustConfig::default();
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            let weight = |s| recommender_weight(s, experienced, contact, &c);
            if weight(low).is_some() {
                prop_assert!(weight(high).is_some());
            }
            if let Some(w) = weight(high) {
                prop_assert_eq!(w, high);
            }
            if !experienced && !contact {
                prop_assert_eq!(weight(high), None);
            }
        }

        #[test]
        fn reputation_is_bounded_and_grows_with_each_part(
            s in 0.0f64..=1.0, t in 0.0f64..=1.0, st in 0.0f64..=1.0, more in 0.0f64..=1.0,
        ) {
            let c = TrustConfig::default();
            let r = reputation(s, t, st, &c);
            prop_assert!((0.0..=1.0).contains(&r));
            prop_assert!(reputation((s + more).min(1.0), t, st, &c) >= r - 1e-12);
            prop_assert!(reputation(s, (t + more).min(1.0), st, &c) >= r - 1e-12);
            prop_assert!(reputation(s, t, (st + more).min(1.0), &c) >= r - 1e-12);
        }

        #[test]
        fn trend_and_statistics_are_bounded_and_monotone(
            now in 0.0f64..=1.0, then in 0.0f64..=1.0, kept in 0u64..1000, broken in 0u64..1000,
        ) {
            let tr = trend(now, then);
            prop_assert!((0.0..=1.0).contains(&tr));
            prop_assert_eq!(tr >= 0.5, now >= then);
            let st = statistics(Statistics { kept, broken });
            prop_assert!((0.0..=1.0).contains(&st));
            let more_kept = Statistics { kept: kept + 1, broken };
            let more_broken = Statistics { kept, broken: broken + 1 };
            prop_assert!(statistics(more_kept) >= st);
            prop_assert!(statistics(more_broken) <= st);
        }

        #[test]
        fn the_offline_cap_grows_with_the_score(a in 0.0f64..=1.0, b in 0.0f64..=1.0, cap in 0u64..1_000_000_000) {
            let c = TrustConfig::default();
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(offline_acceptance_cap(low, cap, &c) <= offline_acceptance_cap(high, cap, &c));
            prop_assert!(offline_acceptance_cap(high, cap, &c) <= cap);
        }
    }
}

/// The UI's mock node computes trust with a TypeScript copy of this model
/// (`ui/src/backend/trust-model.ts`). This fixture, written from here, holds
/// the default parameters and what the model gives for a set of inputs; the
/// UI's tests run the same inputs through the copy, so neither can drift
/// from the other unnoticed. `UPDATE_FIXTURES=1 cargo test -p
/// tallymesh-core ui_trust_fixture` writes it again after a change here.
#[cfg(test)]
mod ui_fixture {
    use serde_json::{Value, json};

    use super::*;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../ui/src/backend/trust-model.fixture.json"
    );
    const HOUR: u64 = 60 * 60 * 1000;

    fn fixture() -> Value {
        let c = TrustConfig::default();
        let mut apply_cases = Vec::new();
        for score in [0.0, 0.05, 0.5, 0.73, 0.999, 1.0] {
            for (kind, count) in [
                ("valid", 1),
                ("valid", 250),
                ("invalid", 1),
                ("invalid", 3),
                ("timeout", 2),
            ] {
                let change = match kind {
                    "valid" => ScoreChange::Valid { count },
                    "invalid" => ScoreChange::Invalid { count },
                    _ => ScoreChange::Timeout { count },
                };
                apply_cases
                    .push(json!({"score": score, "kind": kind, "count": count, "expected": apply(score, change, &c)}));
            }
            apply_cases.push(json!({"score": score, "kind": "evidence", "count": 1, "expected": apply(score, ScoreChange::Evidence, &c)}));
        }
        let mut decay_cases = Vec::new();
        for (score, target) in [(0.9, 0.5), (0.1, 0.5), (0.3, 0.0), (0.5, 0.5)] {
            for elapsed in [0, 1, HOUR / 2, HOUR, 7 * HOUR, 24 * 30 * HOUR] {
                decay_cases.push(json!({
                    "score": score, "target": target, "elapsedMs": elapsed,
                    "expected": decay_toward(score, target, elapsed, &c),
                }));
            }
        }
        let vouch = |recommended: f64, recommender: Option<f64>, expires: u64| Vouch {
            recommended,
            recommender,
            expires_at: Timestamp::from_millis(expires),
        };
        let sets = [
            vec![vouch(0.9, Some(0.8), 10 * HOUR)],
            vec![
                vouch(0.9, Some(0.8), 10 * HOUR),
                vouch(1.0, Some(1.0), 2 * HOUR),
                vouch(0.7, None, 20 * HOUR),
            ],
            vec![vouch(1.0, Some(1.0), HOUR); 12],
        ];
        let mut standing_cases = Vec::new();
        for vouches in &sets {
            for earned in [0.0, 0.5, 0.95] {
                for now in [0, HOUR, 2 * HOUR, 10 * HOUR] {
                    let now_at = Timestamp::from_millis(now);
                    let standing = standing_boost(vouches, now_at, &c);
                    let listed: Vec<Value> = vouches
                        .iter()
                        .map(|v| json!({"recommended": v.recommended, "recommender": v.recommender, "expiresAtMs": v.expires_at.as_millis()}))
                        .collect();
                    standing_cases.push(json!({
                        "earned": earned, "vouches": listed, "nowMs": now,
                        "standing": standing, "expected": attested_score(earned, standing),
                    }));
                }
            }
        }
        let mut recommender_cases = Vec::new();
        for earned in [0.3, 0.5, 0.59, 0.6, 0.9] {
            for (experienced, is_contact) in [(false, false), (true, false), (false, true), (true, true)] {
                recommender_cases.push(json!({
                    "earned": earned, "experienced": experienced, "isContact": is_contact,
                    "expected": recommender_weight(earned, experienced, is_contact, &c),
                }));
            }
        }
        let mut reputation_cases = Vec::new();
        for (now, then, kept, broken) in [(0.5, 0.5, 0, 0), (0.8, 0.4, 8, 0), (0.2, 0.9, 1, 5), (1.0, 0.0, 100, 1)] {
            let tr = trend(now, then);
            let st = statistics(Statistics { kept, broken });
            reputation_cases.push(json!({
                "score": now, "then": then, "kept": kept, "broken": broken,
                "trend": tr, "statistics": st, "expected": reputation(now, tr, st, &c),
            }));
        }
        let mut level_cases = Vec::new();
        for score in [0.0, 0.09, 0.1, 0.29, 0.3, 0.5, 0.509, 0.51, 0.59, 0.6, 1.0] {
            for convicted in [false, true] {
                level_cases
                    .push(json!({"score": score, "convicted": convicted, "expected": c.level(score, convicted)}));
            }
        }
        json!({
            "about": "Written by `UPDATE_FIXTURES=1 cargo test -p tallymesh-core ui_trust_fixture` from crates/core/src/trust/score.rs; do not edit.",
            "config": c,
            "goodMargin": GOOD_MARGIN,
            "apply": apply_cases,
            "decay": decay_cases,
            "standing": standing_cases,
            "recommender": recommender_cases,
            "reputation": reputation_cases,
            "level": level_cases,
        })
    }

    #[test]
    fn the_ui_trust_fixture_holds_what_the_model_computes() {
        let fresh = serde_json::to_string_pretty(&fixture()).unwrap() + "\n";
        if std::env::var("UPDATE_FIXTURES").is_ok_and(|v| v == "1") {
            std::fs::write(FIXTURE, &fresh).unwrap();
        }
        let kept = std::fs::read_to_string(FIXTURE).unwrap_or_default();
        assert!(
            kept == fresh,
            "ui/src/backend/trust-model.fixture.json is out of date: run UPDATE_FIXTURES=1 cargo test -p tallymesh-core ui_trust_fixture"
        );
    }
}
