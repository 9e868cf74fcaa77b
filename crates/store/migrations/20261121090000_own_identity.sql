-- The party this node acts for, and this device's certificate: public facts
-- only. The party secret and the device's node key live in the keystore
-- (OS keychain or encrypted key file), never in this database.
CREATE TABLE own_identity (
    -- One row at most: a node acts for one party.
    slot INTEGER PRIMARY KEY NOT NULL CHECK (slot = 1),
    -- The party id, as its did:key text.
    party_id TEXT NOT NULL,
    -- The name the party shows on its contact card.
    display_name TEXT NOT NULL,
    -- When the party was created, as far as this node knows (ms since the
    -- Unix epoch); a party restored from a phrase gets the restore time.
    created_at_ms INTEGER NOT NULL,
    -- How this node got the party.
    origin TEXT NOT NULL CHECK (origin IN ('created', 'phrase', 'backup')),
    -- When this node got the party.
    added_at_ms INTEGER NOT NULL,
    -- The device certificate the party key signed for this node's peer id,
    -- as signed bytes (a `device` record), and that peer id.
    device_peer_id TEXT,
    device_certificate BLOB,
    updated_at_ms INTEGER NOT NULL,
    CHECK ((device_peer_id IS NULL) = (device_certificate IS NULL))
) STRICT;
