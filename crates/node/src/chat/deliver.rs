//! Moving items: the outbox to each device (directly, else to a mailbox of
//! its party), fetching what mailboxes hold for this device, telling the
//! party's devices where this one holds mail, and noting tally events in
//! the partner's thread.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

use tallymesh_net::{Multiaddr, PeerId, RequestError};
use tallymesh_protocol::chat::{Body, ChatRefusal, ChatRequest, ChatResponse, SealedItem};
use tallymesh_store::{ChatWrite, MessageRow, OutboxRow};
use tokio::task::JoinSet;
use zeroize::Zeroizing;

use super::crypto::{ChatCrypto, KEYS_PER_BATCH};
use super::{Chat, Recipient, to_i64};
use crate::node::Inner;
use crate::tallies::TallyChange;
use crate::{Node, NodeEvent};

/// How many items go to one device at once.
const IN_FLIGHT_PER_DEVICE: usize = 32;

/// How often the outbox is tried when nothing wakes it.
const OUTBOX_EVERY: Duration = Duration::from_secs(3);

/// How often connected mailboxes are asked for held items.
const FETCH_EVERY: Duration = Duration::from_secs(5);

/// What became of one outbox item.
enum Outcome {
    /// The device took it.
    Taken,
    /// A mailbox of its party holds it.
    Held,
    /// Refused for good: dropped from the outbox.
    Refused,
    /// Not now: tried again later.
    Later,
}

/// Tries the outbox whenever something is queued, and every few seconds.
pub(crate) async fn deliver(node: Weak<Inner>) {
    loop {
        let Some(inner) = node.upgrade() else {
            break;
        };
        let wake = Arc::clone(&inner.chat.outbox);
        let chat = Node { inner }.chat();
        let woken = wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if let Err(error) = chat.deliver_outbox().await {
            tracing::debug!("the chat outbox could not be tried: {error}");
        }
        drop(chat);
        tokio::select! {
            () = woken => {}
            () = tokio::time::sleep(OUTBOX_EVERY) => {}
        }
    }
}

/// Keeps in touch with the mailboxes of this party's other devices: drops
/// expired items, and fetches what is held for this device.
pub(crate) async fn keep_mailboxes(node: Weak<Inner>) {
    let mut round: u64 = 0;
    loop {
        {
            let Some(inner) = node.upgrade() else {
                break;
            };
            let chat = Node { inner }.chat();
            chat.mailbox_round(round).await;
        }
        round = round.wrapping_add(1);
        tokio::time::sleep(FETCH_EVERY).await;
    }
}

/// Notes what happens on a tally in the thread with the partner.
pub(crate) async fn note_tallies(node: Weak<Inner>) {
    let mut events = match node.upgrade() {
        Some(inner) => inner.events.subscribe(),
        None => return,
    };
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
        };
        let NodeEvent::TallyChanged { tally, change } = event else {
            continue;
        };
        let what = match change {
            TallyChange::OfferReceived => "offered a tally",
            TallyChange::Accepted => "the tally is open",
            TallyChange::ChitReceived => "a chit arrived",
            TallyChange::InvoiceReceived => "an invoice arrived",
            TallyChange::ChitCertified => "a chit became final",
            TallyChange::ChitRefused => "a chit was refused",
            TallyChange::CounterReceived | TallyChange::Refused | TallyChange::Updated => continue,
        };
        let Some(inner) = node.upgrade() else {
            break;
        };
        let chat = Node { inner }.chat();
        if let Err(error) = chat.note_tally(&tally, what).await {
            tracing::debug!("a tally event was not noted in the thread: {error}");
        }
    }
}

impl Chat {
    /// Notes `what` happened on `tally` in the thread with its partner.
    async fn note_tally(&self, tally: &str, what: &str) -> Result<(), super::ChatError> {
        let detail = self.node.tallies().get(tally).await?;
        let row = self.direct_row(&detail.summary.party_id).await?;
        let tally_id = crate::tallies::parse_id(tally)?;
        let id = self.state().next_id()?;
        let now = to_i64(crate::node::unix_millis());
        let message = MessageRow {
            conversation: row.id,
            id: id.to_bytes(),
            sender_party: None,
            outgoing: false,
            body: Body::TallyEvent {
                tally: tally_id.0,
                what: what.to_owned(),
            }
            .encode(),
            sent_at_ms: now,
            received_at_ms: now,
            status: "read".to_owned(),
            paid_chit: None,
            notified: true,
        };
        self.state()
            .writer
            .write(vec![ChatWrite::Message(message.clone())])
            .await?;
        let names = self.names().await?;
        let message = self.message_view(&message, &names).await;
        let _ = self.node.inner.events.send(NodeEvent::ChatMessage { message });
        Ok(())
    }

