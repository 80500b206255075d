-- The relay works per target (one stalled peer never delays another) and
-- keeps the final code of a dead row for the operator who retries it.
ALTER TABLE outbox
  ADD COLUMN last_code INT NOT NULL DEFAULT 0,
  ADD KEY by_target (target, delivered_at, dead, next_attempt_at);
