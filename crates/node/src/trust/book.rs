//! The node's trust book: who a peer is, what each subject's score is now,
//! and every change to it, kept in the store with its reason.
//!
//! A subject's score has two parts (`docs/protocol/trust.md`, "The score
//! model"): the **earned** score, moved by what this node saw of the
//! subject and kept in `trust_scores`, decaying toward the start; and the
//! **standing** boost of the live attestations about it, summed anew
//! whenever the score is read, so an expired attestation no longer counts.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tallymesh_core::card::ContactCard;
use tallymesh_core::trust::{
    ScoreChange, ScoreState, Statistics, TrustConfig, Vouch, attested_score, offline_acceptance_cap,
    recommender_weight, reputation, route_score, standing_boost, statistics, trend,
};
use tallymesh_core::{PartyId, Timestamp};
use tallymesh_net::PeerId;
use tallymesh_store::{AttestationRow, Store, TrustEventRow, TrustScoreRow};
use tokio::sync::mpsc;

use super::{AttestationView, EvidenceView, HISTORY_LENGTH, Trust, TrustDetail, TrustError, TrustEvent, TrustScore};
use crate::{IdentityState, NodeEvent};

/// How many observations (strikes, timeouts) may wait for the trust task;
/// beyond that they are dropped (a flood is already being punished).
const OBSERVATION_BUFFER: usize = 4096;

/// Valid messages of one subject within this long are folded into one event.
const VALID_FOLD_MS: u64 = 60 * 60 * 1000;

/// How long routine events (valid, invalid, timeout) are kept.
pub(crate) const ROUTINE_EVENTS_KEPT_MS: u64 = 30 * 24 * 60 * 60 * 1000;

/// The most routine events kept per subject.
pub(crate) const ROUTINE_EVENTS_PER_SUBJECT: u32 = 1_000;

/// Whose score a peer's behaviour moves.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Subject {
    /// A party whose device certificate names the peer.
    Party(PartyId),
    /// A device no known party answers for.
    Device(PeerId),
    /// One of this party's own devices: never scored.
    Own,
}

impl Subject {
    /// The subject as the store and the API name it; `None` for our own.
    pub(crate) fn key(&self) -> Option<String> {
        match self {
            Subject::Party(party) => Some(party.to_string()),
            Subject::Device(peer) => Some(peer.to_string()),
            Subject::Own => None,
        }
    }
}

/// Something a peer did that costs it, waiting for the trust task.
#[derive(Debug)]
pub(crate) struct Observation {
    pub(crate) peer: PeerId,
    pub(crate) change: ScoreChange,
    pub(crate) reason: String,
}

/// Where strikes and timeouts are reported from anywhere in the node (the
/// ledger transport holds one before the node exists). Cloning shares it.
#[derive(Debug, Clone)]
pub(crate) struct TrustObserver {
    observations: mpsc::Sender<Observation>,
    /// Requests each peer let time out since the node started.
    timeouts: Arc<Mutex<HashMap<PeerId, u32>>>,
}

impl TrustObserver {
    /// Counts a request `peer` let time out.
    pub(crate) fn timeout(&self, peer: PeerId, reason: &str) {
        {
            let mut timeouts = self.timeouts.lock().unwrap_or_else(PoisonError::into_inner);
            let count = timeouts.entry(peer).or_insert(0);
            *count = count.saturating_add(1);
        }
        self.observe(peer, ScoreChange::Timeout { count: 1 }, reason);
    }

    fn observe(&self, peer: PeerId, change: ScoreChange, reason: &str) {
        let observation = Observation {
            peer,
            change,
            reason: reason.chars().take(300).collect(),
        };
        if self.observations.try_send(observation).is_err() {
            tracing::debug!(%peer, "a trust observation was dropped: the trust task is behind or stopped");
        }
    }

    /// The timeouts of `peer` since the node started.
    fn timeouts_of(&self, peer: &PeerId) -> u32 {
        self.timeouts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(peer)
            .copied()
            .unwrap_or(0)
    }
}

/// The request a task answers, and whether answering it found its peer
/// breaking a rule (see [`TrustBook::judged`]).
struct Answering {
    peer: PeerId,
    broke_a_rule: Cell<bool>,
}

tokio::task_local! {
    /// Set while a request is answered.
    static ANSWERING: Answering;
}

