-- Billing: charge items, accounts, bill runs, bills and their lines, payments
-- and their allocations, and the ledger. Money columns are BIGINT minor units
-- (fen). Nothing issued is updated except the running paid/written-off sums
-- of a line and an account's credit, which always equal the sums of the
-- allocation and ledger rows behind them (the tests recount both).

CREATE TABLE billing_settings (
  site VARCHAR(63) NOT NULL,
  currency CHAR(3) NOT NULL,
  heating_start CHAR(5) NOT NULL,
  heating_end CHAR(5) NOT NULL,
  version BIGINT NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  updated_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (site)
) ENGINE=InnoDB;

CREATE TABLE charge_items (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  code VARCHAR(64) NOT NULL,
  kind TINYINT NOT NULL,
  cycle TINYINT NOT NULL,
  -- The whole definition (rates, tiers, late fee) as an
  -- estate.billing.v1.ChargeItem: read whole, never queried by its parts.
  definition BLOB NOT NULL,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY by_code (site, code)
) ENGINE=InnoDB;

CREATE TABLE accounts (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  unit VARCHAR(64) NOT NULL,
  building VARCHAR(64) NOT NULL,
  status TINYINT NOT NULL,
  area VARCHAR(24) NOT NULL,
  fee_start DATE NOT NULL,
  -- Subscribed charge item ids, comma-separated: the bill run reads every
  -- account of a site at once and needs no join for it.
  items VARCHAR(1024) NOT NULL,
  -- Payer and mandate as an estate.billing.v1.Account holding only those.
  profile BLOB NOT NULL,
  credit_minor BIGINT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY by_unit (site, unit),
  CONSTRAINT credit_not_negative CHECK (credit_minor >= 0)
) ENGINE=InnoDB;

CREATE TABLE meter_readings (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  account_id BIGINT NOT NULL,
  meter VARCHAR(32) NOT NULL,
  value_milli BIGINT NOT NULL,
  consumption_milli BIGINT NOT NULL,
  read_on DATE NOT NULL,
  replacement BOOLEAN NOT NULL,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (id),
  KEY by_meter (account_id, meter, id),
  KEY by_day (site, read_on)
) ENGINE=InnoDB;

CREATE TABLE bill_runs (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  cycle TINYINT NOT NULL,
  period_label VARCHAR(32) NOT NULL,
  period_date DATE NOT NULL,
  state TINYINT NOT NULL,
  -- The draft's figures and totals as an estate.billing.v1.BillRun.
  draft BLOB NOT NULL,
  accounts_done BIGINT NOT NULL DEFAULT 0,
  lines_issued BIGINT NOT NULL DEFAULT 0,
  lines_skipped BIGINT NOT NULL DEFAULT 0,
  issued_minor BIGINT NOT NULL DEFAULT 0,
  -- Commit progress: accounts with id <= cursor are done. A batch holds the
  -- run's row lock, so replicas never work on one run at once.
  cursor_account BIGINT NOT NULL DEFAULT 0,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  committed_at DATETIME(6) NULL,
  completed_at DATETIME(6) NULL,
  PRIMARY KEY (id),
  KEY by_site (site, id),
  KEY by_state (state)
) ENGINE=InnoDB;

CREATE TABLE bills (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  run_id BIGINT NOT NULL,
  account_id BIGINT NOT NULL,
  period_label VARCHAR(32) NOT NULL,
  issue_date DATE NOT NULL,
  due_date DATE NOT NULL,
  currency CHAR(3) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY by_run (run_id, account_id),
  KEY by_account (account_id, id),
  KEY by_site (site, id)
) ENGINE=InnoDB;

CREATE TABLE bill_lines (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  bill_id BIGINT NOT NULL,
  account_id BIGINT NOT NULL,
  item_id BIGINT NOT NULL,
  -- Copied from the account and the run, so reports need no join and a later
  -- change of building does not rewrite history.
  building VARCHAR(64) NOT NULL,
  period_label VARCHAR(32) NOT NULL,
  period_start DATE NOT NULL,
  quantity VARCHAR(32) NOT NULL,
  amount_minor BIGINT NOT NULL,
  paid_minor BIGINT NOT NULL DEFAULT 0,
  written_off_minor BIGINT NOT NULL DEFAULT 0,
  due_date DATE NOT NULL,
  held BOOLEAN NOT NULL DEFAULT FALSE,
  hold_reason VARCHAR(64) NOT NULL DEFAULT '',
  hold_ticket VARCHAR(160) NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  -- What makes any number of bill runs issue a charge once.
  UNIQUE KEY once_per_period (account_id, item_id, period_label),
  KEY by_bill (bill_id),
  KEY by_period (site, period_label),
  KEY open_by_account (account_id, due_date),
  CONSTRAINT line_settled_within_amount
    CHECK (paid_minor >= 0 AND written_off_minor >= 0
           AND paid_minor + written_off_minor <= amount_minor)
) ENGINE=InnoDB;

CREATE TABLE payments (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  account_id BIGINT NOT NULL,
  method TINYINT NOT NULL,
  reference VARCHAR(128) NOT NULL,
  amount_minor BIGINT NOT NULL,
  currency CHAR(3) NOT NULL,
  received_on DATE NOT NULL,
  named_bills VARCHAR(2048) NOT NULL,
  to_credit_minor BIGINT NOT NULL,
  reversed BOOLEAN NOT NULL DEFAULT FALSE,
  reversal_reason VARCHAR(500) NOT NULL DEFAULT '',
  recorded_by VARCHAR(128) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY by_account (account_id, id),
  KEY by_site (site, id)
) ENGINE=InnoDB;

-- Money moved onto a line: from a payment, or (payment_id NULL) from the
-- account's credit. A reversal adds the negated rows.
CREATE TABLE allocations (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  account_id BIGINT NOT NULL,
  line_id BIGINT NOT NULL,
  payment_id BIGINT NULL,
  amount_minor BIGINT NOT NULL,
  applied_on DATE NOT NULL,
  PRIMARY KEY (id),
  KEY by_line (line_id),
  KEY by_payment (payment_id),
  KEY by_account (account_id, id),
  KEY by_day (site, applied_on)
) ENGINE=InnoDB;

-- The account's book: + what it owes (charges, reversed payments), - what
-- it paid or was forgiven. Balance = SUM(amount_minor).
CREATE TABLE ledger (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  account_id BIGINT NOT NULL,
  kind TINYINT NOT NULL,
  amount_minor BIGINT NOT NULL,
  line_id BIGINT NULL,
  payment_id BIGINT NULL,
  actor VARCHAR(128) NOT NULL,
  reason VARCHAR(500) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY by_account (account_id, id)
) ENGINE=InnoDB;
