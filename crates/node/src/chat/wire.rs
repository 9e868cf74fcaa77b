//! Answering `/tallymesh/chat/1`: taking items for this device, holding
//! them for the party's other devices, handing out keys and held items.

use tallymesh_core::PartyId;
use tallymesh_core::device::DeviceCertificate;
use tallymesh_core::record::Signed;
use tallymesh_net::{Multiaddr, PeerId, ProtocolName, RequestProtocol};
use tallymesh_protocol::chat::{
    Body, CHAT_PROTOCOL, ChatEvent, ChatKey, ChatRefusal, ChatRequest, ChatResponse, MAX_ITEMS_PER_FETCH,
    MAX_MAILBOX_ADDRESSES, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, Sealed, SealedItem, direct_conversation,
};
use tallymesh_store::{ChatWrite, ConversationRow, MessageRow};

use super::{Chat, ChatError, MAILBOX_ITEMS_PER_DEVICE, conversation_text, to_i64};
use crate::NodeEvent;
use crate::contacts::now;

/// The chat protocol as the swarm is configured with it.
pub(crate) fn request_protocol(name: ProtocolName) -> RequestProtocol {
    debug_assert_eq!(name.as_str(), CHAT_PROTOCOL);
    RequestProtocol::new(name).with_limits(MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES)
}

/// A refusal with its reason for the program and for people.
pub(crate) type Refused = (ChatRefusal, String);

fn refused(reason: ChatRefusal, message: impl Into<String>) -> Refused {
    (reason, message.into())
}

/// What taking an item did, for the caller to tell once it is on disk.
#[derive(Debug, Default)]
pub(crate) struct Taken {
    /// Messages kept (new) or changed, to tell the window of.
    changed: Vec<([u8; 16], [u8; 16])>,
    /// The new messages as written, each with the place of its write in
    /// the batch: told as they are when the write kept them (not read
    /// back).
    kept: Vec<(MessageRow, usize)>,
    /// New messages from another party: sender, conversation and id, for
    /// the delivery receipts.
    receipts: Vec<(String, [u8; 16], [u8; 16])>,
    /// A typing indicator to tell the window.
    typing: Option<([u8; 16], String, bool)>,
    /// A conversation was made or changed.
    conversations_changed: bool,
    /// One-to-one conversations written with the item, to remember as kept
    /// once they are on disk.
    direct: Vec<ConversationRow>,
    /// Room keys the item carries: group and session key.
    room_keys: Vec<([u8; 16], Vec<u8>)>,
}

impl Chat {
    /// Answers one request of `peer`.
    pub(crate) async fn answer(&self, peer: PeerId, bytes: &[u8]) -> Vec<u8> {
        let request = match ChatRequest::decode(bytes) {
            Ok(request) => request,
            Err(error) => {
                self.node.strike(peer, &format!("an unreadable chat request: {error}"));
                return ChatResponse::refused(ChatRefusal::BadRequest, &error.to_string()).encode();
            }
        };
        let answer = match request {
            ChatRequest::Deliver { to, item } => self.take_delivery(peer, &to, item).await,
            ChatRequest::Claim { device } => self.answer_claim(&device).await,
            ChatRequest::Fetch { keys } => self.answer_fetch(peer, keys).await,
            ChatRequest::Ack { ids } => self.answer_ack(peer, &ids).await,
            ChatRequest::Mailbox { addresses } => self.answer_mailbox(peer, addresses).await,
        };
        match answer {
            Ok(response) => response,
            Err((reason, message)) => ChatResponse::refused(reason, &message),
        }
        .encode()
    }

    /// Whether `peer` is another device of this party.
    pub(crate) async fn is_own_device(&self, peer: &PeerId) -> bool {
        self.node
            .directory()
            .await
            .is_ok_and(|directory| directory.is_own_device(peer))
    }

    async fn take_delivery(&self, peer: PeerId, to: &[u8], item: SealedItem) -> Result<ChatResponse, Refused> {
        let to = PeerId::from_bytes(to).map_err(|_| refused(ChatRefusal::BadRequest, "not a peer id"))?;
        if to == self.node.net().local_peer_id() {
            if self.state().crypto.is_none() {
                return Err(refused(
                    ChatRefusal::NotHere,
                    "This device keeps mail only and does not chat.",
                ));
            }
            self.take_item(peer, item, false).await?;
            return Ok(ChatResponse::Taken { held: false });
        }
        if !self.is_own_device(&to).await {
            return Err(refused(ChatRefusal::NotHere, "That device is not one of this party's."));
        }
        self.hold(peer, to, item).await?;
        Ok(ChatResponse::Taken { held: true })
    }

