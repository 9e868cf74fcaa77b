-- Trust: a score per subject, the events that moved it (with their
-- reason), the attestations received or made, and verified evidence.
-- A subject is a party id (`did:key:z…`), or the peer id of a device that
-- no known party answers for. The node computes every score; these
-- tables keep what it computed.

CREATE TABLE trust_scores (
    subject TEXT PRIMARY KEY NOT NULL,
    -- The score at `at_ms`, in [0, 1].
    score REAL NOT NULL CHECK (score >= 0.0 AND score <= 1.0),
    -- When the score was last decayed or changed (ms).
    at_ms INTEGER NOT NULL,
    -- 1 once verified evidence names the subject: its score then decays
    -- toward 0 instead of back to the start.
    convicted INTEGER NOT NULL DEFAULT 0 CHECK (convicted IN (0, 1))
) STRICT;

-- Every change of a score, newest last.
CREATE TABLE trust_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('valid', 'invalid', 'timeout', 'evidence', 'attested')),
    -- How many messages or timeouts the event stands for.
    count INTEGER NOT NULL CHECK (count >= 1),
    -- What the event added (negative: took away) before clamping.
    delta REAL NOT NULL,
    -- The score after the event.
    score REAL NOT NULL CHECK (score >= 0.0 AND score <= 1.0),
    -- Why, in words.
    reason TEXT NOT NULL
) STRICT;

CREATE INDEX trust_events_by_subject ON trust_events (subject, id);

-- The newest attestation of each attester about each subject, as signed.
CREATE TABLE trust_attestations (
    attester TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- SHA-256 of the signed record.
    id BLOB NOT NULL CHECK (length(id) = 32),
    kind INTEGER NOT NULL CHECK (kind >= 0),
    score_milli INTEGER NOT NULL CHECK (score_milli BETWEEN 0 AND 1000),
    issued_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    -- The signed record, exactly as received or made.
    record BLOB NOT NULL,
    received_at_ms INTEGER NOT NULL,
    -- The boost this node gave the subject for it (0 when the attester
    -- did not count as a recommender).
    boost REAL NOT NULL DEFAULT 0.0,
    PRIMARY KEY (attester, subject)
) STRICT;

CREATE INDEX trust_attestations_by_subject ON trust_attestations (subject);

-- Verified evidence, one row per offence.
CREATE TABLE trust_evidence (
    -- Names the offence (two proofs of one double vote share it).
    offence BLOB PRIMARY KEY NOT NULL CHECK (length(offence) = 32),
    -- SHA-256 of the evidence bytes kept.
    id BLOB NOT NULL CHECK (length(id) = 32),
    kind TEXT NOT NULL,
    -- The node key that misbehaved.
    node BLOB NOT NULL CHECK (length(node) = 32),
    -- The party answerable for it, when the evidence binds one.
    party TEXT,
    summary TEXT NOT NULL,
    -- The evidence, exactly as received or made.
    evidence BLOB NOT NULL,
    -- The peer that passed it on, or NULL when this node found it.
    reported_by TEXT,
    received_at_ms INTEGER NOT NULL
) STRICT;
