-- End-to-end encrypted chat (docs/protocol/chat.md).
--
-- Olm and Megolm state is kept only as vodozemac pickles encrypted with
-- the chat pickle key, which lives in the keystore, never here.

-- This device's Olm account (identity keys, one-time keys).
CREATE TABLE chat_account (
    slot INTEGER PRIMARY KEY NOT NULL CHECK (slot = 1),
    pickle TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- Olm sessions with other devices, by the other device's Curve25519
-- identity key.
CREATE TABLE chat_sessions (
    identity_key BLOB NOT NULL CHECK (length(identity_key) = 32),
    session_id TEXT NOT NULL,
    pickle TEXT NOT NULL,
    last_used_ms INTEGER NOT NULL,
    PRIMARY KEY (identity_key, session_id)
) STRICT;

-- Our Megolm session per group conversation, and the identity keys of the
-- devices its room key was given to (32 bytes each, concatenated).
CREATE TABLE chat_group_outbound (
    conversation BLOB PRIMARY KEY NOT NULL CHECK (length(conversation) = 16),
    pickle TEXT NOT NULL,
    shared_with BLOB NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- Other devices' Megolm sessions, by the sending device's identity key.
CREATE TABLE chat_group_inbound (
    sender_key BLOB NOT NULL CHECK (length(sender_key) = 32),
    session_id TEXT NOT NULL,
    conversation BLOB NOT NULL CHECK (length(conversation) = 16),
    pickle TEXT NOT NULL,
    PRIMARY KEY (sender_key, session_id)
) STRICT;

-- Conversations: one per contact ('direct'), and groups.
CREATE TABLE chat_conversations (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
    -- The other party of a direct conversation.
    peer_party TEXT,
    -- A group's name and its members' party ids, one per line.
    name TEXT,
    members TEXT,
    created_at_ms INTEGER NOT NULL,
    last_at_ms INTEGER NOT NULL,
    CHECK ((kind = 'direct') = (peer_party IS NOT NULL))
) STRICT;

-- Messages, in order of their ULID ids within a conversation. The body is
-- the message's deterministic CBOR. Status: outgoing 'pending' (not yet
-- taken anywhere), 'held' (by a mailbox of the recipient), 'delivered',
-- 'read'; incoming 'received' (unread) and 'read'.
CREATE TABLE chat_messages (
    conversation BLOB NOT NULL CHECK (length(conversation) = 16),
    id BLOB NOT NULL CHECK (length(id) = 16),
    -- The sending party; NULL for what the node itself notes in a thread.
    sender_party TEXT,
    outgoing INTEGER NOT NULL CHECK (outgoing IN (0, 1)),
    body BLOB NOT NULL,
    sent_at_ms INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'held', 'delivered', 'read', 'received')),
    -- A payment request answered from this node: the chit that paid it.
    paid_chit TEXT,
    -- Whether the "message received" event was handled (persisted events).
    notified INTEGER NOT NULL DEFAULT 1 CHECK (notified IN (0, 1)),
    PRIMARY KEY (conversation, id)
) STRICT;
CREATE INDEX chat_messages_unnotified ON chat_messages (notified) WHERE notified = 0;

-- Items waiting to reach a device, oldest first.
CREATE TABLE chat_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    to_peer TEXT NOT NULL,
    to_party TEXT NOT NULL,
    -- 1: the encoded sealed item; 0: the event's plaintext, to be sealed
    -- with an Olm session once one with the device exists.
    sealed INTEGER NOT NULL CHECK (sealed IN (0, 1)),
    item BLOB NOT NULL,
    -- The message it carries, if it carries one (for its status).
    conversation BLOB,
    message BLOB,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) STRICT;

-- The mailbox: ciphertext held for other devices of this party. Nothing
-- here can be read without the receiving device's keys.
CREATE TABLE chat_mailbox (
    for_peer TEXT NOT NULL,
    item_id BLOB NOT NULL CHECK (length(item_id) = 16),
    item BLOB NOT NULL,
    from_peer TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (for_peer, item_id)
) STRICT;

-- Signed one-time (and fallback) keys of other devices of this party, to
-- hand out once each (fallback keys: again and again).
CREATE TABLE chat_mailbox_keys (
    for_peer TEXT NOT NULL,
    key BLOB NOT NULL,
    fallback INTEGER NOT NULL CHECK (fallback IN (0, 1)),
    received_at_ms INTEGER NOT NULL,
    PRIMARY KEY (for_peer, key)
) STRICT;

-- Devices of this party that hold our mail, and where they listen.
CREATE TABLE chat_mailboxes (
    peer_id TEXT PRIMARY KEY NOT NULL,
    addresses TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- Items this device took (decrypted and kept), so a second copy — a retry
-- after a lost answer, or the same item from a mailbox — is answered as
-- taken without decrypting it again.
CREATE TABLE chat_seen (
    item_id BLOB PRIMARY KEY NOT NULL CHECK (length(item_id) = 16),
    seen_at_ms INTEGER NOT NULL
) STRICT;
