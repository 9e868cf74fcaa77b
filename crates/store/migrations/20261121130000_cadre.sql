-- The party's cadre: the devices that act for it besides this one.

-- One-time enrollment tokens this node (the party's main device) handed
-- out on enrollment links. Never contact invites: a token here does not
-- redeem as an invite, and an invite does not enroll a device.
CREATE TABLE cadre_tokens (
    -- The random 16-byte token the enrollment link's card carries.
    token BLOB PRIMARY KEY NOT NULL CHECK (length(token) = 16),
    -- At or after this moment (ms) the token is refused.
    expires_at_ms INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    -- When a device was enrolled with it, and which (its peer id): a
    -- token enrolls one device.
    used_at_ms INTEGER,
    used_by TEXT,
    CHECK ((used_at_ms IS NULL) = (used_by IS NULL))
) STRICT;

-- The devices enrolled in this party's cadre, with the certificate the
-- party key signed for each, as signed. Revoked devices stay listed,
-- marked, and drop off the party's card.
CREATE TABLE cadre_devices (
    -- The device's libp2p peer id, as text.
    peer_id TEXT PRIMARY KEY NOT NULL,
    -- The name its certificate gives it.
    name TEXT NOT NULL,
    -- The signed `device` record.
    certificate BLOB NOT NULL,
    enrolled_at_ms INTEGER NOT NULL,
    -- When the party revoked it; NULL while it acts for the party.
    revoked_at_ms INTEGER
) STRICT;

-- On a member device (enrolled in another device's cadre): the party's
-- card as the main device last signed it, exactly as received.
CREATE TABLE member_card (
    slot INTEGER PRIMARY KEY NOT NULL CHECK (slot = 1),
    card BLOB NOT NULL,
    card_issued_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- A node may now hold its party as a member of the party's cadre
-- (origin 'cadre'): SQLite changes a CHECK only by rebuilding the table.
CREATE TABLE own_identity_next (
    slot INTEGER PRIMARY KEY NOT NULL CHECK (slot = 1),
    party_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    -- How this node got the party; 'cadre': enrolled as one of its
    -- devices, without the party secret.
    origin TEXT NOT NULL CHECK (origin IN ('created', 'phrase', 'backup', 'cadre')),
    added_at_ms INTEGER NOT NULL,
    device_peer_id TEXT,
    device_certificate BLOB,
    updated_at_ms INTEGER NOT NULL,
    CHECK ((device_peer_id IS NULL) = (device_certificate IS NULL))
) STRICT;
INSERT INTO own_identity_next
    (slot, party_id, display_name, created_at_ms, origin, added_at_ms, device_peer_id, device_certificate, updated_at_ms)
    SELECT slot, party_id, display_name, created_at_ms, origin, added_at_ms, device_peer_id, device_certificate, updated_at_ms
    FROM own_identity;
DROP TABLE own_identity;
ALTER TABLE own_identity_next RENAME TO own_identity;