    /// Keeps an item for `to`, another device of this party: ciphertext
    /// only, until `to` fetches it or it expires.
    async fn hold(&self, peer: PeerId, to: PeerId, item: SealedItem) -> Result<(), Refused> {
        if item.ephemeral {
            return Err(refused(ChatRefusal::NotHere, "A typing indicator is never held."));
        }
        // A mailbox (a member device keeps no contacts) checks only that the
        // sending device is its party's; the receiving device checks more.
        self.sender_of(peer, &item, false).await?;
        let store = self.store().await.map_err(unavailable)?;
        let for_peer = to.to_string();
        let held = store.chat_mailbox_count(&for_peer).await.map_err(unavailable)?;
        if held >= MAILBOX_ITEMS_PER_DEVICE {
            return Err(refused(
                ChatRefusal::MailboxFull,
                "The mailbox holds as much as it will for that device.",
            ));
        }
        let now = crate::node::unix_millis();
        let longest =
            now.saturating_add(u64::try_from(self.state().config.mailbox_hold.as_millis()).unwrap_or(u64::MAX));
        let expires = item.expires_at_ms.min(longest);
        if expires <= now {
            return Err(refused(ChatRefusal::BadRequest, "The item has expired."));
        }
        self.state()
            .writer
            .write(vec![ChatWrite::MailboxPut {
                for_peer: for_peer.clone(),
                item_id: item.id,
                item: item.encode(),
                from_peer: peer.to_string(),
                now_ms: to_i64(now),
                expires_at_ms: to_i64(expires),
            }])
            .await
            .map_err(unavailable)?;
        tracing::debug!(%peer, device = %for_peer, "holding an item for a device of the party");
        Ok(())
    }

    /// The verified certificate of an item's sending device, and its party.
    ///
    /// In this order: the certificate reads; the item's seal is signed by
    /// the device the certificate names and covers this item; the
    /// certificate is signed by the party it names and current; and (with
    /// `contacts_only`) the party is a contact or this party. Each failure
    /// but the last is refused with a strike against `peer`, the one that
    /// handed the item over. A sealed item under a certificate its party
    /// never signed is also handed to trust, which keeps it as evidence
    /// against the device and passes it on.
    async fn sender_of(
        &self,
        peer: PeerId,
        item: &SealedItem,
        contacts_only: bool,
    ) -> Result<(Signed<DeviceCertificate>, PartyId), Refused> {
        let bad_certificate = |reason: String| {
            self.node.strike(
                peer,
                &format!("a chat item whose device certificate does not verify: {reason}"),
            );
            refused(
                ChatRefusal::BadCertificate,
                format!("The sending device's certificate does not verify: {reason}"),
            )
        };
        let certificate = self
            .node
            .inner
            .directory
            .certificate(&item.certificate)
            .map_err(|e| bad_certificate(e.to_string()))?;
        let device = item.check_seal().map_err(|error| {
            self.node
                .strike(peer, &format!("a chat item whose seal does not check out: {error}"));
            refused(
                ChatRefusal::BadRequest,
                format!("The item's seal does not check out: {error}"),
            )
        })?;
        if !certificate.record().names_node(&device) {
            return Err(bad_certificate(
                "the item is sealed by another device than the one it names".into(),
            ));
        }
        if let Err(error) = DeviceCertificate::verify(&certificate, None, now()) {
            let trust = self.node.trust();
            let (seal, bytes) = (item.seal.clone(), item.certificate.clone());
            tokio::spawn(async move { trust.forged_certificate(seal, bytes).await });
            return Err(bad_certificate(error.to_string()));
        }
        let party = certificate.record().party;
        if !contacts_only {
            return Ok((certificate, party));
        }
        let own = self.own_party().await.map_err(unavailable)?;
        let directory = self.node.directory().await.map_err(unavailable)?;
        if party != own && !directory.is_contact(&party) {
            return Err(refused(ChatRefusal::NotAContact, "The sending party is not a contact."));
        }
        Ok((certificate, party))
    }

