-- A delivery reads one device's items in queue order, past the place it
-- reached, and the delivery task asks which devices have items waiting:
-- both by device, then by place, without scanning the whole outbox.
CREATE INDEX chat_outbox_by_device ON chat_outbox (to_peer, seq);
