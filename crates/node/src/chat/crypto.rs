//! This device's Olm account, its Olm sessions with other devices, and the
//! Megolm sessions of group conversations — all in memory. A change to a
//! Megolm session is returned as a [`ChatWrite`] of its encrypted pickle for
//! the caller to store before anything that depends on it leaves the node.
//! The account and the Olm sessions change with every item, so they are only
//! marked as moved: the chat's writer takes their pickles
//! ([`ChatCrypto::take_moved`]) once per commit, as they are then, after
//! every batch of writes handed over so far — one pickle per session and
//! commit, never older than what the committed items depend on.
//!
//! Pickles are encrypted by vodozemac (AES-256-CBC and HMAC-SHA-256 under
//! keys derived from the 32-byte chat pickle key, which the keystore
//! keeps), so the database never holds a chat key in clear.

use std::collections::{HashMap, HashSet};

use tallymesh_core::SecretKey;
use tallymesh_core::record::Signed;
use tallymesh_protocol::chat::{ChatKey, Sealed};
use tallymesh_store::{ChatWrite, Store};
use thiserror::Error;
use vodozemac::Curve25519PublicKey;
use vodozemac::megolm::{
    GroupSession, GroupSessionPickle, InboundGroupSession, InboundGroupSessionPickle, MegolmMessage, SessionKey,
};
use vodozemac::olm::{
    Account, AccountPickle, Message, OlmMessage, PreKeyMessage, Session, SessionConfig, SessionPickle,
};
use zeroize::Zeroizing;

/// How many one-time keys a batch for a mailbox carries.
pub(crate) const KEYS_PER_BATCH: usize = 10;

/// Why encrypting or decrypting failed. Never carries key material or
/// plaintext.
#[derive(Debug, Error)]
pub(crate) enum CryptoError {
    /// No Olm session with the device yet: a one-time key is needed.
    #[error("no session with that device yet")]
    NoSession,
    /// The encrypted bytes do not read or do not decrypt.
    #[error("the message does not decrypt: {0}")]
    Undecryptable(String),
    /// A group message of a session whose room key has not arrived.
    #[error("the room key of that group session has not arrived")]
    UnknownGroupSession,
    /// A stored pickle does not open with the pickle key.
    #[error("the stored chat state does not open ({0}); was the keystore replaced?")]
    Pickle(String),
    /// A key that is not a valid Curve25519 key.
    #[error("a chat key that is not a Curve25519 key")]
    BadKey,
}

/// The chat state of this device.
pub(crate) struct ChatCrypto {
    pickle_key: Zeroizing<[u8; 32]>,
    account: Account,
    /// Sessions by the other device's identity key, most recently used
    /// first.
    sessions: HashMap<[u8; 32], Vec<Session>>,
    /// Our Megolm session per group, and the identity keys it was shared
    /// with.
    outbound: HashMap<[u8; 16], (GroupSession, Vec<[u8; 32]>)>,
    /// Other devices' Megolm sessions: (sender key, session id) →
    /// (group, session).
    inbound: HashMap<([u8; 32], String), ([u8; 16], InboundGroupSession)>,
    /// Olm sessions changed since their pickles were last taken: the other
    /// device's identity key and the session id.
    moved: HashSet<([u8; 32], String)>,
    /// Whether the account changed since its pickle was last taken.
    account_moved: bool,
}

impl std::fmt::Debug for ChatCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatCrypto")
            .field("identity_key", &tallymesh_core::hash::hex(&self.identity_key()))
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    i64::try_from(crate::node::unix_millis()).unwrap_or(i64::MAX)
}