    /// Decrypts and keeps an item for this device; what it did is told once
    /// it is on disk. A message handed over directly needs no delivery
    /// receipt (the answer tells its sender); one `from_mailbox` gets one.
    pub(crate) async fn take_item(&self, peer: PeerId, item: SealedItem, from_mailbox: bool) -> Result<(), Refused> {
        let store = self.store().await.map_err(unavailable)?;
        let state = self.state();
        if state.seen(&item.id) {
            return Ok(());
        }
        let (certificate, party) = self.sender_of(peer, &item, true).await?;
        let Some(key) = certificate.record().chat_identity_key else {
            self.node.strike(peer, "a chat item from a device without a chat key");
            return Err(refused(
                ChatRefusal::BadCertificate,
                "The sending device has no chat key.",
            ));
        };
        let decrypted = state
            .with_crypto(|crypto| match &item.sealed {
                Sealed::Megolm { session_id, bytes } => crypto
                    .group_decrypt(key, session_id, bytes)
                    .map(|(conversation, plain)| (Some(conversation), plain)),
                olm => crypto.decrypt(key, olm).map(|plain| (None, plain)),
            })
            .map_err(|_| refused(ChatRefusal::NotHere, "This device does not chat."))?;
        let (group, plaintext) = match decrypted {
            Ok(decrypted) => decrypted,
            Err(super::crypto::CryptoError::UnknownGroupSession) => {
                return Err(refused(ChatRefusal::Later, "The group's room key has not arrived yet."));
            }
            Err(error) => {
                self.node
                    .strike(peer, &format!("a chat item that does not decrypt: {error}"));
                return Err(refused(ChatRefusal::Undecryptable, "The item does not decrypt."));
            }
        };
        let events = match ChatEvent::decode_all(&plaintext) {
            Ok(events) => events,
            Err(error) => {
                self.node
                    .strike(peer, &format!("a chat event that does not read: {error}"));
                return Err(refused(
                    ChatRefusal::BadRequest,
                    format!("The event does not read: {error}"),
                ));
            }
        };
        drop(plaintext);
        if let Some(group) = group
            && events.iter().any(|event| event.conversation() != &group)
        {
            self.node
                .strike(peer, "a group message that names another conversation");
            return Err(refused(
                ChatRefusal::BadRequest,
                "The message names another conversation.",
            ));
        }
        let own = self.own_party().await.map_err(unavailable)?;
        // Every event of the item, in its order, in one batch: one refused
        // refuses the item.
        let mut writes = Vec::new();
        let mut taken = Taken::default();
        for event in events {
            self.apply(&store, &own, &party, event, &mut writes, &mut taken).await?;
        }
        if !from_mailbox {
            taken.receipts.clear();
        }
        let seen_at = to_i64(crate::node::unix_millis());
        writes.push(ChatWrite::Seen {
            item_id: item.id,
            now_ms: seen_at,
        });
        // What the events changed and the room keys they carry, in one
        // batch; the writer adds the ratchet the decryption moved.
        let pending = state
            .with_crypto(|crypto| {
                for (conversation, session_key) in &taken.room_keys {
                    writes.push(crypto.take_room_key(key, *conversation, session_key)?);
                }
                Ok::<_, super::crypto::CryptoError>(state.writer.submit(writes))
            })
            .map_err(|_| refused(ChatRefusal::NotHere, "This device does not chat."))?
            .map_err(|_| refused(ChatRefusal::Undecryptable, "The room key does not read."))?;
        let changed = pending.done().await.map_err(unavailable)?;
        state.keep_seen(item.id, seen_at);
        for row in taken.direct.drain(..) {
            state.keep_direct(row);
        }
        // A copy kept before (a duplicate) is told as it is now, read back.
        taken.kept.retain(|(_, at)| changed.get(*at).copied().unwrap_or(false));
        self.tell(taken).await;
        Ok(())
    }