    /// The devices of `party` that may hold mail for its devices, with
    /// every address known for them added to the swarm.
    async fn party_devices(&self, party: &str) -> Vec<PeerId> {
        let own = self.own_party().await.map(|p| p.to_string()).unwrap_or_default();
        let net = self.node.net();
        let mut peers = Vec::new();
        if party == own {
            let mailboxes: HashMap<String, Vec<String>> = match self.store().await {
                Ok(store) => store.chat_mailboxes().await.unwrap_or_default().into_iter().collect(),
                Err(_) => HashMap::new(),
            };
            let card_addresses: Vec<String> = match self.node.contacts().my_card(None).await {
                Ok(card) => card.record().addresses.clone(),
                Err(_) => Vec::new(),
            };
            for certificate in self.own_devices().await.unwrap_or_default() {
                let Ok(peer) = PeerId::from_bytes(&certificate.record().peer_id) else {
                    continue;
                };
                let addresses = mailboxes
                    .get(&peer.to_string())
                    .into_iter()
                    .flatten()
                    .chain(card_addresses.iter());
                for address in addresses.filter_map(|a| a.parse::<Multiaddr>().ok()) {
                    let _ = net.add_address(peer, address).await;
                }
                peers.push(peer);
            }
        } else if let Ok(card) = self.node.contacts().card(party).await {
            let addresses: Vec<Multiaddr> = card.record().addresses.iter().filter_map(|a| a.parse().ok()).collect();
            for certificate in &card.record().devices {
                let Ok(peer) = PeerId::from_bytes(&certificate.record().peer_id) else {
                    continue;
                };
                for address in &addresses {
                    let _ = net.add_address(peer, address.clone()).await;
                }
                peers.push(peer);
            }
        }
        peers
    }

    async fn request(&self, peer: PeerId, request: &ChatRequest) -> Result<ChatResponse, Option<RequestError>> {
        let protocol = &self.node.inner.protocols.chat;
        let answer = self
            .node
            .net()
            .request(peer, protocol, request.encode())
            .await
            .map_err(|error| {
                if matches!(error, RequestError::Timeout) {
                    self.node.inner.trust.timeout(peer, "a chat request timed out");
                }
                Some(error)
            })?;
        ChatResponse::decode(&answer).map_err(|error| {
            self.node.strike(peer, &format!("an unreadable chat answer: {error}"));
            None
        })
    }

    /// One round of the outbox: every device with items waiting, at once.
    pub(crate) async fn deliver_outbox(&self) -> Result<(), super::ChatError> {
        let store = self.store().await?;
        let rows = store.chat_outbox(4_096).await?;
        if rows.is_empty() {
            return Ok(());
        }
        let now = to_i64(crate::node::unix_millis());
        let mut writes = Vec::new();
        let mut by_device: Vec<(String, Vec<OutboxRow>)> = Vec::new();
        for row in rows {
            if row.expires_at_ms <= now {
                tracing::info!(device = %row.to_peer, "an item waited too long for its device and was given up");
                writes.push(ChatWrite::OutboxDone { seq: row.seq });
                continue;
            }
            match by_device.iter_mut().find(|(peer, _)| *peer == row.to_peer) {
                Some((_, rows)) => rows.push(row),
                None => by_device.push((row.to_peer.clone(), vec![row])),
            }
        }
        let mut devices = JoinSet::new();
        for (_, rows) in by_device {
            let chat = self.clone();
            devices.spawn(async move { chat.deliver_to(rows).await });
        }
        while let Some(done) = devices.join_next().await {
            if let Ok(mut more) = done {
                writes.append(&mut more);
            }
        }
        if writes.is_empty() {
            return Ok(());
        }
        let changed = self.state().writer.write(writes.clone()).await?;
        let names = self.names().await?;
        for (write, changed) in writes.iter().zip(changed) {
            if let (ChatWrite::Status { conversation, id, .. }, true) = (write, changed)
                && let Ok(Some(row)) = store.chat_message(conversation, id).await
            {
                let message = self.message_view(&row, &names).await;
                let _ = self.node.inner.events.send(NodeEvent::ChatMessage { message });
            }
        }
        Ok(())
    }