impl ChatCrypto {
    /// Loads the state from `store`, making the account on the first start
    /// (returned as a write to keep).
    pub(crate) async fn load(
        store: &Store,
        pickle_key: Zeroizing<[u8; 32]>,
    ) -> Result<(ChatCrypto, Vec<ChatWrite>), crate::NodeError> {
        let damaged =
            |e: vodozemac::PickleError| crate::NodeError::Chat(CryptoError::Pickle(e.to_string()).to_string());
        let mut writes = Vec::new();
        let account = match store.chat_account().await? {
            Some(pickle) => Account::from_pickle(AccountPickle::from_encrypted(&pickle, &pickle_key).map_err(damaged)?),
            None => {
                let mut account = Account::new();
                account.generate_fallback_key();
                writes.push(ChatWrite::Account {
                    pickle: account.pickle().encrypt(&pickle_key),
                });
                account
            }
        };
        let mut sessions: HashMap<[u8; 32], Vec<Session>> = HashMap::new();
        for (key, _, pickle) in store.chat_sessions().await? {
            let session = Session::from_pickle(SessionPickle::from_encrypted(&pickle, &pickle_key).map_err(damaged)?);
            sessions.entry(key).or_default().push(session);
        }
        let mut outbound = HashMap::new();
        for (conversation, pickle, shared) in store.chat_groups_outbound().await? {
            let session =
                GroupSession::from_pickle(GroupSessionPickle::from_encrypted(&pickle, &pickle_key).map_err(damaged)?);
            let shared = shared
                .chunks_exact(32)
                .filter_map(|c| <[u8; 32]>::try_from(c).ok())
                .collect();
            outbound.insert(conversation, (session, shared));
        }
        let mut inbound = HashMap::new();
        for (sender, session_id, conversation, pickle) in store.chat_groups_inbound().await? {
            let session = InboundGroupSession::from_pickle(
                InboundGroupSessionPickle::from_encrypted(&pickle, &pickle_key).map_err(damaged)?,
            );
            inbound.insert((sender, session_id), (conversation, session));
        }
        Ok((
            ChatCrypto {
                pickle_key,
                account,
                sessions,
                outbound,
                inbound,
                moved: HashSet::new(),
                account_moved: false,
            },
            writes,
        ))
    }

    /// This device's Curve25519 identity key: what its certificate carries.
    pub(crate) fn identity_key(&self) -> [u8; 32] {
        self.account.curve25519_key().to_bytes()
    }

    /// The pickles of the account and of every Olm session changed since
    /// the last call, as they are now; for the writer to commit after the
    /// writes those changes came with.
    pub(crate) fn take_moved(&mut self) -> Vec<ChatWrite> {
        let now_ms = now_ms();
        let mut writes: Vec<ChatWrite> = self
            .moved
            .drain()
            .filter_map(|(their_key, session_id)| {
                let session = self
                    .sessions
                    .get(&their_key)?
                    .iter()
                    .find(|s| s.session_id() == session_id)?;
                Some(ChatWrite::Session {
                    identity_key: their_key,
                    session_id,
                    pickle: session.pickle().encrypt(&self.pickle_key),
                    now_ms,
                })
            })
            .collect();
        if std::mem::take(&mut self.account_moved) {
            writes.push(ChatWrite::Account {
                pickle: self.account.pickle().encrypt(&self.pickle_key),
            });
        }
        writes
    }

    /// Marks what `taken` (pickles of [`ChatCrypto::take_moved`] whose
    /// commit failed) held as moved again, so the next take writes it as
    /// it is then.
    pub(crate) fn moved_again(&mut self, taken: &[ChatWrite]) {
        for write in taken {
            match write {
                ChatWrite::Session {
                    identity_key,
                    session_id,
                    ..
                } => self.session_moved(*identity_key, session_id.clone()),
                ChatWrite::Account { .. } => self.account_moved = true,
                _ => {}
            }
        }
    }

    fn session_moved(&mut self, their_key: [u8; 32], session_id: String) {
        self.moved.insert((their_key, session_id));
    }

    fn sign_key(&self, node_key: &SecretKey, peer_id: &[u8], key: Curve25519PublicKey, fallback: bool) -> Vec<u8> {
        Signed::sign(
            ChatKey {
                peer_id: peer_id.to_vec(),
                identity_key: self.identity_key(),
                key: key.to_bytes(),
                fallback,
                issued_at_ms: crate::node::unix_millis(),
            },
            node_key,
        )
        .bytes()
        .to_vec()
    }

