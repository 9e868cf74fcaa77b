-- The tallies this party negotiates or holds, the negotiation messages that
-- made each one, and its chits as this party's node knows them.

-- One row per tally, with what a list of tallies shows.
CREATE TABLE tallies (
    -- The 16-byte tally id.
    tally BLOB PRIMARY KEY NOT NULL CHECK (length(tally) = 16),
    -- The partner's party key.
    partner BLOB NOT NULL CHECK (length(partner) = 32),
    -- Our side.
    side TEXT NOT NULL CHECK (side IN ('stock', 'foil')),
    -- Where it stands.
    stage TEXT NOT NULL CHECK (stage IN ('offered', 'open', 'refused', 'closing', 'closed')),
    -- The newest revision: the signed offer, or the open tally, as signed.
    current BLOB NOT NULL,
    -- What the foil owes the stock, as certified.
    balance INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- Every negotiation message sent or received, in order: replaying them
-- rebuilds the negotiation. Sent messages wait in the outbox until one of
-- the partner's devices took them.
CREATE TABLE tally_messages (
    tally BLOB NOT NULL REFERENCES tallies (tally),
    -- 1, 2, 3, … per tally.
    seq INTEGER NOT NULL CHECK (seq >= 1),
    outgoing INTEGER NOT NULL CHECK (outgoing IN (0, 1)),
    at_ms INTEGER NOT NULL,
    -- The message's envelope bytes.
    message BLOB NOT NULL,
    -- For sent messages: when the partner's device took it; NULL until then.
    delivered_at_ms INTEGER,
    PRIMARY KEY (tally, seq),
    CHECK (outgoing = 1 OR delivered_at_ms IS NULL)
) STRICT;

CREATE INDEX tally_messages_outbox ON tally_messages (outgoing, delivered_at_ms);

-- The chits of our tallies: pending until the tally network certifies (or
-- refuses) them.
CREATE TABLE tally_chits (
    tally BLOB NOT NULL REFERENCES tallies (tally),
    -- SHA-256 of the signed chit.
    id BLOB NOT NULL CHECK (length(id) = 32),
    -- The author's side and the chit's place in the author's key chain.
    by_side TEXT NOT NULL CHECK (by_side IN ('stock', 'foil')),
    action INTEGER NOT NULL CHECK (action >= 0),
    kind TEXT NOT NULL CHECK (kind IN ('transaction', 'invoice', 'decline', 'setting')),
    -- Transactions: the change to the balance; invoices: the amount asked.
    units INTEGER,
    memo TEXT NOT NULL,
    -- When its author made it (ms).
    date_ms INTEGER NOT NULL,
    -- The signed chit, as signed.
    chit BLOB NOT NULL,
    -- Once certified: the block's height, when this node learnt it, and
    -- the balance after the chit.
    height INTEGER CHECK (height >= 1),
    certified_at_ms INTEGER,
    balance INTEGER,
    -- Why the tally network refused it, if it did.
    refused TEXT,
    PRIMARY KEY (tally, id),
    CHECK ((height IS NULL) = (certified_at_ms IS NULL) AND (height IS NULL) = (balance IS NULL)),
    CHECK (height IS NULL OR refused IS NULL)
) STRICT;

CREATE INDEX tally_chits_by_date ON tally_chits (tally, date_ms);
CREATE INDEX tally_chits_certified ON tally_chits (certified_at_ms);