/// What the node keeps in memory about trust; the scores are in the store.
#[derive(Debug)]
pub(crate) struct TrustBook {
    /// The parameters.
    pub(crate) config: TrustConfig,
    observer: TrustObserver,
    /// The receiving end, until the trust task takes it.
    pub(crate) inbox: Mutex<Option<mpsc::Receiver<Observation>>>,
    /// Valid messages per peer since the last flush.
    valid: Mutex<HashMap<PeerId, u32>>,
    /// Which party each known device belongs to; rebuilt after contacts or
    /// the cadre change.
    parties: Mutex<Option<Arc<HashMap<PeerId, Subject>>>>,
    /// Serialises read-change-write of scores.
    update: tokio::sync::Mutex<()>,
    /// Serialises taking attestations and evidence: the same record
    /// arriving twice at once (gossip and a contact's share) must count once.
    pub(super) taking: tokio::sync::Mutex<()>,
}

impl TrustBook {
    pub(crate) fn new(config: TrustConfig) -> TrustBook {
        let (observations, inbox) = mpsc::channel(OBSERVATION_BUFFER);
        TrustBook {
            config,
            observer: TrustObserver {
                observations,
                timeouts: Arc::default(),
            },
            inbox: Mutex::new(Some(inbox)),
            valid: Mutex::default(),
            parties: Mutex::default(),
            update: tokio::sync::Mutex::new(()),
            taking: tokio::sync::Mutex::new(()),
        }
    }

    /// A handle that reports timeouts and strikes to this book.
    pub(crate) fn observer(&self) -> TrustObserver {
        self.observer.clone()
    }

    /// Counts one valid message of `peer` (applied at the next flush).
    pub(crate) fn valid(&self, peer: PeerId) {
        let mut valid = self.valid.lock().unwrap_or_else(PoisonError::into_inner);
        let count = valid.entry(peer).or_insert(0);
        *count = count.saturating_add(1);
    }

    /// Runs `answer`, the answer to one request of `peer`, and counts the
    /// request as a valid message of `peer` unless a broken rule of `peer`
    /// was counted while answering it. Only what this very request caused
    /// weighs: another request of the same peer answered at the same time
    /// neither hides nor spoils this one's verdict.
    pub(crate) async fn judged<T>(&self, peer: PeerId, answer: impl Future<Output = T>) -> T {
        let answering = Answering {
            peer,
            broke_a_rule: Cell::new(false),
        };
        let (answer, broke_a_rule) = ANSWERING
            .scope(answering, async {
                let answer = answer.await;
                (answer, ANSWERING.with(|answering| answering.broke_a_rule.get()))
            })
            .await;
        if !broke_a_rule {
            self.valid(peer);
        }
        answer
    }

    /// Counts a broken rule against `peer`.
    pub(crate) fn invalid(&self, peer: PeerId, reason: &str) {
        // Marks the request being answered, when it is this peer's.
        let _ = ANSWERING.try_with(|answering| {
            if answering.peer == peer {
                answering.broke_a_rule.set(true);
            }
        });
        self.observer.observe(peer, ScoreChange::Invalid { count: 1 }, reason);
    }

    /// Counts a request `peer` let time out.
    pub(crate) fn timeout(&self, peer: PeerId, reason: &str) {
        self.observer.timeout(peer, reason);
    }

