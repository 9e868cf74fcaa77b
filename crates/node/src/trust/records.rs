//! Attestations and evidence as the node takes them: made here, from a
//! contact, or from gossip — verified, kept when they concern someone this
//! node deals with, and weighed into the scores.

use tallymesh_core::PartyId;
use tallymesh_core::record::Signed;
use tallymesh_core::tally::OpenTally;
use tallymesh_core::trust::{Attestation, AttestationError, AttestationKind, Evidence, EvidenceError, ScoreChange};
use tallymesh_net::PeerId;
use tallymesh_store::{AttestationRow, EvidenceRow, Store, TrustEventRow};

use super::book::{Subject, attestation_view, is_contact, ms, now, short_party};
use super::{Attest, AttestationView, Trust, TrustError};
use crate::{IdentityState, NodeEvent};

/// The most pieces of evidence kept that one peer passed on, and the most
/// found here against one node; beyond that what comes is checked but
/// neither kept nor passed on.
pub(crate) const MAX_EVIDENCE_PER_SENDER: u64 = 16;

/// The outcome of taking an attestation or evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taken {
    /// New here, kept, scores moved.
    New,
    /// Known already (or older than the one kept): nothing changed.
    Known,
    /// Valid but about parties this node has nothing to do with (or, for
    /// evidence, from a peer that passed on too much already): not kept.
    Ignored,
}

