-- An account's balance (what it owes; negative: paid ahead) was a sum over
-- its whole ledger, read under the account's lock by every payment. It is a
-- column now, moved by every ledger write in the same transaction (the store's
-- PostLedger and IssueBills); tests recount it against the ledger.
ALTER TABLE accounts ADD COLUMN balance_minor BIGINT NOT NULL DEFAULT 0;
UPDATE accounts a SET balance_minor =
  (SELECT COALESCE(SUM(l.amount_minor), 0) FROM ledger l WHERE l.account_id = a.id);