    /// The valid messages counted since the last call, per peer.
    pub(crate) fn take_valid(&self) -> HashMap<PeerId, u32> {
        std::mem::take(&mut *self.valid.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Forgets who the devices are; the next look-up reads the cards again.
    pub(crate) fn forget_parties(&self) {
        *self.parties.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// How often `peer` failed us since the node started: its strikes and
    /// the requests it let time out.
    fn failures_of(&self, peer: &PeerId, strikes: &HashMap<PeerId, u32>) -> u32 {
        strikes
            .get(peer)
            .copied()
            .unwrap_or(0)
            .saturating_add(self.observer.timeouts_of(peer))
    }
}

/// The wall clock as a timestamp.
pub(crate) fn now() -> Timestamp {
    Timestamp::from_millis(crate::node::unix_millis())
}

pub(super) fn ms(at: Timestamp) -> i64 {
    i64::try_from(at.as_millis()).unwrap_or(i64::MAX)
}

pub(super) fn unms(at: i64) -> u64 {
    u64::try_from(at).unwrap_or(0)
}

/// The name of an event kind in the store.
fn kind_of(change: ScoreChange) -> (&'static str, u32) {
    match change {
        ScoreChange::Valid { count } => ("valid", count),
        ScoreChange::Invalid { count } => ("invalid", count),
        ScoreChange::Timeout { count } => ("timeout", count),
        ScoreChange::Evidence => ("evidence", 1),
    }
}

/// A subject's earned score as this node keeps it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Earned {
    /// The score, decayed up to the moment asked for.
    pub(super) state: ScoreState,
    /// Whether verified evidence names the subject.
    pub(super) convicted: bool,
    /// Whether this node has direct experience of the subject (a score
    /// row: messages, timeouts or evidence, never attestations alone).
    pub(super) experienced: bool,
}

/// An attestation about a subject with the weight its attester has here now.
#[derive(Debug, Clone)]
pub(super) struct Weighed {
    pub(super) row: AttestationRow,
    pub(super) vouch: Vouch,
}

impl Trust {
    pub(super) fn book(&self) -> &TrustBook {
        &self.node.inner.trust
    }

    /// Whose score `peer`'s behaviour moves.
    pub(crate) async fn subject_of(&self, peer: PeerId) -> Subject {
        let cached = self
            .book()
            .parties
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let parties = match cached {
            Some(parties) => parties,
            None => {
                let parties = Arc::new(self.device_subjects().await);
                *self.book().parties.lock().unwrap_or_else(PoisonError::into_inner) = Some(parties.clone());
                parties
            }
        };
        if peer == self.node.inner.net.local_peer_id() {
            return Subject::Own;
        }
        parties.get(&peer).cloned().unwrap_or(Subject::Device(peer))
    }

    /// Every device a contact's card or this party's cadre certifies.
    async fn device_subjects(&self) -> HashMap<PeerId, Subject> {
        let mut subjects = HashMap::new();
        let Ok(store) = self.node.running_store().await else {
            return subjects;
        };
        let own = self.own_party().await;
        let mut cards = Vec::new();
        if let Ok(contacts) = store.contacts().await {
            cards.extend(contacts.into_iter().map(|row| row.card));
        }
        if let Ok(Some(card)) = store.member_card().await {
            cards.push(card);
        }
        for bytes in cards {
            // Kept cards were verified when they came.
            let Ok(card) = ContactCard::from_signed_bytes(&bytes) else {
                continue;
            };
            let record = card.record();
            let subject = if Some(record.party) == own {
                Subject::Own
            } else {
                Subject::Party(record.party)
            };
            for device in &record.devices {
                if let Ok(peer) = PeerId::from_bytes(&device.record().peer_id) {
                    subjects.insert(peer, subject.clone());
                }
            }
        }
        if let Ok(devices) = store.cadre_devices().await {
            for device in devices {
                if let Ok(peer) = device.peer_id.parse::<PeerId>() {
                    subjects.insert(peer, Subject::Own);
                }
            }
        }
        subjects
    }

    /// The party this node acts for, if any.
    pub(crate) async fn own_party(&self) -> Option<PartyId> {
        self.node
            .identity()
            .state()
            .await
            .ok()
            .and_then(|state| state.party_id())
    }

    /// A subject's earned score at `now`, decayed.
    pub(super) async fn earned_at(&self, store: &Store, subject: &str, now: Timestamp) -> Result<Earned, TrustError> {
        let config = &self.book().config;
        Ok(match store.trust_score(subject).await? {
            Some(row) => {
                let state = ScoreState {
                    value: row.score,
                    at: Timestamp::from_millis(unms(row.at_ms)),
                };
                let target = if row.convicted { 0.0 } else { config.start };
                Earned {
                    state: state.at(now, target, config),
                    convicted: row.convicted,
                    experienced: true,
                }
            }
            None => Earned {
                state: ScoreState::fresh(now, config),
                convicted: false,
                experienced: false,
            },
        })
    }

    /// How much `attester`'s attestations weigh here at `now` (1 for this
    /// party's own; `None` when they do not count).
    pub(super) async fn recommender_at(
        &self,
        store: &Store,
        attester: &str,
        own: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<f64>, TrustError> {
        if own == Some(attester) {
            return Ok(Some(1.0));
        }
        let earned = self.earned_at(store, attester, now).await?;
        let contact = store.contact(attester).await?.is_some();
        Ok(recommender_weight(
            earned.state.value,
            earned.experienced,
            contact,
            &self.book().config,
        ))
    }

    /// The attestations kept about `subject`, each weighed at `now`.
    /// Attestations about this party itself weigh nothing (it is never
    /// scored).
    pub(super) async fn weighed(
        &self,
        store: &Store,
        subject: &str,
        now: Timestamp,
    ) -> Result<Vec<Weighed>, TrustError> {
        let own = self.own_party().await.map(|p| p.to_string());
        let mut weighed = Vec::new();
        for row in store.attestations(Some(subject)).await? {
            let recommender = if own.as_deref() == Some(subject) {
                None
            } else {
                self.recommender_at(store, &row.attester, own.as_deref(), now).await?
            };
            let vouch = Vouch {
                recommended: f64::from(u16::try_from(row.score_milli.clamp(0, 1000)).unwrap_or(0)) / 1000.0,
                recommender,
                expires_at: Timestamp::from_millis(unms(row.expires_at_ms)),
            };
            weighed.push(Weighed { row, vouch });
        }
        Ok(weighed)
    }

    /// The standing boost of `subject` at `now`: the boosts of the live
    /// attestations about it.
    pub(super) async fn standing_at(&self, store: &Store, subject: &str, now: Timestamp) -> Result<f64, TrustError> {
        let vouches: Vec<Vouch> = self
            .weighed(store, subject, now)
            .await?
            .into_iter()
            .map(|w| w.vouch)
            .collect();
        Ok(standing_boost(&vouches, now, &self.book().config))
    }

    /// The score of `subject` at `now`: earned plus standing.
    pub(super) async fn score_at(&self, store: &Store, subject: &str, now: Timestamp) -> Result<f64, TrustError> {
        let earned = self.earned_at(store, subject, now).await?;
        let standing = self.standing_at(store, subject, now).await?;
        Ok(attested_score(earned.state.value, standing))
    }

    /// The score of `subject` now.
    pub(crate) async fn score_now(&self, subject: &str) -> Result<f64, TrustError> {
        let store = self.node.running_store().await?;
        self.score_at(&store, subject, now()).await
    }

    /// Moves `subject`'s earned score by `change` now, keeping the event
    /// with its reason; `convict` marks the subject as named by evidence.
    /// Valid messages within an hour of the subject's last event, when that
    /// one was valid messages too, are folded into it. Returns the score
    /// after (earned and standing).
    pub(crate) async fn change(
        &self,
        subject: &str,
        change: ScoreChange,
        reason: &str,
        convict: bool,
    ) -> Result<f64, TrustError> {
        let store = self.node.running_store().await?;
        let config = self.book().config;
        let after = {
            let _serial = self.book().update.lock().await;
            let now = now();
            let earned = self.earned_at(&store, subject, now).await?;
            let convicted = earned.convicted || convict;
            let target = if convicted { 0.0 } else { config.start };
            let after = earned.state.changed(change, now, target, &config);
            let score = attested_score(after.value, self.standing_at(&store, subject, now).await?);
            let (kind, count) = kind_of(change);
            let mut event = TrustEventRow {
                id: 0,
                subject: subject.to_owned(),
                at_ms: ms(now),
                kind: kind.to_owned(),
                count: i64::from(count),
                delta: change.delta(&config),
                score,
                reason: reason.to_owned(),
            };
            if let ScoreChange::Valid { .. } = change
                && let Some(last) = store.latest_trust_event(subject).await?
                && last.kind == "valid"
                && unms(last.at_ms) / VALID_FOLD_MS == now.as_millis() / VALID_FOLD_MS
            {
                event.id = last.id;
                event.count = last.count.saturating_add(event.count);
                event.delta += last.delta;
                event.reason = valid_reason(event.count);
            }
            store
                .save_trust(
                    &[TrustScoreRow {
                        subject: subject.to_owned(),
                        score: after.value,
                        at_ms: ms(after.at),
                        convicted,
                    }],
                    &[event],
                )
                .await?;
            score
        };
        tracing::debug!(subject, score = after, reason, "trust changed");
        // No subscriber is not an error.
        let _ = self.node.inner.events.send(NodeEvent::TrustChanged {
            subject: subject.to_owned(),
        });
        self.follow_connections(subject, after).await;
        Ok(after)
    }

    /// Applies what the trust task observed about a peer.
    pub(crate) async fn observed(&self, observation: Observation) {
        let Some(subject) = self.subject_of(observation.peer).await.key() else {
            return;
        };
        let reason = format!("{} (peer {})", observation.reason, short(&observation.peer));
        if let Err(error) = self.change(&subject, observation.change, &reason, false).await {
            tracing::debug!(%subject, "a trust observation was not kept: {error}");
        }
    }

    /// Applies the valid messages counted since the last flush, one event
    /// per subject (folded into the subject's event of the hour).
    pub(crate) async fn flush_valid(&self) {
        let counted = self.book().take_valid();
        let mut per_subject: HashMap<String, u32> = HashMap::new();
        for (peer, count) in counted {
            if let Some(subject) = self.subject_of(peer).await.key() {
                let total = per_subject.entry(subject).or_insert(0);
                *total = total.saturating_add(count);
            }
        }
        for (subject, count) in per_subject {
            if let Err(error) = self
                .change(
                    &subject,
                    ScoreChange::Valid { count },
                    &valid_reason(i64::from(count)),
                    false,
                )
                .await
            {
                tracing::debug!(%subject, "valid messages were not counted: {error}");
            }
        }
    }

    /// Removes old routine events and forgotten devices' scores.
    pub(crate) async fn prune(&self) {
        let Ok(store) = self.node.running_store().await else {
            return;
        };
        let before = ms(now()).saturating_sub(i64::try_from(ROUTINE_EVENTS_KEPT_MS).unwrap_or(i64::MAX));
        match store.prune_trust(before, ROUTINE_EVENTS_PER_SUBJECT).await {
            Ok((0, 0)) => {}
            Ok((events, scores)) => tracing::debug!(events, scores, "old trust history pruned"),
            Err(error) => tracing::debug!("the trust history was not pruned: {error}"),
        }
    }

    /// Brings the connections of `subject`'s connected peers in line with
    /// its new `score`: their priority for the incoming slots (and their
    /// gossip score) follows it, and below the disconnect threshold they
    /// are closed.
    pub(super) async fn follow_connections(&self, subject: &str, score: f64) {
        let Ok(connected) = self.node.inner.net.connected_peers().await else {
            return;
        };
        for peer in connected {
            if self.subject_of(peer).await.key().as_deref() == Some(subject) {
                self.follow_peer(peer, subject, score).await;
            }
        }
    }

    async fn follow_peer(&self, peer: PeerId, subject: &str, score: f64) {
        let net = &self.node.inner.net;
        if score < self.book().config.disconnect_below {
            tracing::info!(%peer, subject, score, "disconnecting a peer trusted too little");
            let _ = net.disconnect(peer).await;
        } else {
            let _ = net.set_peer_priority(peer, priority_of(score)).await;
        }
    }

    /// A new connection: its priority for the incoming slots is its
    /// subject's score; it is closed at once when that is too low. This
    /// party's own devices get the highest priority.
    pub(crate) async fn check_connected(&self, peer: PeerId) {
        match self.subject_of(peer).await.key() {
            Some(subject) => {
                if let Ok(score) = self.score_now(&subject).await {
                    self.follow_peer(peer, &subject, score).await;
                }
            }
            None => {
                let _ = self.node.inner.net.set_peer_priority(peer, u8::MAX).await;
            }
        }
    }

    /// Every connected peer checked again: scores decay and attestations
    /// expire without any event, and priorities follow.
    pub(crate) async fn check_all_connected(&self) {
        let Ok(connected) = self.node.inner.net.connected_peers().await else {
            return;
        };
        for peer in connected {
            self.check_connected(peer).await;
        }
    }

    /// The score of `party` now, in `[0, 1]` (the start for a party never
    /// seen). For the lift and token protocols.
    pub async fn score_of(&self, party: &PartyId) -> Result<f64, TrustError> {
        self.score_now(&party.to_string()).await
    }

    /// How a lift route through `parties` ranks: the product of their
    /// scores (`tallymesh_core::trust::route_score`).
    pub async fn route_score(&self, parties: &[PartyId]) -> Result<f64, TrustError> {
        let mut scores = Vec::with_capacity(parties.len());
        for party in parties {
            scores.push(self.score_of(party).await?);
        }
        Ok(route_score(&scores))
    }

    /// The most units of `issuer`'s tokens to accept offline, given the cap
    /// for a fully trusted issuer (`tallymesh_core::trust::offline_acceptance_cap`).
    pub async fn offline_acceptance_cap(&self, issuer: &PartyId, full_cap: u64) -> Result<u64, TrustError> {
        let score = self.score_of(issuer).await?;
        Ok(offline_acceptance_cap(score, full_cap, &self.book().config))
    }

    /// `peers` ordered by trust: the highest-scored subject first (this
    /// party's own devices count as 1), then the peer that failed us least
    /// (strikes and timeouts since the node started); ties keep their
    /// order. Where the node picks among peers, it takes them in this
    /// order (`docs/protocol/trust.md`, "Effects").
    pub async fn rank_peers(&self, peers: Vec<PeerId>) -> Vec<PeerId> {
        let strikes = self
            .node
            .inner
            .strikes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut keyed = Vec::with_capacity(peers.len());
        for peer in peers {
            let score = match self.subject_of(peer).await.key() {
                Some(subject) => self.score_now(&subject).await.unwrap_or(self.book().config.start),
                None => 1.0,
            };
            keyed.push((peer, score, self.book().failures_of(&peer, &strikes)));
        }
        // A stable sort: equals keep their order.
        keyed.sort_by(|(_, sa, fa), (_, sb, fb)| sb.total_cmp(sa).then(fa.cmp(fb)));
        keyed.into_iter().map(|(peer, _, _)| peer).collect()
    }

    /// Every subject with a score, every subject of a kept attestation,
    /// and every contact; contacts first by name.
    pub async fn list(&self) -> Result<Vec<TrustScore>, TrustError> {
        let store = self.node.running_store().await?;
        let names = self.names(&store).await?;
        let own = self.own_party().await.map(|p| p.to_string());
        let mut subjects: Vec<String> = store.trust_scores().await?.into_iter().map(|row| row.subject).collect();
        let attested = store.attestations(None).await?.into_iter().map(|row| row.subject);
        for subject in attested.chain(names.keys().cloned()) {
            if !subjects.contains(&subject) && own.as_deref() != Some(subject.as_str()) {
                subjects.push(subject);
            }
        }
        let now = now();
        let mut scores = Vec::with_capacity(subjects.len());
        for subject in subjects {
            scores.push(self.standing(&store, &subject, &names, now).await?);
        }
        scores.sort_by(|a, b| {
            (
                !a.is_contact,
                a.display_name.as_deref().map(str::to_lowercase),
                &a.subject,
            )
                .cmp(&(
                    !b.is_contact,
                    b.display_name.as_deref().map(str::to_lowercase),
                    &b.subject,
                ))
        });
        Ok(scores)
    }

    /// Everything behind one subject's score: a party id or a peer id.
    pub async fn show(&self, subject: &str) -> Result<TrustDetail, TrustError> {
        let subject = parse_subject(subject)?;
        let store = self.node.running_store().await?;
        let names = self.names(&store).await?;
        let now = now();
        let score = self.standing(&store, &subject, &names, now).await?;
        let events = store
            .trust_events(&subject, HISTORY_LENGTH)
            .await?
            .into_iter()
            .map(|row| TrustEvent {
                id: u64::try_from(row.id).unwrap_or(0),
                at_ms: unms(row.at_ms),
                kind: row.kind,
                count: u32::try_from(row.count).unwrap_or(u32::MAX),
                delta: row.delta,
                score: row.score,
                reason: row.reason,
            })
            .collect();
        let own = self.own_party().await.map(|p| p.to_string());
        let attestations = self
            .weighed(&store, &subject, now)
            .await?
            .into_iter()
            .map(|w| attestation_view(w, &names, own.as_deref(), now, &self.book().config))
            .collect();
        let evidence = self
            .evidence()
            .await?
            .into_iter()
            .filter(|e| e.party_id.as_deref() == Some(subject.as_str()) || e.node == subject)
            .collect();
        Ok(TrustDetail {
            score,
            events,
            attestations,
            evidence,
        })
    }

    /// Every attestation this node keeps, newest first.
    pub async fn attestations(&self) -> Result<Vec<AttestationView>, TrustError> {
        let store = self.node.running_store().await?;
        let names = self.names(&store).await?;
        let own = self.own_party().await.map(|p| p.to_string());
        let now = now();
        let mut views = Vec::new();
        for row in store.attestations(None).await? {
            let recommender = if own.as_deref() == Some(row.subject.as_str()) {
                None
            } else {
                self.recommender_at(&store, &row.attester, own.as_deref(), now).await?
            };
            let vouch = Vouch {
                recommended: f64::from(u16::try_from(row.score_milli.clamp(0, 1000)).unwrap_or(0)) / 1000.0,
                recommender,
                expires_at: Timestamp::from_millis(unms(row.expires_at_ms)),
            };
            views.push(attestation_view(
                Weighed { row, vouch },
                &names,
                own.as_deref(),
                now,
                &self.book().config,
            ));
        }
        Ok(views)
    }

    /// Every piece of verified evidence this node keeps, newest first.
    pub async fn evidence(&self) -> Result<Vec<EvidenceView>, TrustError> {
        let store = self.node.running_store().await?;
        let names = self.names(&store).await?;
        Ok(store
            .evidence()
            .await?
            .into_iter()
            .map(|row| EvidenceView {
                id: tallymesh_core::hash::hex(&row.id),
                offence: tallymesh_core::hash::hex(&row.offence),
                kind: row.kind,
                node: tallymesh_net::peer_id_of_ed25519(&row.node)
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| tallymesh_core::hash::hex(&row.node)),
                party_name: row.party.as_ref().and_then(|p| names.get(p).cloned()),
                party_id: row.party,
                summary: row.summary,
                reported_by: row.reported_by,
                received_at_ms: unms(row.received_at_ms),
            })
            .collect())
    }

    /// The statistics of `party`'s tallies with us.
    async fn statistics_of(&self, store: &Store, party: &PartyId) -> Statistics {
        match store.trust_statistics(party.key().as_bytes()).await {
            Ok((kept, broken)) => Statistics { kept, broken },
            Err(error) => {
                tracing::debug!("tally statistics could not be read: {error}");
                Statistics::default()
            }
        }
    }

    /// A subject's standing at `now`.
    async fn standing(
        &self,
        store: &Store,
        subject: &str,
        names: &HashMap<String, String>,
        now: Timestamp,
    ) -> Result<TrustScore, TrustError> {
        let config = self.book().config;
        let earned = self.earned_at(store, subject, now).await?;
        let attested = self.standing_at(store, subject, now).await?;
        let score = attested_score(earned.state.value, attested);
        let row = store.trust_score(subject).await?;
        let window_start = ms(now).saturating_sub(i64::try_from(config.trend_window_ms).unwrap_or(i64::MAX));
        let then = store
            .trust_score_at(subject, window_start)
            .await?
            .unwrap_or(config.start);
        let party = subject.parse::<PartyId>().ok();
        let stats = match &party {
            Some(party) => self.statistics_of(store, party).await,
            None => Statistics::default(),
        };
        let trend = trend(score, then);
        let statistics = statistics(stats);
        Ok(TrustScore {
            subject: subject.to_owned(),
            party_id: party.map(|p| p.to_string()),
            display_name: names.get(subject).cloned(),
            is_contact: store.contact(subject).await?.is_some(),
            score,
            earned: earned.state.value,
            attested: score - earned.state.value,
            trend,
            statistics,
            kept: stats.kept,
            broken: stats.broken,
            reputation: reputation(score, trend, statistics, &config),
            convicted: earned.convicted,
            level: config.level(score, earned.convicted),
            updated_at_ms: row.map_or(0, |r| unms(r.at_ms)),
        })
    }

    /// Contacts' and this party's names by party id.
    pub(super) async fn names(&self, store: &Store) -> Result<HashMap<String, String>, TrustError> {
        let mut names: HashMap<String, String> = store
            .contacts()
            .await?
            .into_iter()
            .map(|row| (row.party_id, row.display_name))
            .collect();
        if let Ok(
            IdentityState::Ready {
                party_id, display_name, ..
            }
            | IdentityState::Member {
                party_id, display_name, ..
            },
        ) = self.node.identity().state().await
        {
            names.insert(party_id, display_name);
        }
        Ok(names)
    }
}

/// The reason of an event standing for `count` valid messages.
fn valid_reason(count: i64) -> String {
    if count == 1 {
        "a valid message".to_owned()
    } else {
        format!("{count} valid messages")
    }
}

pub(super) fn attestation_view(
    weighed: Weighed,
    names: &HashMap<String, String>,
    own: Option<&str>,
    now: Timestamp,
    config: &TrustConfig,
) -> AttestationView {
    let Weighed { row, vouch } = weighed;
    let kind = u64::try_from(row.kind).map_or_else(
        |_| "unknown".to_owned(),
        |k| tallymesh_core::trust::AttestationKind::from_code(k).name(),
    );
    AttestationView {
        id: tallymesh_core::hash::hex(&row.id),
        attester_name: names.get(&row.attester).cloned(),
        subject_name: names.get(&row.subject).cloned(),
        by_me: own == Some(row.attester.as_str()),
        attester: row.attester,
        subject: row.subject,
        kind,
        score: vouch.recommended,
        issued_at_ms: unms(row.issued_at_ms),
        expires_at_ms: unms(row.expires_at_ms),
        expired: vouch.expires_at <= now,
        recommender: vouch.recommender,
        boost: vouch.boost_at(now, config),
    }
}

pub(super) async fn is_contact(store: &Store, party: &str) -> bool {
    store.contact(party).await.ok().flatten().is_some()
}

/// A score as the swarm's priority for incoming slots and gossip: 0 to 255.
pub(crate) fn priority_of(score: f64) -> u8 {
    // Clamped to [0, 255] first, so the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let priority = (tallymesh_core::trust::clamp(score) * 255.0).round() as u8;
    priority
}

/// A subject as the API takes it: a party id or a peer id, normalised.
fn parse_subject(text: &str) -> Result<String, TrustError> {
    let text = text.trim();
    if let Ok(party) = text.parse::<PartyId>() {
        return Ok(party.to_string());
    }
    if let Ok(peer) = text.parse::<PeerId>() {
        return Ok(peer.to_string());
    }
    Err(TrustError::BadSubject(text.chars().take(100).collect()))
}

/// The end of a peer id, for reasons shown to people.
fn short(peer: &PeerId) -> String {
    let text = peer.to_string();
    text[text.len().saturating_sub(8)..].to_owned()
}

/// The fingerprint of a party id, for reasons shown to people.
pub(super) fn short_party(party: &str) -> String {
    party.parse::<PartyId>().map_or_else(
        |_| party.chars().take(16).collect(),
        |p| format!("…{}", p.fingerprint()),
    )
}

#[cfg(test)]
mod tests {
    use tallymesh_core::trust::TrustConfig;
    use tallymesh_net::PeerId;
    use tokio::sync::oneshot;

    use super::TrustBook;

    #[tokio::test]
    async fn a_broken_rule_spoils_only_the_verdict_of_the_request_that_broke_it() {
        let book = TrustBook::new(TrustConfig::default());
        let peer = PeerId::random();
        let (struck, after_strike) = oneshot::channel();
        // Two requests of one peer answered at once: the sound one starts
        // first, and the other breaks a rule before the sound one is done.
        let breaking = book.judged(peer, async {
            book.invalid(peer, "an unreadable request");
            let _ = struck.send(());
        });
        let sound = book.judged(peer, async {
            let _ = after_strike.await;
        });
        tokio::join!(sound, breaking);
        assert_eq!(
            book.take_valid().get(&peer),
            Some(&1),
            "the sound request counts, the broken one does not"
        );
    }

    #[tokio::test]
    async fn a_rule_broken_by_another_peer_leaves_the_answered_peer_valid() {
        let book = TrustBook::new(TrustConfig::default());
        let peer = PeerId::random();
        let other = PeerId::random();
        book.judged(peer, async { book.invalid(other, "a card that does not check out") })
            .await;
        book.judged(peer, async { book.invalid(peer, "a forged seal") }).await;
        let valid = book.take_valid();
        assert_eq!(valid.get(&peer), Some(&1));
        assert_eq!(valid.get(&other), None);
    }
}