    /// Seals what waits unsealed for one device, then hands its items over:
    /// directly, else to a mailbox of its party. Returns the writes that
    /// record what happened.
    async fn deliver_to(&self, mut rows: Vec<OutboxRow>) -> Vec<ChatWrite> {
        let mut writes = Vec::new();
        let Some(first) = rows.first() else {
            return writes;
        };
        let (Ok(peer), party) = (first.to_peer.parse::<PeerId>(), first.to_party.clone()) else {
            writes.extend(rows.iter().map(|r| ChatWrite::OutboxDone { seq: r.seq }));
            return writes;
        };
        let recipient = self
            .recipients(std::slice::from_ref(&party), true)
            .await
            .ok()
            .and_then(|all| all.into_iter().find(|r| r.peer == peer));
        let Some(recipient) = recipient else {
            tracing::info!(%peer, "a device left its party's card or stopped chatting; its items are dropped");
            writes.extend(rows.iter().map(|r| ChatWrite::OutboxDone { seq: r.seq }));
            return writes;
        };
        let mailboxes: Vec<PeerId> = self
            .party_devices(&party)
            .await
            .into_iter()
            .filter(|p| *p != peer)
            .collect();
        if rows.iter().any(|r| !r.sealed) {
            self.seal(&recipient, &mailboxes, &mut rows).await;
        }
        let sealed: Vec<OutboxRow> = rows.into_iter().filter(|r| r.sealed).collect();
        let Some((first, rest)) = sealed.split_first() else {
            return writes;
        };
        let direct = self.hand_over(peer, first).await;
        let mut outcomes = Vec::with_capacity(sealed.len());
        match direct {
            Some(outcome) => {
                outcomes.push((first, outcome));
                let mut in_flight = JoinSet::new();
                let mut queue = rest.iter().cloned();
                loop {
                    while in_flight.len() < IN_FLIGHT_PER_DEVICE {
                        let Some(row) = queue.next() else {
                            break;
                        };
                        let chat = self.clone();
                        in_flight.spawn(async move {
                            let outcome = chat.hand_over(peer, &row).await.unwrap_or(Outcome::Later);
                            (row, outcome)
                        });
                    }
                    match in_flight.join_next().await {
                        Some(Ok((row, outcome))) => writes.extend(record(&row, &outcome)),
                        Some(Err(_)) => {}
                        None => break,
                    }
                }
            }
            None => {
                // The device is away: its party's mailboxes, in turn.
                for row in &sealed {
                    let mut outcome = Outcome::Later;
                    for mailbox in &mailboxes {
                        match self.hand_over_to(*mailbox, peer, row).await {
                            Some(Outcome::Later) | None => continue,
                            Some(other) => {
                                outcome = other;
                                break;
                            }
                        }
                    }
                    outcomes.push((row, outcome));
                }
            }
        }
        for (row, outcome) in outcomes {
            writes.extend(record(row, &outcome));
        }
        writes
    }

    /// Hands one item to `peer` itself; `None` when the device could not be
    /// reached at all.
    async fn hand_over(&self, peer: PeerId, row: &OutboxRow) -> Option<Outcome> {
        self.hand_over_to(peer, peer, row).await
    }

    /// Hands one item for `to` to `via` (the device itself or a mailbox).
    async fn hand_over_to(&self, via: PeerId, to: PeerId, row: &OutboxRow) -> Option<Outcome> {
        let item = match SealedItem::decode(&row.item) {
            Ok(item) => item,
            Err(error) => {
                tracing::warn!(device = %to, "an outbox item does not read and is dropped: {error}");
                return Some(Outcome::Refused);
            }
        };
        let request = ChatRequest::Deliver {
            to: to.to_bytes(),
            item,
        };
        match self.request(via, &request).await {
            Ok(ChatResponse::Taken { held: false }) => Some(Outcome::Taken),
            Ok(ChatResponse::Taken { held: true }) => Some(Outcome::Held),
            Ok(ChatResponse::Refused { reason, message }) => match reason {
                ChatRefusal::Later | ChatRefusal::Unavailable | ChatRefusal::MailboxFull => Some(Outcome::Later),
                ChatRefusal::NotHere if via != to => Some(Outcome::Later),
                _ => {
                    tracing::warn!(device = %to, via = %via, ?reason, "an item was refused: {message}");
                    Some(Outcome::Refused)
                }
            },
            Ok(other) => {
                tracing::info!(device = %to, "an unexpected answer to an item: {other:?}");
                Some(Outcome::Later)
            }
            Err(_) => None,
        }
    }