    /// What an event changes, added to `writes` and `taken`, checked
    /// against the conversation it names and the party that sent it.
    async fn apply(
        &self,
        store: &tallymesh_store::Store,
        own: &PartyId,
        sender: &PartyId,
        event: ChatEvent,
        writes: &mut Vec<ChatWrite>,
        taken: &mut Taken,
    ) -> Result<(), Refused> {
        let now = to_i64(crate::node::unix_millis());
        let from_us = sender == own;
        let known = |row: Option<ConversationRow>| -> Option<ConversationRow> {
            row.filter(|r| r.peer_party.is_some() || r.members.iter().any(|m| *m == sender.to_string()))
        };
        match event {
            ChatEvent::Message {
                conversation,
                id,
                peer,
                body,
            } => {
                if matches!(body, Body::TallyEvent { .. }) {
                    return Err(refused(ChatRefusal::BadRequest, "Tally events are not sent."));
                }
                let direct_with = if from_us {
                    peer.and_then(|p| tallymesh_core::PublicKey::from_bytes(&p).ok())
                        .map(PartyId::new)
                } else {
                    Some(*sender)
                };
                let row = match direct_with {
                    Some(other)
                        if direct_conversation(own.key().as_bytes(), other.key().as_bytes()) == conversation =>
                    {
                        let made = taken.direct.iter().find(|r| r.id == conversation).cloned();
                        match self.state().known_direct(&conversation).or(made) {
                            Some(row) => row,
                            None => {
                                let row = ConversationRow {
                                    id: conversation,
                                    peer_party: Some(other.to_string()),
                                    name: None,
                                    members: Vec::new(),
                                    created_at_ms: now,
                                    last_at_ms: now,
                                };
                                writes.push(ChatWrite::Conversation(row.clone()));
                                taken.conversations_changed = true;
                                taken.direct.push(row.clone());
                                row
                            }
                        }
                    }
                    _ => match known(store.chat_conversation(&conversation).await.map_err(unavailable)?) {
                        Some(row) if row.peer_party.is_none() => row,
                        Some(_) => {
                            return Err(refused(
                                ChatRefusal::BadRequest,
                                "The message names another conversation.",
                            ));
                        }
                        None => return Err(refused(ChatRefusal::Later, "That group is not known here yet.")),
                    },
                };
                if let Body::Payment { request, chit, .. } = &body
                    && !from_us
                    && let Ok(Some(asked)) = store.chat_message(&row.id, request).await
                    && asked.outgoing
                {
                    writes.push(ChatWrite::PaidChit {
                        conversation: row.id,
                        id: *request,
                        chit: tallymesh_core::hash::hex(chit),
                    });
                    taken.changed.push((row.id, *request));
                }
                let sent_at = to_i64(tallymesh_protocol::chat::Ulid::from_bytes(id).millis());
                let message = MessageRow {
                    conversation: row.id,
                    id,
                    sender_party: Some(sender.to_string()),
                    outgoing: from_us,
                    body: body.encode(),
                    sent_at_ms: sent_at,
                    received_at_ms: now,
                    status: if from_us { "delivered" } else { "received" }.to_owned(),
                    paid_chit: None,
                    notified: from_us,
                };
                taken.kept.push((message.clone(), writes.len()));
                writes.push(ChatWrite::Message(message));
                taken.changed.push((row.id, id));
                if !from_us {
                    taken.receipts.push((sender.to_string(), row.id, id));
                }
            }
            ChatEvent::Receipt {
                conversation,
                ids,
                read,
            } => {
                if from_us {
                    return Ok(());
                }
                for id in ids {
                    if let Ok(Some(message)) = store.chat_message(&conversation, &id).await
                        && message.outgoing
                    {
                        writes.push(ChatWrite::Status {
                            conversation,
                            id,
                            status: if read { "read" } else { "delivered" },
                        });
                        taken.changed.push((conversation, id));
                    }
                }
            }
            ChatEvent::Typing { conversation, typing } => {
                if !from_us {
                    taken.typing = Some((conversation, sender.to_string(), typing));
                }
            }
            ChatEvent::RoomKey {
                conversation,
                group,
                session_key,
            } => {
                let members: Vec<String> = group
                    .members
                    .iter()
                    .filter_map(|k| tallymesh_core::PublicKey::from_bytes(k).ok())
                    .map(|k| PartyId::new(k).to_string())
                    .collect();
                if !group.members.contains(sender.key().as_bytes()) || !group.members.contains(own.key().as_bytes()) {
                    return Err(refused(
                        ChatRefusal::BadRequest,
                        "A room key of a group without us or its sender.",
                    ));
                }
                if let Some(existing) = store.chat_conversation(&conversation).await.map_err(unavailable)?
                    && existing.peer_party.is_some()
                {
                    return Err(refused(
                        ChatRefusal::BadRequest,
                        "A room key for a one-to-one conversation.",
                    ));
                }
                writes.push(ChatWrite::Conversation(ConversationRow {
                    id: conversation,
                    peer_party: None,
                    name: Some(group.name.trim().to_owned()),
                    members,
                    created_at_ms: now,
                    last_at_ms: now,
                }));
                taken.conversations_changed = true;
                taken.room_keys.push((conversation, session_key));
            }
        }
        Ok(())
    }