    /// `count` fresh one-time keys and a fresh fallback key, signed by the
    /// device's node key, for a mailbox to hand out. The account moved: it
    /// must be kept (a commit of the writer) before they leave.
    pub(crate) fn key_batch(&mut self, node_key: &SecretKey, peer_id: &[u8], count: usize) -> Vec<Vec<u8>> {
        self.account.generate_one_time_keys(count);
        self.account.generate_fallback_key();
        let mut keys: Vec<Vec<u8>> = self
            .account
            .one_time_keys()
            .into_values()
            .map(|key| self.sign_key(node_key, peer_id, key, false))
            .collect();
        keys.extend(
            self.account
                .fallback_key()
                .into_values()
                .map(|key| self.sign_key(node_key, peer_id, key, true)),
        );
        self.account.mark_keys_as_published();
        self.account_moved = true;
        keys
    }

    /// One fresh one-time key, for a device that asks this one directly.
    /// The account moved, as with [`ChatCrypto::key_batch`].
    pub(crate) fn fresh_key(&mut self, node_key: &SecretKey, peer_id: &[u8]) -> Vec<u8> {
        self.account.generate_one_time_keys(1);
        let key = self
            .account
            .one_time_keys()
            .into_values()
            .next()
            .map(|key| self.sign_key(node_key, peer_id, key, false));
        self.account.mark_keys_as_published();
        let key = match key {
            Some(key) => key,
            // generate_one_time_keys(1) always makes one; if it did not, the
            // fallback key serves the same purpose.
            None => {
                let fallback = self.account.curve25519_key();
                self.sign_key(node_key, peer_id, fallback, true)
            }
        };
        self.account_moved = true;
        key
    }

    /// Whether a session with the device of `their_key` exists.
    pub(crate) fn has_session(&self, their_key: &[u8; 32]) -> bool {
        self.sessions.get(their_key).is_some_and(|s| !s.is_empty())
    }

    /// Starts an Olm session with the device of `their_key`, using its
    /// one-time key `one_time_key`.
    pub(crate) fn start_session(&mut self, their_key: [u8; 32], one_time_key: [u8; 32]) -> Result<(), CryptoError> {
        let session = self
            .account
            .create_outbound_session(
                SessionConfig::version_1(),
                Curve25519PublicKey::from_bytes(their_key),
                Curve25519PublicKey::from_bytes(one_time_key),
            )
            .map_err(|_| CryptoError::BadKey)?;
        self.session_moved(their_key, session.session_id());
        self.sessions.entry(their_key).or_default().insert(0, session);
        Ok(())
    }

    /// Encrypts `plaintext` for the device of `their_key` with the session
    /// used most recently. The session moved: the item must not leave
    /// before a commit of the writer keeps it.
    pub(crate) fn encrypt(&mut self, their_key: [u8; 32], plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        let session = self
            .sessions
            .get_mut(&their_key)
            .and_then(|s| s.first_mut())
            .ok_or(CryptoError::NoSession)?;
        let message = session.encrypt(plaintext).map_err(|_| CryptoError::BadKey)?;
        let session_id = session.session_id();
        self.session_moved(their_key, session_id);
        Ok(match message {
            OlmMessage::PreKey(m) => Sealed::OlmPreKey(m.to_bytes()),
            OlmMessage::Normal(m) => Sealed::OlmNormal(m.to_bytes()),
        })
    }

