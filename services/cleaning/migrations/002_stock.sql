-- The supplies warehouse. On hand and value live only in the ledger
-- (stock_moves): each move carries its warehouse-and-item position after it,
-- and the schema refuses a negative one.
CREATE TABLE items (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  sku VARCHAR(64) NOT NULL,
  display_name VARCHAR(200) NOT NULL,
  unit_of_measure VARCHAR(32) NOT NULL,
  reorder_point BIGINT NOT NULL DEFAULT 0,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY by_sku (site, sku)
) ENGINE=InnoDB;

CREATE TABLE warehouses (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  display_name VARCHAR(200) NOT NULL,
  kind TINYINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY by_site (site, id)
) ENGINE=InnoDB;

CREATE TABLE stock_moves (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  warehouse_id BIGINT NOT NULL,
  item_id BIGINT NOT NULL,
  kind TINYINT NOT NULL,
  quantity BIGINT NOT NULL,
  value_minor BIGINT NOT NULL,
  balance_after BIGINT NOT NULL,
  value_after BIGINT NOT NULL,
  effective_date DATE NOT NULL,
  supplier VARCHAR(200) NOT NULL DEFAULT '',
  team_id BIGINT NULL,
  zone_id BIGINT NULL,
  reference VARCHAR(200) NOT NULL DEFAULT '',
  reason VARCHAR(500) NOT NULL DEFAULT '',
  approver VARCHAR(200) NOT NULL DEFAULT '',
  posted_by VARCHAR(128) NOT NULL,
  posted_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY position (warehouse_id, item_id, id),
  KEY by_month (site, effective_date),
  CONSTRAINT never_negative CHECK (balance_after >= 0 AND value_after >= 0)
) ENGINE=InnoDB;

CREATE TABLE stock_transfers (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  dest_site VARCHAR(63) NOT NULL,
  from_warehouse_id BIGINT NOT NULL,
  to_warehouse_id BIGINT NOT NULL,
  item_id BIGINT NOT NULL,
  sku VARCHAR(64) NOT NULL,
  quantity BIGINT NOT NULL,
  value_minor BIGINT NOT NULL,
  state TINYINT NOT NULL,
  sent_at DATETIME(6) NOT NULL,
  sent_by VARCHAR(128) NOT NULL,
  received_at DATETIME(6) NULL,
  received_by VARCHAR(128) NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  KEY incoming (dest_site, state, id)
) ENGINE=InnoDB;

CREATE TABLE issue_slips (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  warehouse_id BIGINT NOT NULL,
  team_id BIGINT NOT NULL,
  zone_id BIGINT NULL,
  purpose VARCHAR(500) NOT NULL DEFAULT '',
  body BLOB NOT NULL,  -- estate.cleaning.v1.IssueSlip with its lines only
  state TINYINT NOT NULL,
  version BIGINT NOT NULL,
  value_minor BIGINT NOT NULL DEFAULT 0,
  posted_by VARCHAR(128) NOT NULL DEFAULT '',
  posted_at DATETIME(6) NULL,
  cancel_reason VARCHAR(500) NOT NULL DEFAULT '',
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (id),
  KEY by_state (site, state, id)
) ENGINE=InnoDB;

-- One signature per role, and never two by the same person on one slip.
CREATE TABLE slip_signatures (
  slip_id BIGINT NOT NULL,
  role TINYINT NOT NULL,
  signer VARCHAR(128) NOT NULL,
  signed_at DATETIME(6) NOT NULL,
  PRIMARY KEY (slip_id, role),
  UNIQUE KEY distinct_signers (slip_id, signer)
) ENGINE=InnoDB;

-- One count open per warehouse at a time.
CREATE TABLE stocktakes (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  warehouse_id BIGINT NOT NULL,
  state TINYINT NOT NULL,
  opened_by VARCHAR(128) NOT NULL,
  opened_at DATETIME(6) NOT NULL,
  closed_by VARCHAR(128) NOT NULL DEFAULT '',
  approver VARCHAR(200) NOT NULL DEFAULT '',
  reason VARCHAR(500) NOT NULL DEFAULT '',
  closed_at DATETIME(6) NULL,
  open_warehouse BIGINT AS (IF(state = 1, warehouse_id, NULL)) STORED,
  PRIMARY KEY (id),
  UNIQUE KEY one_open (open_warehouse),
  KEY by_site (site, id)
) ENGINE=InnoDB;

CREATE TABLE stocktake_lines (
  stocktake_id BIGINT NOT NULL,
  item_id BIGINT NOT NULL,
  book_quantity BIGINT NOT NULL,
  counted BOOLEAN NOT NULL DEFAULT FALSE,
  counted_quantity BIGINT NOT NULL DEFAULT 0,
  counted_by VARCHAR(128) NOT NULL DEFAULT '',
  moved_during_count BIGINT NOT NULL DEFAULT 0,
  variance BIGINT NOT NULL DEFAULT 0,
  variance_value BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (stocktake_id, item_id)
) ENGINE=InnoDB;

CREATE TABLE inventory_periods (
  site VARCHAR(63) NOT NULL,
  month CHAR(7) NOT NULL,
  closed_by VARCHAR(128) NOT NULL,
  closed_at DATETIME(6) NOT NULL,
  PRIMARY KEY (site, month)
) ENGINE=InnoDB;

-- team_id 0: the site's own budget for the month.
CREATE TABLE budgets (
  site VARCHAR(63) NOT NULL,
  month CHAR(7) NOT NULL,
  team_id BIGINT NOT NULL,
  amount_minor BIGINT NOT NULL,
  PRIMARY KEY (site, month, team_id),
  CONSTRAINT budget_positive CHECK (amount_minor >= 0)
) ENGINE=InnoDB;
