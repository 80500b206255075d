-- An account is in at most one debit the bank has not answered yet, however
-- many batches are created at once: a second pending item for it would be a
-- second debit of the same money. (DEBIT_PENDING = 1 in billing.proto.)
-- A database where that already happened refuses this key ("Duplicate entry
-- 'N' for key 'one_pending_per_account'"); list the accounts with
--   SELECT account_id, GROUP_CONCAT(batch_id) FROM debit_items
--   WHERE status = 1 GROUP BY account_id HAVING COUNT(*) > 1;
-- settle each with the bank (import the batch that was really collected) and
-- start the service again: the migration is retried at startup.
ALTER TABLE debit_items
  ADD COLUMN pending_account BIGINT AS (IF(status = 1, account_id, NULL)) PERSISTENT,
  ADD UNIQUE KEY one_pending_per_account (pending_account);