    /// Decrypts an Olm message from the device of `their_key`: with a
    /// session already held, or (a pre-key message) with a new one, which
    /// uses up one of our one-time keys. The session (and then the account)
    /// moved.
    pub(crate) fn decrypt(&mut self, their_key: [u8; 32], sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let undecryptable = |e: &dyn std::fmt::Display| CryptoError::Undecryptable(e.to_string());
        let message = match sealed {
            Sealed::OlmPreKey(bytes) => {
                OlmMessage::PreKey(PreKeyMessage::from_bytes(bytes).map_err(|e| undecryptable(&e))?)
            }
            Sealed::OlmNormal(bytes) => OlmMessage::Normal(Message::from_bytes(bytes).map_err(|e| undecryptable(&e))?),
            Sealed::Megolm { .. } => {
                return Err(CryptoError::Undecryptable(
                    "a group message where an Olm one belongs".into(),
                ));
            }
        };
        let sessions = self.sessions.entry(their_key).or_default();
        let known = match &message {
            OlmMessage::PreKey(m) => {
                let id = m.session_id();
                sessions.iter().position(|s| s.session_id() == id)
            }
            OlmMessage::Normal(_) => None,
        };
        let candidates: Vec<usize> = match (&message, known) {
            (_, Some(at)) => vec![at],
            (OlmMessage::Normal(_), None) => (0..sessions.len()).collect(),
            (OlmMessage::PreKey(_), None) => Vec::new(),
        };
        for at in candidates {
            if let Ok(plaintext) = sessions[at].decrypt(&message) {
                let session = sessions.remove(at);
                let session_id = session.session_id();
                sessions.insert(0, session);
                self.session_moved(their_key, session_id);
                return Ok(Zeroizing::new(plaintext));
            }
        }
        let OlmMessage::PreKey(pre_key) = &message else {
            return Err(CryptoError::Undecryptable(
                "no session of that device decrypts it".into(),
            ));
        };
        let created = self
            .account
            .create_inbound_session(
                SessionConfig::version_1(),
                Curve25519PublicKey::from_bytes(their_key),
                pre_key,
            )
            .map_err(|e| undecryptable(&e))?;
        self.session_moved(their_key, created.session.session_id());
        self.account_moved = true;
        self.sessions.entry(their_key).or_default().insert(0, created.session);
        Ok(Zeroizing::new(created.plaintext))
    }

    /// Our Megolm session of `conversation`, made if there is none: its id,
    /// its key at the current index, and the identity keys it was shared
    /// with. A new session comes with its write.
    pub(crate) fn group_session(
        &mut self,
        conversation: [u8; 16],
    ) -> (String, Vec<u8>, Vec<[u8; 32]>, Option<ChatWrite>) {
        let mut write = None;
        if !self.outbound.contains_key(&conversation) {
            let session = GroupSession::new(vodozemac::megolm::SessionConfig::version_1());
            write = Some(ChatWrite::GroupOutbound {
                conversation,
                pickle: session.pickle().encrypt(&self.pickle_key),
                shared_with: Vec::new(),
                now_ms: now_ms(),
            });
            self.outbound.insert(conversation, (session, Vec::new()));
        }
        match self.outbound.get(&conversation) {
            Some((session, shared)) => (
                session.session_id(),
                session.session_key().to_bytes(),
                shared.clone(),
                write,
            ),
            None => (String::new(), Vec::new(), Vec::new(), write),
        }
    }

    /// Notes that the room key of our session of `conversation` was given
    /// to `keys`.
    pub(crate) fn group_shared(&mut self, conversation: [u8; 16], keys: &[[u8; 32]]) -> Option<ChatWrite> {
        let (session, shared) = self.outbound.get_mut(&conversation)?;
        for key in keys {
            if !shared.contains(key) {
                shared.push(*key);
            }
        }
        Some(ChatWrite::GroupOutbound {
            conversation,
            pickle: session.pickle().encrypt(&self.pickle_key),
            shared_with: shared.concat(),
            now_ms: now_ms(),
        })
    }

