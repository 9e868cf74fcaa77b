//! The node's trust book: who a peer is, what each subject's score is now,
//! and every change to it, kept in the store with its reason.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tallymesh_core::card::ContactCard;
use tallymesh_core::record::Signed;
use tallymesh_core::trust::{
    Attestation, AttestationError, AttestationKind, Evidence, EvidenceError, ScoreChange, ScoreState, Statistics,
    TrustConfig, boost, counts_as_recommender, offline_acceptance_cap, reputation, route_score, statistics, trend,
};
use tallymesh_core::{PartyId, Timestamp};
use tallymesh_net::PeerId;
use tallymesh_store::{AttestationRow, EvidenceRow, Store, TrustEventRow, TrustScoreRow};
use tokio::sync::mpsc;

use super::{
    Attest, AttestationView, EvidenceView, HISTORY_LENGTH, Trust, TrustDetail, TrustError, TrustEvent, TrustScore,
};
use crate::{IdentityState, NodeEvent};

/// How many observations (strikes, timeouts) may wait for the trust task;
/// beyond that they are dropped (a flood is already being punished).
const OBSERVATION_BUFFER: usize = 4096;

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

/// What the node keeps in memory about trust; the scores are in the store.
#[derive(Debug)]
pub(crate) struct TrustBook {
    /// The parameters.
    pub(crate) config: TrustConfig,
    observations: mpsc::Sender<Observation>,
    /// The receiving end, until the trust task takes it.
    pub(crate) inbox: Mutex<Option<mpsc::Receiver<Observation>>>,
    /// Valid messages per peer since the last flush.
    valid: Mutex<HashMap<PeerId, u32>>,
    /// Requests each peer let time out since the node started.
    timeouts: Mutex<HashMap<PeerId, u32>>,
    /// Which party each known device belongs to; rebuilt after contacts or
    /// the cadre change.
    parties: Mutex<Option<Arc<HashMap<PeerId, Subject>>>>,
    /// Serialises read-change-write of scores.
    update: tokio::sync::Mutex<()>,
    /// Serialises taking attestations: the same one arriving twice at once
    /// (gossip and a contact's share) must give its boost once.
    taking: tokio::sync::Mutex<()>,
}

impl TrustBook {
    pub(crate) fn new(config: TrustConfig) -> TrustBook {
        let (observations, inbox) = mpsc::channel(OBSERVATION_BUFFER);
        TrustBook {
            config,
            observations,
            inbox: Mutex::new(Some(inbox)),
            valid: Mutex::default(),
            timeouts: Mutex::default(),
            parties: Mutex::default(),
            update: tokio::sync::Mutex::new(()),
            taking: tokio::sync::Mutex::new(()),
        }
    }

    /// Counts one valid message of `peer` (applied at the next flush).
    pub(crate) fn valid(&self, peer: PeerId) {
        let mut valid = self.valid.lock().unwrap_or_else(PoisonError::into_inner);
        let count = valid.entry(peer).or_insert(0);
        *count = count.saturating_add(1);
    }

    /// Counts a broken rule against `peer`.
    pub(crate) fn invalid(&self, peer: PeerId, reason: &str) {
        self.observe(peer, ScoreChange::Invalid { count: 1 }, reason);
    }

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