impl Trust {
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
        let now = super::book::now();
        let own = attester.to_string();
        self.weighed(&store, &subject.to_string(), now)
            .await?
            .into_iter()
            .find(|w| w.row.attester == own)
            .map(|w| attestation_view(w, &names, Some(&own), now, &self.book().config))
            .ok_or_else(|| TrustError::Refused("The attestation was not kept.".into()))
    }

    /// Takes a signed attestation (made here, from a contact, or from
    /// gossip through `via`): verified, and kept when it concerns parties
    /// this node deals with — made by or about this party or a contact, or
    /// made by a party whose trust was earned here. The subject's score
    /// then carries its boost while it lives (see [`super::book`]).
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
        let own = self.own_party().await.map(|p| p.to_string());
        let by_me = own.as_deref() == Some(attester.as_str());
        let about_me = own.as_deref() == Some(subject.as_str());
        let recommender = self
            .recommender_at(&store, &attester, own.as_deref(), now)
            .await
            .ok()
            .flatten();
        let relevant = by_me
            || about_me
            || recommender.is_some()
            || is_contact(&store, &attester).await
            || is_contact(&store, &subject).await;
        if !relevant {
            return Ok(Taken::Ignored);
        }
        let standing_before = self.standing_at(&store, &subject, now).await.unwrap_or(0.0);
        let given = match recommender {
            Some(recommender) if !about_me => {
                tallymesh_core::trust::boost(record.score(), recommender, &self.book().config)
            }
            _ => 0.0,
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
            boost: given,
        };
        if let Err(error) = store.save_attestation(&row).await {
            tracing::warn!("an attestation was not kept: {error}");
            return Ok(Taken::Ignored);
        }
        tracing::info!(%attester, %subject, via = ?via, boost = given, "attestation kept");
        if !about_me {
            let names = self.names(&store).await.unwrap_or_default();
            let who = names.get(&attester).cloned().unwrap_or_else(|| short_party(&attester));
            let weight = match recommender {
                Some(weight) => format!("recommender at {weight:.3}"),
                None => format!("{who}'s trust is not earned here: it does not count"),
            };
            let reason = format!(
                "attestation by {who}: {} at {:.2}, {weight}",
                record.kind.name(),
                record.score()
            );
            if let Err(error) = self.attested(&store, &subject, standing_before, &reason).await {
                tracing::warn!(%subject, "an attestation's event was not kept: {error}");
            }
        }
        let _ = self.node.inner.events.send(NodeEvent::TrustChanged { subject });
        Ok(Taken::New)
    }

    /// Keeps the event of an attestation taken about `subject`: what the
    /// standing boost gained (or lost, when it replaces a higher one), and
    /// the score after; connections follow the new score.
    async fn attested(
        &self,
        store: &Store,
        subject: &str,
        standing_before: f64,
        reason: &str,
    ) -> Result<(), TrustError> {
        let now = now();
        let standing = self.standing_at(store, subject, now).await?;
        let score = self.score_at(store, subject, now).await?;
        store
            .save_trust(
                &[],
                &[TrustEventRow {
                    id: 0,
                    subject: subject.to_owned(),
                    at_ms: ms(now),
                    kind: "attested".to_owned(),
                    count: 1,
                    delta: standing - standing_before,
                    score,
                    reason: reason.to_owned(),
                }],
            )
            .await?;
        self.follow_connections(subject, score).await;
        Ok(())
    }

    /// Takes evidence (found here, or from `via`): verified alone, and
    /// kept once per offence with the culprit's score dropped sharply —
    /// when it was passed on, only if it names a party or node this node
    /// has a relation with and `via` has not passed on too much already;
    /// when found here (the culprit showed its offence to this node
    /// itself, which is direct experience of it), up to a cap per culprit.
    /// Evidence about strangers leaves nothing behind (no evidence row, no
    /// score).
    pub(crate) async fn take_evidence(&self, bytes: &[u8], via: Option<PeerId>) -> Result<Taken, EvidenceError> {
        let evidence = Evidence::from_bytes(bytes)?;
        let finding = evidence.verify()?;
        let node_peer = tallymesh_net::peer_id_of_ed25519(finding.node.as_bytes());
        let Ok(store) = self.node.running_store().await else {
            return Ok(Taken::Ignored);
        };
        let _one_at_a_time = self.book().taking.lock().await;
        if store
            .evidence()
            .await
            .is_ok_and(|kept| kept.iter().any(|row| row.offence == finding.offence.0))
        {
            return Ok(Taken::Known);
        }
        if via.is_none() {
            // Found here: a culprit minting throwaway certificates for each
            // item it sends still leaves only so much behind.
            let culprit = *finding.node.as_bytes();
            let kept = store.evidence().await.map_or(u64::MAX, |rows| {
                rows.iter()
                    .filter(|row| row.reported_by.is_none() && row.node == culprit)
                    .count() as u64
            });
            if kept >= MAX_EVIDENCE_PER_SENDER {
                tracing::info!("more evidence found here against one node than is kept: not kept");
                return Ok(Taken::Ignored);
            }
        } else if !self.concerns_us(&store, finding.party, &finding.node, node_peer).await {
            tracing::debug!(via = ?via, "evidence about nobody this node deals with: not kept");
            return Ok(Taken::Ignored);
        }
        if let Some(via) = via
            && store
                .evidence_reported_by(&via.to_string())
                .await
                .map_or(true, |count| count >= MAX_EVIDENCE_PER_SENDER)
        {
            tracing::info!(%via, "a peer passed on more evidence than is kept from one sender: not kept");
            return Ok(Taken::Ignored);
        }
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

    /// Whether evidence against `node` (bound to `party`, if any) concerns
    /// this node: the party is this party, a contact, a partner of one of
    /// its tallies, or one it has direct experience of; or the node is one
    /// of this party's devices, a contact's, a node of a tally it serves or
    /// keeps, or a device it has direct experience of.
    async fn concerns_us(
        &self,
        store: &Store,
        party: Option<PartyId>,
        node: &tallymesh_core::PublicKey,
        node_peer: Option<PeerId>,
    ) -> bool {
        if let Some(party) = party {
            let text = party.to_string();
            if self.own_party().await == Some(party)
                || is_contact(store, &text).await
                || store.trust_score(&text).await.ok().flatten().is_some()
                || store
                    .tallies()
                    .await
                    .is_ok_and(|rows| rows.iter().any(|row| row.partner == *party.key().as_bytes()))
            {
                return true;
            }
        }
        if let Some(peer) = node_peer {
            match self.subject_of(peer).await {
                Subject::Own | Subject::Party(_) => return true,
                Subject::Device(peer) => {
                    if store.trust_score(&peer.to_string()).await.ok().flatten().is_some() {
                        return true;
                    }
                }
            }
        }
        serves_node(store, node).await
    }
}

/// Whether `node` is a node of a tally whose ledger this node serves, or of
/// an open tally it keeps.
async fn serves_node(store: &Store, node: &tallymesh_core::PublicKey) -> bool {
    if let Ok(served) = store.ledger_tallies().await {
        for tally in served {
            if let Ok(record) = crate::ledger::GenesisRecord::decode(&tally.genesis)
                && record.genesis.network.contains(node)
            {
                return true;
            }
        }
    }
    if let Ok(rows) = store.tallies().await {
        for row in rows {
            if let Ok(open) = OpenTally::from_bytes(&row.current) {
                let agreed = open.tally();
                if agreed.stock.nodes.contains(node) || agreed.foil.nodes.contains(node) {
                    return true;
                }
            }
        }
    }
    false
}
