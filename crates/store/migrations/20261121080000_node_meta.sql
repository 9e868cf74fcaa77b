-- Facts about this node's own database: when it was created, by which
-- version, how often the node has started. Never anything secret.
CREATE TABLE node_meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