    /// Tells the window what a kept item changed, and sends the delivery
    /// receipt of a new message.
    async fn tell(&self, taken: Taken) {
        let events = &self.node.inner.events;
        if taken.conversations_changed {
            let _ = events.send(NodeEvent::ChatConversationsChanged);
        }
        if let Some((conversation, party_id, typing)) = taken.typing {
            let _ = events.send(NodeEvent::ChatTyping {
                conversation: conversation_text(&conversation),
                party_id,
                typing,
            });
        }
        if !taken.changed.is_empty()
            && let (Ok(store), Ok(names)) = (self.store().await, self.names().await)
        {
            for (conversation, id) in &taken.changed {
                let kept = taken
                    .kept
                    .iter()
                    .find(|(kept, _)| kept.conversation == *conversation && kept.id == *id);
                let row = match kept {
                    Some((kept, _)) => Some(kept.clone()),
                    None => store.chat_message(conversation, id).await.ok().flatten(),
                };
                if let Some(row) = row {
                    let message = self.message_view(&row, &names).await;
                    let _ = events.send(NodeEvent::ChatMessage { message });
                }
            }
        }
        // One delivery receipt per sender and conversation.
        let mut receipts: Vec<(String, [u8; 16], Vec<[u8; 16]>)> = Vec::new();
        for (sender, conversation, id) in taken.receipts {
            match receipts.iter_mut().find(|(s, c, _)| *s == sender && *c == conversation) {
                Some((_, _, ids)) => ids.push(id),
                None => receipts.push((sender, conversation, vec![id])),
            }
        }
        for (sender, conversation, ids) in receipts {
            let event = ChatEvent::Receipt {
                conversation,
                ids,
                read: false,
            };
            if let Err(error) = self.queue_to_parties(&[sender], &event, None, false).await {
                tracing::info!("a delivery receipt was not queued: {error}");
            }
        }
    }

    async fn answer_claim(&self, device: &[u8]) -> Result<ChatResponse, Refused> {
        let device = PeerId::from_bytes(device).map_err(|_| refused(ChatRefusal::BadRequest, "not a peer id"))?;
        let me = self.node.net().local_peer_id();
        if device == me {
            let state = self.state();
            let pending = state
                .with_crypto(|crypto| {
                    let key = crypto.fresh_key(&state.node_key, &me.to_bytes());
                    (key, state.writer.submit(Vec::new()))
                })
                .map_err(|_| refused(ChatRefusal::NotHere, "This device does not chat."))?;
            pending.1.done().await.map_err(unavailable)?;
            return Ok(ChatResponse::Key { key: pending.0 });
        }
        if !self.is_own_device(&device).await {
            return Err(refused(ChatRefusal::NotHere, "That device is not one of this party's."));
        }
        let store = self.store().await.map_err(unavailable)?;
        match store
            .chat_mailbox_take_key(&device.to_string())
            .await
            .map_err(unavailable)?
        {
            Some(key) => Ok(ChatResponse::Key { key }),
            None => Err(refused(ChatRefusal::NoKeys, "No key of that device is held here.")),
        }
    }

