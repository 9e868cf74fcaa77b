-- The tallies whose ledger this node serves (it is one of the nodes both
-- parties nominated), with what the node needs to rebuild each tally's
-- ledger machine after a restart.
CREATE TABLE ledger_tallies (
    -- The 16-byte tally id.
    tally BLOB PRIMARY KEY NOT NULL CHECK (length(tally) = 16),
    -- Block 0: the tally both parties signed, exactly as signed.
    genesis BLOB NOT NULL,
    -- When this node began serving the tally (ms since the Unix epoch).
    created_at_ms INTEGER NOT NULL,
    -- The sequence number of the last journal record written (0: none
    -- yet). Kept here rather than taken as MAX(seq), so that a number freed
    -- by pruning is never handed out again.
    last_seq INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
) STRICT;

-- The records the ledger machine asked to keep before it sent anything,
-- append-only, in the order produced: restoring the machine replays them in
-- `seq` order. Every record of one machine step is written in one
-- transaction, so a crash leaves whole steps or nothing of a step.
--
-- Columns by kind (every other column is NULL):
--   vote      height, round, step (0 prevote, 1 precommit), body = the signed vote
--   proposal  height, round, body = the proposal message as sent
--   lock      height, round, body = the block locked on,
--             proof = the signed prevotes that justified the lock, each as a
--             4-byte big-endian length followed by that many bytes
--   block     height; its bytes and certificate are in ledger_blocks
--   pending   entry_id = SHA-256 of the entry, body = the entry as signed
--   settled   body = the ids of settled entries, 32 bytes each, concatenated
CREATE TABLE ledger_journal (
    tally BLOB NOT NULL REFERENCES ledger_tallies (tally),
    -- 1, 2, 3, … per tally; never reused.
    seq INTEGER NOT NULL CHECK (seq >= 1),
    kind TEXT NOT NULL CHECK (kind IN ('vote', 'proposal', 'lock', 'block', 'pending', 'settled')),
    height INTEGER CHECK (height >= 0),
    round INTEGER CHECK (round >= 0),
    step INTEGER CHECK (step BETWEEN 0 AND 255),
    entry_id BLOB CHECK (length(entry_id) = 32),
    body BLOB,
    proof BLOB,
    PRIMARY KEY (tally, seq),
    CHECK (CASE kind
        WHEN 'vote' THEN height IS NOT NULL AND round IS NOT NULL AND step IS NOT NULL
            AND entry_id IS NULL AND body IS NOT NULL AND proof IS NULL
        WHEN 'proposal' THEN height IS NOT NULL AND round IS NOT NULL AND step IS NULL
            AND entry_id IS NULL AND body IS NOT NULL AND proof IS NULL
        WHEN 'lock' THEN height IS NOT NULL AND round IS NOT NULL AND step IS NULL
            AND entry_id IS NULL AND body IS NOT NULL AND proof IS NOT NULL
        WHEN 'block' THEN height IS NOT NULL AND height >= 1 AND round IS NULL AND step IS NULL
            AND entry_id IS NULL AND body IS NULL AND proof IS NULL
        WHEN 'pending' THEN height IS NULL AND round IS NULL AND step IS NULL
            AND entry_id IS NOT NULL AND body IS NOT NULL AND proof IS NULL
        WHEN 'settled' THEN height IS NULL AND round IS NULL AND step IS NULL
            AND entry_id IS NULL AND body IS NOT NULL AND length(body) % 32 = 0 AND proof IS NULL
    END)
) STRICT;

-- Pruning removes votes, proposals and locks below a height.
CREATE INDEX ledger_journal_by_height ON ledger_journal (tally, height);

-- Certified blocks, one per height: a second, different block at a height
-- would be a fork and is refused. Serving blocks to a node that is behind
-- is a range query here. Never pruned.
CREATE TABLE ledger_blocks (
    tally BLOB NOT NULL REFERENCES ledger_tallies (tally),
    -- Block 0 is the genesis in ledger_tallies; certified blocks start at 1.
    height INTEGER NOT NULL CHECK (height >= 1),
    -- The encoded block, as certified.
    block BLOB NOT NULL,
    -- The precommits that certified it, as first stored.
    certificate BLOB NOT NULL,
    PRIMARY KEY (tally, height)
) STRICT;
