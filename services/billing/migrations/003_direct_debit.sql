-- Direct-debit batches and their items (one per account).
CREATE TABLE debit_batches (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  as_of DATE NOT NULL,
  currency CHAR(3) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (id),
  KEY by_site (site, id)
) ENGINE=InnoDB;

CREATE TABLE debit_items (
  id BIGINT NOT NULL AUTO_INCREMENT,
  batch_id BIGINT NOT NULL,
  site VARCHAR(63) NOT NULL,
  account_id BIGINT NOT NULL,
  amount_minor BIGINT NOT NULL,
  bank VARCHAR(100) NOT NULL,
  account_masked VARCHAR(40) NOT NULL,
  mandate_expiry DATE NOT NULL,
  status TINYINT NOT NULL,
  failure TINYINT NOT NULL DEFAULT 0,
  bank_reference VARCHAR(128) NOT NULL DEFAULT '',
  payment_id BIGINT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY one_per_account (batch_id, account_id),
  KEY by_batch (batch_id, status, id)
) ENGINE=InnoDB;
