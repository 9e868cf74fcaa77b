//! Moving items: the outbox to each device (directly, else to a mailbox of
//! its party), fetching what mailboxes hold for this device, telling the
//! party's devices where this one holds mail, and noting tally events in
//! the partner's thread.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

use tallymesh_net::{Multiaddr, PeerId, RequestError};
use tallymesh_protocol::chat::{
    Body, ChatEvent, ChatRefusal, ChatRequest, ChatResponse, MAX_BUNDLE_BYTES, MAX_EVENTS_PER_ITEM, SealedItem,
};
use tallymesh_store::{ChatWrite, MessageRow, OutboxRow};
use tokio::task::JoinSet;
use zeroize::Zeroizing;

use super::crypto::{ChatCrypto, KEYS_PER_BATCH};
use super::{Chat, Recipient, to_i64};
use crate::node::Inner;
use crate::tallies::TallyChange;
use crate::{Node, NodeEvent};

/// How many items of one device may be in flight: each within this many
/// places of the oldest one not answered yet. Olm keeps the keys of at most
/// 40 skipped messages of a chain (vodozemac's `MAX_MESSAGE_KEYS`): an item
/// that reaches the device more than 40 behind the newest one it decrypted
/// can never be read, and is refused for good. A device's items are sealed
/// in the order of the queue and handed over in that order, so this window
/// keeps every gap below that bound, whatever order the answers come in.
const IN_FLIGHT_PER_DEVICE: usize = 32;

/// The most outbox items read for one device at once while delivering.
const FLOW_READ: u32 = 512;

/// How often the outbox is tried when nothing wakes it; also how long a
/// device whose delivery stopped short (away, or items to try later) rests
/// before it is tried again.
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

/// Which items of one device may be in flight: those within `size` places
/// of the oldest one not answered yet. Each answer that moves the oldest
/// place on lets the next item start at once; there are no rounds.
#[derive(Debug)]
struct Window {
    size: usize,
    /// The place of the oldest item not answered yet.
    oldest: usize,
    /// For each place from `oldest` on that started: whether it was answered.
    answered: VecDeque<bool>,
}

impl Window {
    fn new(size: usize) -> Self {
        Window {
            size,
            oldest: 0,
            answered: VecDeque::new(),
        }
    }

    /// Whether one more item may start now.
    fn may_start(&self) -> bool {
        self.answered.len() < self.size
    }

    /// Starts the next item: its place.
    fn start(&mut self) -> usize {
        self.answered.push_back(false);
        self.oldest + self.answered.len() - 1
    }

    /// The item at `place` was answered.
    fn answer(&mut self, place: usize) {
        if let Some(slot) = place.checked_sub(self.oldest).and_then(|i| self.answered.get_mut(i)) {
            *slot = true;
        }
        while self.answered.front() == Some(&true) {
            self.answered.pop_front();
            self.oldest += 1;
        }
    }
}

/// Writes what became of one device's items, a batch at a time: answers
/// that arrive while a batch is written wait and go with the next one, so
/// a busy delivery writes (and reads back for the app's window) many at once,
/// and a quiet one writes each at once.
struct Recorder {
    chat: Chat,
    /// The batch being written: whether it was.
    writing: Option<tokio::task::JoinHandle<bool>>,
    waiting: Vec<ChatWrite>,
    /// Whether every batch so far was written.
    written_all: bool,
}

impl Recorder {
    fn new(chat: Chat) -> Self {
        Recorder {
            chat,
            writing: None,
            waiting: Vec::new(),
            written_all: true,
        }
    }

    fn add(&mut self, writes: Vec<ChatWrite>) {
        self.waiting.extend(writes);
        if self.writing.is_none() {
            self.next();
        }
    }

    fn next(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let chat = self.chat.clone();
        let writes = std::mem::take(&mut self.waiting);
        self.writing = Some(tokio::spawn(async move { chat.record_writes(writes).await }));
    }

