-- Charges made one at a time (ChargeAccount): a renovation deposit, a
-- decoration-garbage fee. The reference says what each is for and is how a
-- refund finds it; bill-run and late-fee lines have none (NULL, so the key
-- leaves them alone).
ALTER TABLE bill_lines
  ADD COLUMN charge_reference VARCHAR(160) NULL,
  ADD UNIQUE KEY one_charge_per_reference (account_id, charge_reference);

-- A one-off charge given back (RefundCharge), at most once: the line is the
-- key. charged = kept + cancelled + credited.
CREATE TABLE charge_refunds (
  line_id BIGINT NOT NULL,
  site VARCHAR(63) NOT NULL,
  account_id BIGINT NOT NULL,
  charged_minor BIGINT NOT NULL,
  kept_minor BIGINT NOT NULL,
  cancelled_minor BIGINT NOT NULL,
  credited_minor BIGINT NOT NULL,
  applied_minor BIGINT NOT NULL,
  reason VARCHAR(500) NOT NULL,
  actor VARCHAR(128) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (line_id),
  KEY by_account (account_id)
) ENGINE=InnoDB;