    /// The valid messages counted since the last call, per peer.
    pub(crate) fn take_valid(&self) -> HashMap<PeerId, u32> {
        std::mem::take(&mut *self.valid.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Forgets who the devices are; the next look-up reads the cards again.
    pub(crate) fn forget_parties(&self) {
        *self.parties.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Orders `peers` so that the ones that failed us least come first
    /// (strikes and timeouts since the node started); ties keep their order.
    pub(crate) fn order_by_failures(&self, peers: &mut [PeerId], strikes: &HashMap<PeerId, u32>) {
        let timeouts = self.timeouts.lock().unwrap_or_else(PoisonError::into_inner);
        peers.sort_by_key(|peer| {
            strikes
                .get(peer)
                .copied()
                .unwrap_or(0)
                .saturating_add(timeouts.get(peer).copied().unwrap_or(0))
        });
    }
}

/// The wall clock as a timestamp.
pub(crate) fn now() -> Timestamp {
    Timestamp::from_millis(crate::node::unix_millis())
}

fn ms(at: Timestamp) -> i64 {
    i64::try_from(at.as_millis()).unwrap_or(i64::MAX)
}

fn unms(at: i64) -> u64 {
    u64::try_from(at).unwrap_or(0)
}

/// The name of an event kind in the store.
fn kind_of(change: ScoreChange) -> (&'static str, u32) {
    match change {
        ScoreChange::Valid { count } => ("valid", count),
        ScoreChange::Invalid { count } => ("invalid", count),
        ScoreChange::Timeout { count } => ("timeout", count),
        ScoreChange::Evidence => ("evidence", 1),
        ScoreChange::Attested { .. } => ("attested", 1),
    }
}

/// The outcome of taking an attestation or evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taken {
    /// New here, kept, scores moved.
    New,
    /// Known already (or older than the one kept): nothing changed.
    Known,
    /// Valid but about parties this node has nothing to do with: not kept.
    Ignored,
}

impl Trust {
    fn book(&self) -> &TrustBook {
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

    /// A subject's score state now, decayed, and whether it is convicted.
    async fn state_of(&self, store: &Store, subject: &str, now: Timestamp) -> Result<(ScoreState, bool), TrustError> {
        let config = &self.book().config;
        Ok(match store.trust_score(subject).await? {
            Some(row) => {
                let state = ScoreState {
                    value: row.score,
                    at: Timestamp::from_millis(unms(row.at_ms)),
                };
                let target = if row.convicted { 0.0 } else { config.start };
                (state.at(now, target, config), row.convicted)
            }
            None => (ScoreState::fresh(now, config), false),
        })
    }

    /// The score of `subject` now.
    pub(crate) async fn score_now(&self, subject: &str) -> Result<f64, TrustError> {
        let store = self.node.running_store().await?;
        Ok(self.state_of(&store, subject, now()).await?.0.value)
    }

    /// Moves `subject`'s score by `change` now, keeping the event with its
    /// reason; `convict` marks the subject as named by evidence. Returns
    /// the score after.
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
            let (state, convicted) = self.state_of(&store, subject, now).await?;
            let convicted = convicted || convict;
            let target = if convicted { 0.0 } else { config.start };
            let after = state.changed(change, now, target, &config);
            let (kind, count) = kind_of(change);
            store
                .save_trust(
                    &[TrustScoreRow {
                        subject: subject.to_owned(),
                        score: after.value,
                        at_ms: ms(after.at),
                        convicted,
                    }],
                    &[TrustEventRow {
                        id: 0,
                        subject: subject.to_owned(),
                        at_ms: ms(now),
                        kind: kind.to_owned(),
                        count: i64::from(count),
                        delta: change.delta(&config),
                        score: after.value,
                        reason: reason.to_owned(),
                    }],
                )
                .await?;
            after.value
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
    /// per subject.
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
            let reason = if count == 1 {
                "a valid message".to_owned()
            } else {
                format!("{count} valid messages")
            };
            if let Err(error) = self
                .change(&subject, ScoreChange::Valid { count }, &reason, false)
                .await
            {
                tracing::debug!(%subject, "valid messages were not counted: {error}");
            }
        }
    }

    /// Brings the connections of `subject`'s connected peers in line with
    /// its new `score`: their priority for the incoming slots follows it,
    /// and below the disconnect threshold they are closed.
    async fn follow_connections(&self, subject: &str, score: f64) {
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

    /// `peers` ordered by trust: the highest-scored subject first, then the
    /// peer that failed us least. Where the node picks among peers, it
    /// takes them in this order.
    pub async fn rank_peers(&self, peers: Vec<PeerId>) -> Vec<PeerId> {
        let mut keyed = Vec::with_capacity(peers.len());
        for peer in peers {
            let score = match self.subject_of(peer).await.key() {
                Some(subject) => self.score_now(&subject).await.unwrap_or(self.book().config.start),
                None => 1.0,
            };
            keyed.push((peer, score));
        }
        let strikes = self
            .node
            .inner
            .strikes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut order: Vec<PeerId> = keyed.iter().map(|(peer, _)| *peer).collect();
        self.book().order_by_failures(&mut order, &strikes);
        let position: HashMap<PeerId, usize> = order.iter().enumerate().map(|(i, peer)| (*peer, i)).collect();
        keyed.sort_by(|(a, sa), (b, sb)| sb.total_cmp(sa).then_with(|| position.get(a).cmp(&position.get(b))));
        keyed.into_iter().map(|(peer, _)| peer).collect()
    }

    /// Every subject with a score, and every contact, contacts first by
    /// name.
    pub async fn list(&self) -> Result<Vec<TrustScore>, TrustError> {
        let store = self.node.running_store().await?;
        let names = self.names(&store).await?;
        let mut subjects: Vec<String> = store.trust_scores().await?.into_iter().map(|row| row.subject).collect();
        for party in names.keys() {
            if !subjects.contains(party) {
                subjects.push(party.clone());
            }
        }
        let mut scores = Vec::with_capacity(subjects.len());
        for subject in subjects {
            scores.push(self.standing(&store, &subject, &names).await?);
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
        let score = self.standing(&store, &subject, &names).await?;
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
        let attestations = store
            .attestations(Some(&subject))
            .await?
            .into_iter()
            .map(|row| attestation_view(row, &names, own.as_deref()))
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
        Ok(store
            .attestations(None)
            .await?
            .into_iter()
            .map(|row| attestation_view(row, &names, own.as_deref()))
            .collect())
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

    /// Signs an attestation with the party key, keeps it, and hands it to
    /// contacts and the gossip mesh.
    pub async fn attest(&self, attest: Attest) -> Result<AttestationView, TrustError> {
        let subject: PartyId = attest
            .party_id
            .trim()
            .parse()
            .map_err(|_| TrustError::BadSubject(attest.party_id.chars().take(100).collect()))?;
        let kind = AttestationKind::from_name(attest.kind.trim()).ok_or_else(|| {
            TrustError::Invalid(format!(
                "{:?} is not a kind of attestation: use identity, trade or service.",
                attest.kind.chars().take(40).collect::<String>()
            ))
        })?;
        if !attest.score.is_finite() || !(0.0..=1.0).contains(&attest.score) {
            return Err(TrustError::Invalid("The score is a number from 0 to 1.".into()));
        }
        if !(1..=366).contains(&attest.valid_days) {
            return Err(TrustError::Invalid("An attestation counts for 1 to 366 days.".into()));
        }
        let identity = self.node.identity();
        if let IdentityState::Member { display_name, .. } = identity.state().await? {
            return Err(TrustError::Node(
                crate::IdentityError::NotTheMainDevice { display_name }.into(),
            ));
        }
        let party_key = identity.party_key().await?;
        let attester = PartyId::new(party_key.public());
        if attester == subject {
            return Err(TrustError::Invalid("You cannot attest yourself.".into()));
        }
        let now = now();
        let record = Attestation {
            attester,
            subject,
            kind,
            score_milli: Attestation::milli_of(attest.score),
            issued_at: now,
            expires_at: now.plus_millis(u64::from(attest.valid_days) * 24 * 60 * 60 * 1000),
        };
        let signed = Signed::sign(record, &party_key);
        drop(party_key);
        self.take_attestation(signed.bytes(), None)
            .await
            .map_err(|e| TrustError::Refused(e.to_string()))?;
        tracing::info!(subject = %subject, "attested");
        self.share_attestation(signed.bytes().to_vec());
        let store = self.node.running_store().await?;
        let names = self.names(&store).await?;
        let row = store
            .attestation(&attester.to_string(), &subject.to_string())
            .await?
            .ok_or_else(|| TrustError::Refused("The attestation was not kept.".into()))?;
        Ok(attestation_view(row, &names, Some(&attester.to_string())))
    }

    /// Takes a signed attestation (made here, from a contact, or from
    /// gossip through `via`): verified, kept when it concerns parties this
    /// node deals with, and its boost applied to the subject's score.
    pub(crate) async fn take_attestation(&self, bytes: &[u8], via: Option<PeerId>) -> Result<Taken, AttestationError> {
        let now = now();
        let signed = Attestation::verify(bytes, now)?;
        let record = signed.record();
        let (attester, subject) = (record.attester.to_string(), record.subject.to_string());
        let Ok(store) = self.node.running_store().await else {
            return Ok(Taken::Ignored);
        };
        let _one_at_a_time = self.book().taking.lock().await;
        let kept = store.attestation(&attester, &subject).await.ok().flatten();
        if kept.as_ref().is_some_and(|k| k.issued_at_ms >= ms(record.issued_at)) {
            return Ok(Taken::Known);
        }
        let own = self.own_party().await;
        let by_me = Some(record.attester) == own;
        let about_me = Some(record.subject) == own;
        let attester_contact = is_contact(&store, &attester).await;
        let recommender = if by_me {
            1.0
        } else {
            self.score_now(&attester).await.unwrap_or(self.book().config.start)
        };
        let counts = by_me || counts_as_recommender(recommender, attester_contact, &self.book().config);
        let relevant = by_me
            || about_me
            || attester_contact
            || is_contact(&store, &subject).await
            || (counts && store.trust_score(&attester).await.ok().flatten().is_some());
        if !relevant {
            return Ok(Taken::Ignored);
        }
        let new_boost = if counts && !about_me {
            boost(record.score(), recommender, &self.book().config)
        } else {
            0.0
        };
        let row = AttestationRow {
            attester: attester.clone(),
            subject: subject.clone(),
            id: signed.id().0,
            kind: i64::try_from(record.kind.code()).unwrap_or(i64::MAX),
            score_milli: i64::from(record.score_milli),
            issued_at_ms: ms(record.issued_at),
            expires_at_ms: ms(record.expires_at),
            record: signed.bytes().to_vec(),
            received_at_ms: ms(now),
            boost: new_boost,
        };
        if let Err(error) = store.save_attestation(&row).await {
            tracing::warn!("an attestation was not kept: {error}");
            return Ok(Taken::Ignored);
        }
        let delta = new_boost - kept.map_or(0.0, |k| k.boost);
        let names = self.names(&store).await.unwrap_or_default();
        let who = names.get(&attester).cloned().unwrap_or_else(|| short_party(&attester));
        tracing::info!(%attester, %subject, via = ?via, boost = new_boost, "attestation kept");
        if delta != 0.0 {
            let reason = format!(
                "attestation by {who}: {} at {:.2}, recommender at {recommender:.3}",
                record.kind.name(),
                record.score()
            );
            if let Err(error) = self
                .change(&subject, ScoreChange::Attested { boost: delta }, &reason, false)
                .await
            {
                tracing::warn!(%subject, "an attestation's boost was not applied: {error}");
            }
        } else {
            let _ = self.node.inner.events.send(NodeEvent::TrustChanged { subject });
        }
        Ok(Taken::New)
    }

    /// Takes evidence (found here, or from `via`): verified alone, kept
    /// once per offence, and the culprit's score dropped sharply.
    pub(crate) async fn take_evidence(&self, bytes: &[u8], via: Option<PeerId>) -> Result<Taken, EvidenceError> {
        let evidence = Evidence::from_bytes(bytes)?;
        let finding = evidence.verify()?;
        let node_peer = tallymesh_net::peer_id_of_ed25519(finding.node.as_bytes());
        let Ok(store) = self.node.running_store().await else {
            return Ok(Taken::Ignored);
        };
        let row = EvidenceRow {
            offence: finding.offence.0,
            id: evidence.id().0,
            kind: finding.kind.name().to_owned(),
            node: *finding.node.as_bytes(),
            party: finding.party.map(|p| p.to_string()),
            summary: finding.summary.clone(),
            evidence: evidence.bytes().to_vec(),
            reported_by: via.map(|p| p.to_string()),
            received_at_ms: ms(now()),
        };
        match store.save_evidence(&row).await {
            Ok(true) => {}
            Ok(false) => return Ok(Taken::Known),
            Err(error) => {
                tracing::warn!("evidence was not kept: {error}");
                return Ok(Taken::Ignored);
            }
        }
        let subject = match (finding.party, node_peer) {
            (Some(party), _) => Some(Subject::Party(party)),
            (None, Some(peer)) => Some(self.subject_of(peer).await),
            (None, None) => None,
        };
        let own = self.own_party().await;
        tracing::warn!(party = ?finding.party, via = ?via, "evidence kept: {}", finding.summary);
        if let Some(key) = subject
            .and_then(|s| s.key())
            .filter(|key| own.map(|o| o.to_string()).as_deref() != Some(key.as_str()))
        {
            let reason = format!("evidence: {}", finding.summary);
            if let Err(error) = self.change(&key, ScoreChange::Evidence, &reason, true).await {
                tracing::warn!(subject = %key, "evidence did not lower the score: {error}");
            }
        }
        let _ = self.node.inner.events.send(NodeEvent::EvidenceKept {
            offence: tallymesh_core::hash::hex(&row.offence),
            party_id: row.party.clone(),
            summary: row.summary.clone(),
        });
        Ok(Taken::New)
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

    /// A subject's standing now.
    async fn standing(
        &self,
        store: &Store,
        subject: &str,
        names: &HashMap<String, String>,
    ) -> Result<TrustScore, TrustError> {
        let config = self.book().config;
        let now = now();
        let (state, convicted) = self.state_of(store, subject, now).await?;
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
        let trend = trend(state.value, then);
        let statistics = statistics(stats);
        Ok(TrustScore {
            subject: subject.to_owned(),
            party_id: party.map(|p| p.to_string()),
            display_name: names.get(subject).cloned(),
            is_contact: store.contact(subject).await?.is_some(),
            score: state.value,
            trend,
            statistics,
            kept: stats.kept,
            broken: stats.broken,
            reputation: reputation(state.value, trend, statistics, &config),
            convicted,
            updated_at_ms: row.map_or(0, |r| unms(r.at_ms)),
        })
    }

    /// Contacts' and this party's names by party id.
    async fn names(&self, store: &Store) -> Result<HashMap<String, String>, TrustError> {
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

fn attestation_view(row: AttestationRow, names: &HashMap<String, String>, own: Option<&str>) -> AttestationView {
    let kind = u64::try_from(row.kind).map_or_else(|_| "unknown".to_owned(), |k| AttestationKind::from_code(k).name());
    AttestationView {
        id: tallymesh_core::hash::hex(&row.id),
        attester_name: names.get(&row.attester).cloned(),
        subject_name: names.get(&row.subject).cloned(),
        by_me: own == Some(row.attester.as_str()),
        attester: row.attester,
        subject: row.subject,
        kind,
        score: f64::from(u16::try_from(row.score_milli.clamp(0, 1000)).unwrap_or(0)) / 1000.0,
        issued_at_ms: unms(row.issued_at_ms),
        expires_at_ms: unms(row.expires_at_ms),
        expired: unms(row.expires_at_ms) <= now().as_millis(),
        boost: row.boost,
    }
}

async fn is_contact(store: &Store, party: &str) -> bool {
    store.contact(party).await.ok().flatten().is_some()
}

/// A score as the swarm's priority for incoming slots: 0 to 255.
fn priority_of(score: f64) -> u8 {
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
fn short_party(party: &str) -> String {
    party.parse::<PartyId>().map_or_else(
        |_| party.chars().take(16).collect(),
        |p| format!("…{}", p.fingerprint()),
    )
}
