-- When each contact was last seen online, so "last seen" survives a
-- restart. Removing a contact removes its row.
CREATE TABLE contact_presence (
    party_id TEXT PRIMARY KEY NOT NULL REFERENCES contacts (party_id) ON DELETE CASCADE,
    -- The last moment one of the party's devices was connected (ms).
    last_seen_ms INTEGER NOT NULL
) STRICT;