    /// Seals the unsealed items of one device with an Olm session, making
    /// one with a one-time key claimed from the device or a mailbox of its
    /// party when there is none. Items that cannot be sealed now stay.
    async fn seal(&self, recipient: &Recipient, mailboxes: &[PeerId], rows: &mut [OutboxRow]) {
        let state = self.state();
        let has_session = state.with_crypto(|c| c.has_session(&recipient.key)).unwrap_or(false);
        if !has_session {
            let Some(key) = self.claim(recipient, mailboxes).await else {
                tracing::debug!(device = %recipient.peer, "no one-time key of the device could be had yet");
                return;
            };
            match state.with_crypto(|c| c.start_session(recipient.key, key)) {
                Ok(Ok(())) => {}
                _ => return,
            }
        }
        let Ok(certificate) = self.node.identity().device_certificate().await else {
            return;
        };
        for row in rows.iter_mut().filter(|r| !r.sealed) {
            let mut id = [0u8; 16];
            if getrandom::fill(&mut id).is_err() {
                return;
            }
            let plaintext = Zeroizing::new(std::mem::take(&mut row.item));
            let sealed = state.with_crypto(|c| {
                c.encrypt(recipient.key, &plaintext).map(|(sealed, write)| {
                    let item = SealedItem {
                        id,
                        certificate: certificate.bytes().to_vec(),
                        sealed,
                        expires_at_ms: u64::try_from(row.expires_at_ms).unwrap_or(0),
                        ephemeral: false,
                        seal: Vec::new(),
                    }
                    .sealed_by(&state.node_key)
                    .encode();
                    let pending = state.writer.submit(vec![
                        write,
                        ChatWrite::OutboxSealed {
                            seq: row.seq,
                            item: item.clone(),
                        },
                    ]);
                    (item, pending)
                })
            });
            match sealed {
                Ok(Ok((item, pending))) => {
                    if pending.done().await.is_err() {
                        return;
                    }
                    row.item = item;
                    row.sealed = true;
                }
                _ => return,
            }
        }
    }

    /// A one-time key of the recipient's device, verified: from the device
    /// itself when it answers, else from a mailbox of its party.
    async fn claim(&self, recipient: &Recipient, mailboxes: &[PeerId]) -> Option<[u8; 32]> {
        let node_key = crate::ledger::wire::node_key_of(&recipient.peer)?;
        let request = ChatRequest::Claim {
            device: recipient.peer.to_bytes(),
        };
        for via in std::iter::once(recipient.peer).chain(mailboxes.iter().copied()) {
            match self.request(via, &request).await {
                Ok(ChatResponse::Key { key }) => match ChatCrypto::check_key(&key, &node_key, &recipient.key) {
                    Ok(key) => return Some(key),
                    Err(reason) => {
                        self.node
                            .strike(via, &format!("a chat key that does not check out: {reason}"));
                    }
                },
                Ok(other) => tracing::debug!(device = %recipient.peer, via = %via, "no key: {other:?}"),
                Err(_) => {}
            }
        }
        None
    }

    /// Sends a typing indicator to a connected device; nothing if it fails.
    pub(crate) async fn send_ephemeral(&self, peer: PeerId, item: SealedItem) {
        let request = ChatRequest::Deliver {
            to: peer.to_bytes(),
            item,
        };
        if let Err(error) = self.request(peer, &request).await {
            tracing::trace!(%peer, "a typing indicator did not arrive: {error:?}");
        }
    }

    /// A device of the party connected: tell it where this one holds mail,
    /// fetch what it holds for this one, and try the outbox.
    pub(crate) async fn device_connected(&self, peer: PeerId) {
        self.state().outbox.notify_one();
        if !self.is_own_device(&peer).await {
            return;
        }
        if self.announce(peer).await {
            self.state()
                .announced
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(peer);
        }
        self.fetch_from(peer).await;
    }

    /// Tells `peer`, a device of the party, where this device listens: it
    /// holds mail for it.
    async fn announce(&self, peer: PeerId) -> bool {
        let addresses: Vec<String> = match self.node.net().listen_addrs().await {
            Ok(addresses) => addresses
                .iter()
                .map(ToString::to_string)
                .filter(|a| !a.contains("/0.0.0.0/") && !a.contains("/::/"))
                .take(tallymesh_protocol::chat::MAX_MAILBOX_ADDRESSES)
                .collect(),
            Err(_) => return false,
        };
        match self.request(peer, &ChatRequest::Mailbox { addresses }).await {
            Ok(ChatResponse::Done { .. }) => true,
            other => {
                tracing::debug!(%peer, "a device of the party was not told of this mailbox: {other:?}");
                false
            }
        }
    }

