-- An outbox item may carry several events for its device (a bundle), so it
-- names every message it carries, for their status: `messages` is the
-- concatenation of 32-byte pairs, conversation id then message id (empty
-- for an item that carries none, such as a receipt).
ALTER TABLE chat_outbox ADD COLUMN messages BLOB NOT NULL DEFAULT x'' CHECK (length(messages) % 32 = 0);
UPDATE chat_outbox SET messages = conversation || message
    WHERE conversation IS NOT NULL AND message IS NOT NULL;
ALTER TABLE chat_outbox DROP COLUMN conversation;
ALTER TABLE chat_outbox DROP COLUMN message;