    /// Waits until the batch being written is, then starts the next one;
    /// never ends while none is being written. Safe to cancel.
    async fn written(&mut self) {
        let Some(task) = self.writing.as_mut() else {
            return std::future::pending().await;
        };
        let written = task.await.unwrap_or(false);
        self.written_all &= written;
        self.writing = None;
        self.next();
    }

    /// Writes all that waits: whether everything was written.
    async fn finish(mut self) -> bool {
        while self.writing.is_some() {
            self.written().await;
        }
        self.written_all
    }
}

/// Delivers the outbox: one continuous delivery per device with items
/// waiting, started when something is queued and every few seconds.
pub(crate) async fn deliver(node: Weak<Inner>) {
    // Deliveries under way: the device (peer id text) of each task.
    let mut flows: JoinSet<bool> = JoinSet::new();
    let mut flowing: HashMap<tokio::task::Id, String> = HashMap::new();
    // Devices whose delivery stopped short, and since when: they wait
    // `OUTBOX_EVERY` before the next try, so an unreachable device is not
    // tried over and over.
    let mut resting: HashMap<String, tokio::time::Instant> = HashMap::new();
    let mut due = true;
    loop {
        let Some(inner) = node.upgrade() else {
            break;
        };
        let wake = Arc::clone(&inner.chat.outbox);
        let woken = wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if due {
            resting.retain(|_, since| since.elapsed() < OUTBOX_EVERY);
            let busy: HashSet<&String> = flowing.values().chain(resting.keys()).collect();
            let chat = Node { inner }.chat();
            match chat.waiting_devices().await {
                Ok(devices) => {
                    let fresh: Vec<String> = devices.into_iter().filter(|d| !busy.contains(d)).collect();
                    for device in fresh {
                        let chat = chat.clone();
                        let name = device.clone();
                        let task = flows.spawn(async move { chat.flow_to(&name).await });
                        flowing.insert(task.id(), device);
                    }
                }
                Err(error) => tracing::debug!("the chat outbox could not be read: {error}"),
            }
        } else {
            drop(inner);
        }
        tokio::select! {
            () = woken => due = true,
            () = tokio::time::sleep(OUTBOX_EVERY) => due = true,
            Some(ended) = flows.join_next_with_id(), if !flows.is_empty() => {
                let (id, settled) = match ended {
                    Ok((id, settled)) => (id, settled),
                    Err(error) => (error.id(), false),
                };
                if let Some(device) = flowing.remove(&id)
                    && !settled
                {
                    resting.insert(device, tokio::time::Instant::now());
                }
                // A delivery that settled everything may have ended just as
                // more was queued for its device: look again at once.
                due = settled;
            }
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
        let Ok(directory) = self.node.directory().await else {
            return Vec::new();
        };
        let own = directory.own.map(|p| p.to_string()).unwrap_or_default();
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
            for certificate in directory.own_devices().unwrap_or_default() {
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
        } else if let Some(card) = directory.card(party) {
            let addresses: Vec<Multiaddr> = card.record().addresses.iter().filter_map(|a| a.parse().ok()).collect();
            for peer in crate::directory::card_peers(card.record()) {
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

    /// The devices with items waiting in the outbox.
    async fn waiting_devices(&self) -> Result<Vec<String>, super::ChatError> {
        Ok(self.store().await?.chat_outbox_devices().await?)
    }

    /// Up to [`FLOW_READ`] outbox items of `device` queued after `after_seq`,
    /// oldest first, with those whose time is up given up (on disk). `None`
    /// when the outbox could not be read or written.
    async fn outbox_of(&self, device: &str, after_seq: i64) -> Option<Vec<OutboxRow>> {
        let read = async {
            Ok::<_, super::ChatError>(self.store().await?.chat_outbox_of(device, after_seq, FLOW_READ).await?)
        };
        let rows = match read.await {
            Ok(rows) => rows,
            Err(error) => {
                tracing::debug!(device, "the chat outbox could not be read: {error}");
                return None;
            }
        };
        let now = to_i64(crate::node::unix_millis());
        let (rows, expired) = rows.into_iter().partition::<Vec<_>, _>(|row| row.expires_at_ms > now);
        if !expired.is_empty() {
            tracing::info!(
                device,
                count = expired.len(),
                "items waited too long for their device and were given up"
            );
            let writes = expired
                .iter()
                .map(|row| ChatWrite::OutboxDone { seq: row.seq })
                .collect();
            if !self.record_writes(writes).await {
                return None;
            }
        }
        Some(rows)
    }

    /// Writes what became of outbox items and tells the window of the
    /// messages whose status moved, read back in one query. Whether it was
    /// written.
    async fn record_writes(&self, writes: Vec<ChatWrite>) -> bool {
        match self.try_record_writes(writes).await {
            Ok(()) => true,
            Err(error) => {
                tracing::debug!("what became of chat items was not recorded: {error}");
                false
            }
        }
    }

    async fn try_record_writes(&self, writes: Vec<ChatWrite>) -> Result<(), super::ChatError> {
        let changed = self.state().writer.write(writes.clone()).await?;
        let moved: Vec<([u8; 16], [u8; 16])> = writes
            .iter()
            .zip(changed)
            .filter_map(|(write, changed)| match write {
                ChatWrite::Status { conversation, id, .. } if changed => Some((*conversation, *id)),
                _ => None,
            })
            .collect();
        if moved.is_empty() {
            return Ok(());
        }
        let store = self.store().await?;
        let names = self.names().await?;
        let mut rows: HashMap<([u8; 16], [u8; 16]), MessageRow> = store
            .chat_messages_of(&moved)
            .await?
            .into_iter()
            .map(|row| ((row.conversation, row.id), row))
            .collect();
        for key in &moved {
            if let Some(row) = rows.remove(key) {
                let message = self.message_view(&row, &names).await;
                let _ = self.node.inner.events.send(NodeEvent::ChatMessage { message });
            }
        }
        Ok(())
    }

    /// Delivers the outbox items of one device (peer id text), and those
    /// queued for it while this runs: seals what waits unsealed, then hands
    /// the items over directly in queue order, each started as soon as the
    /// [`Window`] lets it, so a new request leaves as each answer arrives;
    /// when the device cannot be reached at first, to a mailbox of its
    /// party. What became of each item is written as answers come, and is
    /// on disk before this returns.
    ///
    /// The first hitch (the device gone, an item to try later, one that
    /// cannot be sealed yet, the store failing) starts nothing more: what
    /// is in flight is answered, and the rest waits for the next try.
    /// Returns whether everything settled (false after a hitch).
    async fn flow_to(&self, device: &str) -> bool {
        let state = self.state();
        // Read before the outbox: an item queued after that read moves it.
        let mut queued = state.queued.load(Ordering::Acquire);
        let Some(rows) = self.outbox_of(device, 0).await else {
            return false;
        };
        let Some(first) = rows.first() else {
            return true;
        };
        let done = |rows: &[OutboxRow]| rows.iter().map(|r| ChatWrite::OutboxDone { seq: r.seq }).collect();
        let (Ok(peer), party) = (device.parse::<PeerId>(), first.to_party.clone()) else {
            return self.record_writes(done(&rows)).await;
        };
        let recipient = self
            .recipients(std::slice::from_ref(&party), true)
            .await
            .ok()
            .and_then(|all| all.into_iter().find(|r| r.peer == peer));
        let Some(recipient) = recipient else {
            tracing::info!(%peer, "a device left its party's card or stopped chatting; its items are dropped");
            return self.record_writes(done(&rows)).await;
        };
        let mailboxes: Vec<PeerId> = self
            .party_devices(&party)
            .await
            .into_iter()
            .filter(|p| *p != peer)
            .collect();
        let mut last_seq = rows.last().map_or(0, |r| r.seq);
        let (mut queue, unsealed) = self.ready(&recipient, &mailboxes, rows).await;
        let mut going = !unsealed;
        let Some(first) = queue.pop_front() else {
            return going;
        };
        let Some(outcome) = self.hand_over(peer, &first).await else {
            // The device is away: its party's mailboxes, in turn.
            queue.push_front(first);
            let writes = self.to_mailboxes(peer, &mailboxes, &queue).await;
            self.record_writes(writes).await;
            return false;
        };
        going &= !matches!(outcome, Outcome::Later);
        let mut recorder = Recorder::new(self.clone());
        recorder.add(record(&first, &outcome));
        let mut window = Window::new(IN_FLIGHT_PER_DEVICE);
        let mut in_flight = JoinSet::new();
        loop {
            while going && window.may_start() {
                if queue.is_empty() {
                    let now_queued = state.queued.load(Ordering::Acquire);
                    if now_queued == queued {
                        break;
                    }
                    queued = now_queued;
                    let Some(rows) = self.outbox_of(device, last_seq).await else {
                        going = false;
                        break;
                    };
                    last_seq = rows.last().map_or(last_seq, |r| r.seq);
                    let (ready, unsealed) = self.ready(&recipient, &mailboxes, rows).await;
                    going &= !unsealed;
                    queue = ready;
                }
                let Some(row) = queue.pop_front() else {
                    break;
                };
                let place = window.start();
                let chat = self.clone();
                in_flight.spawn(async move {
                    let outcome = chat.hand_over(peer, &row).await;
                    (place, row, outcome)
                });
            }
            let done = tokio::select! {
                done = in_flight.join_next() => done,
                () = recorder.written() => continue,
            };
            let Some(done) = done else {
                break;
            };
            let mut writes = Vec::new();
            for done in std::iter::once(done).chain(std::iter::from_fn(|| in_flight.try_join_next())) {
                let Ok((place, row, outcome)) = done else {
                    going = false;
                    continue;
                };
                window.answer(place);
                // `None`: the connection is gone; the next try turns to
                // the mailboxes if need be.
                let outcome = outcome.unwrap_or(Outcome::Later);
                going &= !matches!(outcome, Outcome::Later);
                writes.extend(record(&row, &outcome));
            }
            recorder.add(writes);
        }
        recorder.finish().await && going && queue.is_empty()
    }

    /// Seals what of `rows` waits unsealed (see [`Chat::seal`]); returns
    /// the items ready to hand over, in queue order, and whether any could
    /// not be sealed yet.
    async fn ready(
        &self,
        recipient: &Recipient,
        mailboxes: &[PeerId],
        rows: Vec<OutboxRow>,
    ) -> (VecDeque<OutboxRow>, bool) {
        let (rows, unsealed) = if rows.iter().any(|r| !r.sealed) {
            self.seal(recipient, mailboxes, rows).await
        } else {
            (rows, false)
        };
        (rows.into_iter().filter(|r| r.sealed).collect(), unsealed)
    }

    /// Hands each item for the away device `to` to the first mailbox of its
    /// party that holds it; returns the writes that record what happened.
    async fn to_mailboxes(&self, to: PeerId, mailboxes: &[PeerId], rows: &VecDeque<OutboxRow>) -> Vec<ChatWrite> {
        let mut writes = Vec::new();
        for row in rows {
            let mut outcome = Outcome::Later;
            for mailbox in mailboxes {
                match self.hand_over_to(*mailbox, to, row).await {
                    Some(Outcome::Later) | None => continue,
                    Some(other) => {
                        outcome = other;
                        break;
                    }
                }
            }
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
    /// party when there is none. Their events wait encrypted at rest and
    /// are opened first; one that does not open is given up. Unsealed
    /// items that follow each other in the queue go into one sealed item,
    /// up to [`MAX_EVENTS_PER_ITEM`] events and [`MAX_BUNDLE_BYTES`] of
    /// plaintext: it takes the place of the first and names all their
    /// messages, and the others leave the outbox in the same commit, which
    /// also keeps the ratchet the sealing moved. Returns the items in queue
    /// order, those sealed now in their new form and the others as they
    /// were, and whether any could not be sealed now; nothing when that
    /// commit fails (the store is failing: the next try reads the outbox
    /// again). Opened events live only in wiping buffers.
    async fn seal(&self, recipient: &Recipient, mailboxes: &[PeerId], rows: Vec<OutboxRow>) -> (Vec<OutboxRow>, bool) {
        let state = self.state();
        let has_session = state.with_crypto(|c| c.has_session(&recipient.key)).unwrap_or(false);
        if !has_session {
            let Some(key) = self.claim(recipient, mailboxes).await else {
                tracing::debug!(device = %recipient.peer, "no one-time key of the device could be had yet");
                return (rows, true);
            };
            match state.with_crypto(|c| c.start_session(recipient.key, key)) {
                Ok(Ok(())) => {}
                _ => return (rows, true),
            }
        }
        let Ok(certificate) = self.node.identity().device_certificate().await else {
            return (rows, true);
        };
        let Some(key) = state.outbox_key.as_ref() else {
            return (rows, true);
        };
        // The events waiting encrypted at rest, opened; one that does not
        // open (the chat key was lost and chat started anew, or the bytes
        // changed on disk) can never be sealed and is given up.
        let mut writes = Vec::new();
        let rows: Vec<(OutboxRow, Option<Zeroizing<Vec<u8>>>)> = rows
            .into_iter()
            .filter_map(|row| {
                if row.sealed {
                    return Some((row, None));
                }
                match key.unwrap(&recipient.peer, &row.item) {
                    Some(plaintext) => Some((row, Some(plaintext))),
                    None => {
                        writes.push(ChatWrite::OutboxDone { seq: row.seq });
                        None
                    }
                }
            })
            .collect();
        if !writes.is_empty() {
            tracing::warn!(
                device = %recipient.peer,
                count = writes.len(),
                "items waiting for a device do not open with this device's chat key and are given up"
            );
        }
        let sealed = state.with_crypto(|crypto| {
            let mut out = Vec::with_capacity(rows.len());
            let mut rows = rows.into_iter().peekable();
            let mut stuck = false;
            while let Some(first) = rows.next() {
                // A sealed item has no opened event: it stays as it is.
                let (first, Some(plaintext)) = first else {
                    out.push(first.0);
                    continue;
                };
                if stuck {
                    out.push(first);
                    continue;
                }
                let mut carried = Vec::new();
                let mut size = plaintext.len();
                while carried.len() + 1 < MAX_EVENTS_PER_ITEM
                    && let Some((next, Some(text))) =
                        rows.next_if(|(_, text)| text.as_ref().is_some_and(|t| size + t.len() < MAX_BUNDLE_BYTES))
                {
                    size += text.len();
                    carried.push((next, text));
                }
                match seal_run(
                    crypto,
                    recipient,
                    &certificate,
                    &state.node_key,
                    (first, plaintext),
                    carried,
                ) {
                    Ok((row, run_writes)) => {
                        out.push(row);
                        writes.extend(run_writes);
                    }
                    Err(run) => {
                        stuck = true;
                        out.extend(run);
                    }
                }
            }
            (out, stuck, state.writer.submit(writes))
        });
        let Ok((out, stuck, pending)) = sealed else {
            return (Vec::new(), true);
        };
        if pending.done().await.is_err() {
            return (Vec::new(), true);
        }
        (out, stuck)
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
                    let keys = c.key_batch(&state.node_key, &me, KEYS_PER_BATCH);
                    (keys, state.writer.submit(Vec::new()))
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
        let before = to_i64(now.saturating_sub(hold));
        let expired = store.chat_expire(before, to_i64(now)).await;
        self.state().forget_seen_before(before);
        match expired {
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
    if let Some(status) = status {
        writes.extend(row.messages.iter().map(|&(conversation, id)| ChatWrite::Status {
            conversation,
            id,
            status,
        }));
    }
    writes
}

/// Seals the events of `first` and of the items `carried` after it —
/// unsealed outbox items of one device, consecutive in its queue, each with
/// its opened event — into one item: `first`, now sealed and naming every
/// message of them all, with the writes that keep it and drop the carried
/// ones. The events go as one event, or as a bundle ([`ChatEvent::bundle`]).
/// The items back in queue order, as they were, when they cannot be sealed.
fn seal_run(
    crypto: &mut ChatCrypto,
    recipient: &Recipient,
    certificate: &tallymesh_core::record::Signed<tallymesh_core::device::DeviceCertificate>,
    node_key: &tallymesh_core::SecretKey,
    first: (OutboxRow, Zeroizing<Vec<u8>>),
    carried: Vec<(OutboxRow, Zeroizing<Vec<u8>>)>,
) -> Result<(OutboxRow, Vec<ChatWrite>), Vec<OutboxRow>> {
    let (mut first, event) = first;
    let (carried, events): (Vec<OutboxRow>, Vec<Zeroizing<Vec<u8>>>) = carried.into_iter().unzip();
    let as_they_were = |first, carried: Vec<OutboxRow>| std::iter::once(first).chain(carried).collect();
    let Ok(id) = super::random_id() else {
        return Err(as_they_were(first, carried));
    };
    let sealed = if events.is_empty() {
        crypto.encrypt(recipient.key, &event)
    } else {
        let encoded: Vec<&[u8]> = std::iter::once(&event).chain(&events).map(|e| e.as_slice()).collect();
        let plaintext = Zeroizing::new(ChatEvent::bundle(&encoded));
        crypto.encrypt(recipient.key, &plaintext)
    };
    let Ok(sealed) = sealed else {
        return Err(as_they_were(first, carried));
    };
    let all = || std::iter::once(&first).chain(&carried);
    let expires_at_ms = all().map(|r| r.expires_at_ms).max().unwrap_or(first.expires_at_ms);
    let messages: Vec<_> = all().flat_map(|r| r.messages.iter().copied()).collect();
    let item = SealedItem {
        id,
        certificate: certificate.bytes().to_vec(),
        sealed,
        expires_at_ms: u64::try_from(expires_at_ms).unwrap_or(0),
        ephemeral: false,
        seal: Vec::new(),
    }
    .sealed_by(node_key)
    .encode();
    let mut writes = vec![ChatWrite::OutboxSealed {
        seq: first.seq,
        item: item.clone(),
        messages: messages.clone(),
        expires_at_ms,
    }];
    writes.extend(carried.iter().map(|r| ChatWrite::OutboxDone { seq: r.seq }));
    first.sealed = true;
    first.item = item;
    first.messages = messages;
    first.expires_at_ms = expires_at_ms;
    Ok((first, writes))
}

#[cfg(test)]
mod tests {
    use super::Window;

    #[test]
    fn a_new_item_starts_as_each_answer_arrives_without_waiting_for_the_rest() {
        let mut window = Window::new(4);
        let started: Vec<usize> = (0..4).map(|_| window.start()).collect();
        assert_eq!(started, vec![0, 1, 2, 3]);
        assert!(!window.may_start(), "four in flight fill a window of four");
        window.answer(0);
        assert!(
            window.may_start(),
            "one answer frees one place while three are still in flight"
        );
        assert_eq!(window.start(), 4);
        assert!(!window.may_start());
        window.answer(1);
        assert_eq!(window.start(), 5);
    }

    #[test]
    fn no_item_starts_more_than_the_window_past_the_oldest_unanswered_one() {
        let mut window = Window::new(32);
        for _ in 0..32 {
            window.start();
        }
        for place in 1..32 {
            window.answer(place);
            assert!(
                !window.may_start(),
                "place {place} answered while place 0 is not: nothing more may start"
            );
        }
        window.answer(0);
        let next: Vec<usize> = (0..32).map(|_| window.start()).collect();
        assert_eq!(next, (32..64).collect::<Vec<_>>());
        assert!(!window.may_start());
    }

    #[test]
    fn an_unknown_or_repeated_answer_moves_nothing() {
        let mut window = Window::new(2);
        window.start();
        window.start();
        window.answer(7);
        assert!(!window.may_start());
        window.answer(0);
        window.answer(0);
        assert_eq!(window.start(), 2);
        assert!(!window.may_start());
    }
}
