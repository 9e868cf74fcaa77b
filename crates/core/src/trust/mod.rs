//! Trust: how far a node trusts a party, and the signed records that move it.
//!
//! - [`score`]: the score model as pure functions — a score per party in
//!   `[0, 1]` starting at 0.5, moved by what the node sees, decaying back
//!   toward the start (the earned score), raised by a standing boost from
//!   the live attestations of parties whose trust was earned, and mixed with
//!   its trend and real statistics into a reputation. Every parameter is in
//!   one [`TrustConfig`].
//! - [`Attestation`]: a party's signed statement of how far it trusts
//!   another, until when.
//! - [`Evidence`]: a record of misbehaviour anyone can check alone — two
//!   conflicting signed votes of one node, a chat message under a forged
//!   device certificate, later a double-spent token.
//!
//! ```
//! use tallymesh_core::trust::{apply, attested_score, standing_boost, ScoreChange, TrustConfig, Vouch};
//! use tallymesh_core::Timestamp;
//!
//! let config = TrustConfig::default();
//! let score = apply(config.start, ScoreChange::Invalid { count: 1 }, &config);
//! assert!((score - 0.4).abs() < 1e-12);
//! // A party we trust at 0.8 vouches for another at 0.9 until t = 1000: +0.072
//! // while the attestation lives, nothing once it expired.
//! let vouch = Vouch { recommended: 0.9, recommender: Some(0.8), expires_at: Timestamp::from_millis(1_000) };
//! let raised = attested_score(config.start, standing_boost(&[vouch], Timestamp::from_millis(500), &config));
//! assert!((raised - 0.572).abs() < 1e-12);
//! let later = attested_score(config.start, standing_boost(&[vouch], Timestamp::from_millis(1_000), &config));
//! assert_eq!(later, config.start);
//! ```

mod attestation;
mod evidence;
pub mod score;

pub use attestation::{
    ATTESTATION_VERSION, Attestation, AttestationError, AttestationKind, MAX_CLOCK_AHEAD_MS, MAX_VALIDITY_MS,
};
pub use evidence::{
    Binding, CHAT_CERTIFICATE_FIELD, CHAT_ITEM_SEAL_KIND, EVIDENCE_VERSION, Evidence, EvidenceError, EvidenceKind,
    Finding, MAX_EVIDENCE_BYTES,
};
pub use score::{
    GOOD_MARGIN, ScoreChange, ScoreState, Statistics, TrustConfig, TrustLevel, Vouch, apply, attested_score, boost,
    clamp, decay, decay_toward, offline_acceptance_cap, recommender_weight, reputation, route_score, standing_boost,
    statistics, trend,
};