    /// Encrypts `plaintext` with our Megolm session of `conversation`.
    pub(crate) fn group_encrypt(
        &mut self,
        conversation: [u8; 16],
        plaintext: &[u8],
    ) -> Result<(Sealed, ChatWrite), CryptoError> {
        let (session, shared) = self.outbound.get_mut(&conversation).ok_or(CryptoError::NoSession)?;
        let message = session.encrypt(plaintext);
        let write = ChatWrite::GroupOutbound {
            conversation,
            pickle: session.pickle().encrypt(&self.pickle_key),
            shared_with: shared.concat(),
            now_ms: now_ms(),
        };
        Ok((
            Sealed::Megolm {
                session_id: session.session_id(),
                bytes: message.to_bytes(),
            },
            write,
        ))
    }

    /// Keeps a room key the device of `sender_key` sent over Olm.
    pub(crate) fn take_room_key(
        &mut self,
        sender_key: [u8; 32],
        conversation: [u8; 16],
        session_key: &[u8],
    ) -> Result<ChatWrite, CryptoError> {
        let key = SessionKey::from_bytes(session_key).map_err(|e| CryptoError::Undecryptable(e.to_string()))?;
        let session = InboundGroupSession::new(&key, vodozemac::megolm::SessionConfig::version_1());
        let session_id = session.session_id();
        let write = ChatWrite::GroupInbound {
            sender_key,
            session_id: session_id.clone(),
            conversation,
            pickle: session.pickle().encrypt(&self.pickle_key),
        };
        // A room key already held keeps the session as it is: a replayed
        // key must not move an advanced session back.
        self.inbound
            .entry((sender_key, session_id))
            .or_insert((conversation, session));
        Ok(write)
    }

    /// Decrypts a Megolm message from the device of `sender_key`: the
    /// group it belongs to and the plaintext.
    pub(crate) fn group_decrypt(
        &mut self,
        sender_key: [u8; 32],
        session_id: &str,
        bytes: &[u8],
    ) -> Result<([u8; 16], Zeroizing<Vec<u8>>), CryptoError> {
        let (conversation, session) = self
            .inbound
            .get_mut(&(sender_key, session_id.to_owned()))
            .ok_or(CryptoError::UnknownGroupSession)?;
        let message = MegolmMessage::from_bytes(bytes).map_err(|e| CryptoError::Undecryptable(e.to_string()))?;
        let decrypted = session
            .decrypt(&message)
            .map_err(|e| CryptoError::Undecryptable(e.to_string()))?;
        Ok((*conversation, Zeroizing::new(decrypted.plaintext)))
    }