    async fn answer_fetch(&self, peer: PeerId, keys: Vec<Vec<u8>>) -> Result<ChatResponse, Refused> {
        if !self.is_own_device(&peer).await {
            return Err(refused(
                ChatRefusal::NotHere,
                "Only the party's own devices fetch from its mailbox.",
            ));
        }
        let store = self.store().await.map_err(unavailable)?;
        let for_peer = peer.to_string();
        if !keys.is_empty() {
            let node_key = crate::ledger::wire::node_key_of(&peer);
            let mut kept = Vec::new();
            for key in keys {
                match Signed::<ChatKey>::from_bytes(&key) {
                    Ok(signed)
                        if Some(signed.signer()) == node_key.as_ref() && signed.record().peer_id == peer.to_bytes() =>
                    {
                        let fallback = signed.record().fallback;
                        kept.push((key, fallback));
                    }
                    _ => {
                        self.node
                            .strike(peer, "a one-time chat key not signed by the device it names");
                        return Err(refused(
                            ChatRefusal::BadRequest,
                            "A key is not signed by the device it names.",
                        ));
                    }
                }
            }
            self.state()
                .writer
                .write(vec![ChatWrite::MailboxKeys {
                    for_peer: for_peer.clone(),
                    keys: kept,
                    now_ms: to_i64(crate::node::unix_millis()),
                }])
                .await
                .map_err(unavailable)?;
        }
        let now = to_i64(crate::node::unix_millis());
        let limit = u32::try_from(MAX_ITEMS_PER_FETCH).unwrap_or(64);
        let (rows, mut more) = store
            .chat_mailbox_items(&for_peer, now, limit)
            .await
            .map_err(unavailable)?;
        let mut items = Vec::with_capacity(rows.len());
        let mut size = 0usize;
        for (id, bytes) in rows {
            // Leave room for the envelope in the answer's limit.
            if size + bytes.len() > MAX_RESPONSE_BYTES - 64 * 1024 {
                more = true;
                break;
            }
            size += bytes.len();
            match SealedItem::decode(&bytes) {
                Ok(item) => items.push(item),
                Err(error) => {
                    tracing::warn!(device = %for_peer, "a held item does not read and is dropped: {error}");
                    let _ = self
                        .state()
                        .writer
                        .write(vec![ChatWrite::MailboxDrop {
                            for_peer: for_peer.clone(),
                            item_id: id,
                        }])
                        .await;
                }
            }
        }
        let keys_held = store.chat_mailbox_key_count(&for_peer).await.map_err(unavailable)?;
        Ok(ChatResponse::Items { items, more, keys_held })
    }

    async fn answer_ack(&self, peer: PeerId, ids: &[[u8; 16]]) -> Result<ChatResponse, Refused> {
        if !self.is_own_device(&peer).await {
            return Err(refused(
                ChatRefusal::NotHere,
                "Only the party's own devices fetch from its mailbox.",
            ));
        }
        let for_peer = peer.to_string();
        let writes = ids
            .iter()
            .map(|id| ChatWrite::MailboxDrop {
                for_peer: for_peer.clone(),
                item_id: *id,
            })
            .collect();
        let dropped = self.state().writer.write(writes).await.map_err(unavailable)?;
        let count = u64::try_from(dropped.iter().filter(|d| **d).count()).unwrap_or(0);
        Ok(ChatResponse::Done { count })
    }

    async fn answer_mailbox(&self, peer: PeerId, addresses: Vec<String>) -> Result<ChatResponse, Refused> {
        if !self.is_own_device(&peer).await {
            return Err(refused(
                ChatRefusal::NotHere,
                "Only the party's own devices hold its mail.",
            ));
        }
        let addresses: Vec<String> = addresses
            .into_iter()
            .filter(|a| a.parse::<Multiaddr>().is_ok())
            .take(MAX_MAILBOX_ADDRESSES)
            .collect();
        let changed = self
            .state()
            .writer
            .write(vec![ChatWrite::Mailbox {
                peer_id: peer.to_string(),
                addresses: addresses.join("\n"),
                now_ms: to_i64(crate::node::unix_millis()),
            }])
            .await
            .map_err(unavailable)?;
        if changed.first().copied().unwrap_or(false) {
            tracing::info!(%peer, "a device of the party holds mail for this one");
            // Contacts learn where the mailbox listens from the party's card.
            let node = self.node.clone();
            tokio::spawn(async move {
                if !matches!(node.identity().state().await, Ok(crate::IdentityState::Ready { .. })) {
                    return;
                }
                let (Ok(parties), Ok(connected)) = (node.device_parties().await, node.net().connected_peers().await)
                else {
                    return;
                };
                for peer in connected.into_iter().filter(|peer| parties.contains_key(peer)) {
                    node.contacts().exchange_cards(peer).await;
                }
            });
        }
        Ok(ChatResponse::Done { count: 0 })
    }
}

fn unavailable(error: impl std::fmt::Display) -> Refused {
    refused(ChatRefusal::Unavailable, error.to_string())
}

impl From<Refused> for ChatError {
    fn from((reason, message): Refused) -> Self {
        ChatError::Node(crate::NodeError::Chat(format!("{message} ({reason:?})")))
    }
}