    /// Asks the mailbox `peer` for what it holds for this device, keeps
    /// each item, and acknowledges them so the mailbox drops them; hands
    /// it fresh one-time keys when it runs low.
    pub(crate) async fn fetch_from(&self, peer: PeerId) {
        let state = self.state();
        if state.crypto.is_none() {
            return;
        }
        if !state
            .fetching
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(peer)
        {
            return;
        }
        for _ in 0..64 {
            let held = state
                .keys_held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&peer)
                .copied();
            let keys = if held.is_none_or(|held| held < u64::try_from(KEYS_PER_BATCH / 2).unwrap_or(5)) {
                let me = self.node.net().local_peer_id().to_bytes();
                let made = state.with_crypto(|c| {
                    let (keys, write) = c.key_batch(&state.node_key, &me, KEYS_PER_BATCH);
                    (keys, state.writer.submit(vec![write]))
                });
                match made {
                    Ok((keys, pending)) => match pending.done().await {
                        Ok(_) => keys,
                        Err(_) => Vec::new(),
                    },
                    Err(_) => Vec::new(),
                }
            } else {
                Vec::new()
            };
            let (items, more) = match self.request(peer, &ChatRequest::Fetch { keys }).await {
                Ok(ChatResponse::Items { items, more, keys_held }) => {
                    state
                        .keys_held
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(peer, keys_held);
                    (items, more)
                }
                Ok(other) => {
                    tracing::debug!(%peer, "a mailbox did not hand over items: {other:?}");
                    break;
                }
                Err(_) => break,
            };
            if items.is_empty() {
                break;
            }
            let mut taken = Vec::with_capacity(items.len());
            for item in items {
                let id = item.id;
                match self.take_item(peer, item, true).await {
                    Ok(()) => taken.push(id),
                    Err((ChatRefusal::Later | ChatRefusal::Unavailable, _)) => {}
                    Err((reason, message)) => {
                        tracing::warn!(%peer, ?reason, "a held item was refused: {message}");
                        taken.push(id);
                    }
                }
            }
            let count = taken.len();
            if !taken.is_empty() && self.request(peer, &ChatRequest::Ack { ids: taken }).await.is_err() {
                break;
            }
            tracing::info!(%peer, count, "took items a mailbox held for this device");
            if !more {
                break;
            }
        }
        state
            .fetching
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&peer);
    }

    /// One round of mailbox upkeep.
    async fn mailbox_round(&self, round: u64) {
        let Ok(store) = self.store().await else {
            return;
        };
        let now = crate::node::unix_millis();
        let hold = u64::try_from(self.state().config.mailbox_hold.as_millis()).unwrap_or(u64::MAX);
        match store.chat_expire(to_i64(now.saturating_sub(hold)), to_i64(now)).await {
            Ok(0) => {}
            Ok(dropped) => tracing::info!(dropped, "the mailbox dropped expired items"),
            Err(error) => tracing::debug!("mailbox upkeep failed: {error}"),
        }
        let Ok(own) = self.own_party().await else {
            return;
        };
        let connected: Vec<PeerId> = self.node.net().connected_peers().await.unwrap_or_default();
        let devices = self.party_devices(&own.to_string()).await;
        for peer in devices {
            // Devices not connected are dialled less often.
            if connected.contains(&peer) || round.is_multiple_of(6) {
                let chat = self.clone();
                tokio::spawn(async move {
                    let told = chat
                        .state()
                        .announced
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .contains(&peer);
                    if !told && chat.announce(peer).await {
                        chat.state()
                            .announced
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .insert(peer);
                    }
                    chat.fetch_from(peer).await;
                });
            }
        }
    }
}

/// The writes that record what became of an outbox item.
fn record(row: &OutboxRow, outcome: &Outcome) -> Vec<ChatWrite> {
    let status = match outcome {
        Outcome::Later => return Vec::new(),
        Outcome::Refused => None,
        Outcome::Taken => Some("delivered"),
        Outcome::Held => Some("held"),
    };
    let mut writes = vec![ChatWrite::OutboxDone { seq: row.seq }];
    if let (Some(status), Some((conversation, id))) = (status, row.message) {
        writes.push(ChatWrite::Status {
            conversation,
            id,
            status,
        });
    }
    writes
}