    /// Checks a signed one-time key of another device: signed by the node
    /// key of the device it names (`node_key`), for that identity key.
    pub(crate) fn check_key(
        signed: &[u8],
        node_key: &tallymesh_core::PublicKey,
        identity_key: &[u8; 32],
    ) -> Result<[u8; 32], String> {
        let key = Signed::<ChatKey>::from_bytes(signed).map_err(|e| e.to_string())?;
        if key.signer() != node_key {
            return Err("the key is not signed by the device it names".into());
        }
        if &key.record().identity_key != identity_key {
            return Err("the key belongs to another identity key than the device's certificate".into());
        }
        Ok(key.record().key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn crypto() -> (tempfile::TempDir, Store, ChatCrypto) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.sqlite")).await.unwrap();
        let (crypto, writes) = ChatCrypto::load(&store, Zeroizing::new([7; 32])).await.unwrap();
        store.chat_write(&writes).await.unwrap();
        (dir, store, crypto)
    }

    fn one_time_key(batch: &[Vec<u8>]) -> [u8; 32] {
        Signed::<ChatKey>::from_bytes(&batch[0]).unwrap().record().key
    }

    #[tokio::test]
    async fn two_devices_talk_both_ways_and_a_restart_keeps_the_sessions() {
        let (_a_dir, a_store, mut alice) = crypto().await;
        let (_b_dir, b_store, mut bob) = crypto().await;
        let node_key = SecretKey::from_seed(&[1; 32]);
        let batch = bob.key_batch(&node_key, b"bob", 3);
        b_store.chat_write(&bob.take_moved()).await.unwrap();
        let key = CryptoCheck::key(&batch[0], &node_key, &bob.identity_key());
        alice.start_session(bob.identity_key(), key).unwrap();
        let sealed = alice.encrypt(bob.identity_key(), b"hello").unwrap();
        a_store.chat_write(&alice.take_moved()).await.unwrap();
        assert!(matches!(sealed, Sealed::OlmPreKey(_)));
        let plain = bob.decrypt(alice.identity_key(), &sealed).unwrap();
        assert_eq!(plain.as_slice(), b"hello");
        b_store.chat_write(&bob.take_moved()).await.unwrap();

        // Bob restarts: his session and account come back from the pickles.
        let (mut bob, _) = ChatCrypto::load(&b_store, Zeroizing::new([7; 32])).await.unwrap();
        let reply = bob.encrypt(alice.identity_key(), b"hi").unwrap();
        b_store.chat_write(&bob.take_moved()).await.unwrap();
        let plain = alice.decrypt(bob.identity_key(), &reply).unwrap();
        assert_eq!(plain.as_slice(), b"hi");
        let third = alice.encrypt(bob.identity_key(), b"again").unwrap();
        assert!(matches!(third, Sealed::OlmNormal(_)));
        assert_eq!(bob.decrypt(alice.identity_key(), &third).unwrap().as_slice(), b"again");
        assert_ne!(one_time_key(&batch), [0; 32]);
    }

    /// The bound that delivery's window of items in flight
    /// (`deliver::IN_FLIGHT_PER_DEVICE`) rests on.
    #[tokio::test]
    async fn a_message_32_behind_the_newest_decrypted_still_reads_but_one_over_40_behind_never_does() {
        let (_a_dir, _a, mut alice) = crypto().await;
        let (_b_dir, _b, mut bob) = crypto().await;
        let node_key = SecretKey::from_seed(&[1; 32]);
        let batch = bob.key_batch(&node_key, b"bob", 2);
        alice.start_session(bob.identity_key(), one_time_key(&batch)).unwrap();
        let opening = alice.encrypt(bob.identity_key(), b"opening").unwrap();
        bob.decrypt(alice.identity_key(), &opening).unwrap();
        let sealed: Vec<Sealed> = (0..50)
            .map(|i| alice.encrypt(bob.identity_key(), format!("m{i}").as_bytes()).unwrap())
            .collect();
        assert_eq!(
            bob.decrypt(alice.identity_key(), &sealed[49]).unwrap().as_slice(),
            b"m49"
        );
        assert_eq!(
            bob.decrypt(alice.identity_key(), &sealed[17]).unwrap().as_slice(),
            b"m17"
        );
        assert!(
            bob.decrypt(alice.identity_key(), &sealed[5]).is_err(),
            "a message 44 behind the newest one read has lost its key"
        );
    }

    #[tokio::test]
    async fn altered_ciphertext_or_another_sender_key_does_not_decrypt() {
        let (_a_dir, _a, mut alice) = crypto().await;
        let (_b_dir, _b, mut bob) = crypto().await;
        let (_m_dir, _m, mallory) = crypto().await;
        let node_key = SecretKey::from_seed(&[1; 32]);
        let batch = bob.key_batch(&node_key, b"bob", 2);
        alice.start_session(bob.identity_key(), one_time_key(&batch)).unwrap();
        let sealed = alice.encrypt(bob.identity_key(), b"pay me").unwrap();
        let Sealed::OlmPreKey(mut bytes) = sealed.clone() else {
            unreachable!()
        };
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(bob.decrypt(alice.identity_key(), &Sealed::OlmPreKey(bytes)).is_err());
        assert!(bob.decrypt(mallory.identity_key(), &sealed).is_err());
        assert_eq!(
            bob.decrypt(alice.identity_key(), &sealed).unwrap().as_slice(),
            b"pay me"
        );
    }

    /// What the writer commits: each moved session once, as it is when
    /// taken, and the account only when it moved; nothing when nothing did.
    #[tokio::test]
    async fn moved_state_is_taken_once_per_session_as_it_is_then() {
        let (_a_dir, a_store, mut alice) = crypto().await;
        let (_b_dir, _b, mut bob) = crypto().await;
        let node_key = SecretKey::from_seed(&[1; 32]);
        assert!(alice.take_moved().is_empty());
        let batch = bob.key_batch(&node_key, b"bob", 2);
        let taken = bob.take_moved();
        assert!(matches!(taken.as_slice(), [ChatWrite::Account { .. }]));
        alice.start_session(bob.identity_key(), one_time_key(&batch)).unwrap();
        let sealed: Vec<Sealed> = (0..5)
            .map(|i| alice.encrypt(bob.identity_key(), format!("m{i}").as_bytes()).unwrap())
            .collect();
        let taken = alice.take_moved();
        assert!(
            matches!(taken.as_slice(), [ChatWrite::Session { identity_key, .. }] if *identity_key == bob.identity_key()),
            "five items through one session make one pickle"
        );
        assert!(alice.take_moved().is_empty());
        // A commit that failed gives them back: taken again, as they are then.
        alice.moved_again(&taken);
        let again = alice.take_moved();
        assert!(
            matches!(again.as_slice(), [ChatWrite::Session { identity_key, .. }] if *identity_key == bob.identity_key())
        );

        // The pickle taken holds the session after all five: a restart from
        // it goes on with the sixth, which bob reads after the first five.
        a_store.chat_write(&taken).await.unwrap();
        let (mut restarted, _) = ChatCrypto::load(&a_store, Zeroizing::new([7; 32])).await.unwrap();
        let sixth = restarted.encrypt(bob.identity_key(), b"m5").unwrap();
        for (i, item) in sealed.iter().enumerate() {
            assert_eq!(
                bob.decrypt(alice.identity_key(), item).unwrap().as_slice(),
                format!("m{i}").as_bytes()
            );
        }
        assert_eq!(bob.decrypt(alice.identity_key(), &sixth).unwrap().as_slice(), b"m5");
        let taken = bob.take_moved();
        assert_eq!(
            taken.len(),
            2,
            "the new inbound session and the account that gave its one-time key"
        );
    }

    #[tokio::test]
    async fn a_group_message_decrypts_with_the_room_key_only() {
        let (_a_dir, _a, mut alice) = crypto().await;
        let (_b_dir, _b, mut bob) = crypto().await;
        let (_id, key, shared, write) = alice.group_session([5; 16]);
        assert!(shared.is_empty() && write.is_some());
        let (sealed, _) = alice.group_encrypt([5; 16], b"to the group").unwrap();
        let Sealed::Megolm { session_id, bytes } = sealed else {
            unreachable!()
        };
        assert!(matches!(
            bob.group_decrypt(alice.identity_key(), &session_id, &bytes),
            Err(CryptoError::UnknownGroupSession)
        ));
        bob.take_room_key(alice.identity_key(), [5; 16], &key).unwrap();
        let (conversation, plain) = bob.group_decrypt(alice.identity_key(), &session_id, &bytes).unwrap();
        assert_eq!((conversation, plain.as_slice()), ([5; 16], b"to the group".as_slice()));
    }

    #[test]
    fn the_chat_state_never_prints_its_keys() {
        let crypto = ChatCrypto {
            pickle_key: Zeroizing::new([0xab; 32]),
            account: Account::new(),
            sessions: HashMap::new(),
            outbound: HashMap::new(),
            inbound: HashMap::new(),
            moved: HashSet::new(),
            account_moved: false,
        };
        let printed = format!("{crypto:?}");
        assert!(!printed.contains(&tallymesh_core::hash::hex(&[0xab; 32])), "{printed}");
        assert!(printed.contains("identity_key"));
    }

    struct CryptoCheck;
    impl CryptoCheck {
        fn key(signed: &[u8], node_key: &SecretKey, identity: &[u8; 32]) -> [u8; 32] {
            ChatCrypto::check_key(signed, &node_key.public(), identity).unwrap()
        }
    }
}
