-- The trust history stays small: valid messages are folded into one event
-- per subject and hour, routine events (valid, invalid, timeout) older than
-- the node's retention are pruned, and attestation and evidence events are
-- kept. These indexes serve the pruning and the history, which reads the
-- two groups of a subject's events apart.
CREATE INDEX trust_events_by_kind ON trust_events (kind, at_ms);
CREATE INDEX trust_events_by_subject_kind ON trust_events (subject, kind, id);
