-- The parties this node knows, each with its contact card exactly as
-- received (signed bytes), so it can be verified again at any time.
CREATE TABLE contacts (
    -- The party id, as its did:key text.
    party_id TEXT PRIMARY KEY NOT NULL,
    -- The display name the card carries.
    display_name TEXT NOT NULL,
    -- The signed `card` record, as received; never re-encoded.
    card BLOB NOT NULL,
    -- When the party signed that card (ms): a card only replaces an older one.
    card_issued_at_ms INTEGER NOT NULL,
    -- The invite the card carried, if any: its 16-byte token and expiry,
    -- kept for the handshake that redeems it.
    invite_token BLOB CHECK (invite_token IS NULL OR length(invite_token) = 16),
    invite_expires_at_ms INTEGER,
    added_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    CHECK ((invite_token IS NULL) = (invite_expires_at_ms IS NULL))
) STRICT;

-- Invites this node's party handed out on its own cards.
CREATE TABLE invites (
    -- The random 16-byte token the card carries.
    token BLOB PRIMARY KEY NOT NULL CHECK (length(token) = 16),
    -- 1: may be redeemed again and again until it expires (a shop counter);
    -- 0: once (a person).
    reusable INTEGER NOT NULL CHECK (reusable IN (0, 1)),
    -- At or after this moment (ms) the invite is refused.
    expires_at_ms INTEGER NOT NULL,
    times_used INTEGER NOT NULL DEFAULT 0 CHECK (times_used >= 0),
    created_at_ms INTEGER NOT NULL,
    -- 1 once the party withdrew it.
    revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;
