-- The archive room.
CREATE TABLE documents (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  category TINYINT NOT NULL,
  unit VARCHAR(160) NOT NULL DEFAULT '',
  title VARCHAR(300) NOT NULL,
  building VARCHAR(64) NOT NULL,
  box VARCHAR(64) NOT NULL DEFAULT '',
  shelf VARCHAR(64) NOT NULL DEFAULT '',
  confidentiality TINYINT NOT NULL,
  file_uri VARCHAR(1000) NOT NULL DEFAULT '',
  file_sha256 CHAR(64) NOT NULL DEFAULT '',
  file_size BIGINT NOT NULL DEFAULT 0,
  state TINYINT NOT NULL,
  version BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY by_place (site, building, box, id),
  KEY by_unit (site, unit, id),
  KEY by_state (site, state)
) ENGINE=InnoDB;

-- A loan is open while returned_at is NULL; open_document makes "one open
-- loan per document" the database's rule, not only the code's.
CREATE TABLE document_loans (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  document_id BIGINT NOT NULL,
  borrower VARCHAR(200) NOT NULL,
  department VARCHAR(200) NOT NULL DEFAULT '',
  purpose VARCHAR(500) NOT NULL,
  due_at DATETIME(6) NOT NULL,
  approver VARCHAR(200) NOT NULL DEFAULT '',
  lent_by VARCHAR(128) NOT NULL,
  lent_at DATETIME(6) NOT NULL,
  returned_at DATETIME(6) NULL,
  received_by VARCHAR(200) NOT NULL DEFAULT '',
  returned_condition VARCHAR(200) NOT NULL DEFAULT '',
  open_document BIGINT AS (IF(returned_at IS NULL, document_id, NULL)) STORED,
  PRIMARY KEY (id),
  UNIQUE KEY one_open_loan (open_document),
  KEY by_document (document_id, id),
  KEY by_site_open (site, returned_at, due_at)
) ENGINE=InnoDB;

CREATE TABLE archive_audits (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  building VARCHAR(64) NOT NULL,
  box VARCHAR(64) NOT NULL DEFAULT '',
  state TINYINT NOT NULL,
  started_by VARCHAR(128) NOT NULL,
  started_at DATETIME(6) NOT NULL,
  closed_by VARCHAR(128) NOT NULL DEFAULT '',
  closed_at DATETIME(6) NULL,
  PRIMARY KEY (id),
  KEY by_site (site, id)
) ENGINE=InnoDB;

-- What an audit expects (on the shelf in its scope when it started) and
-- what it found; outcome is written at close: 1 missing, 2 recovered,
-- 3 unexpected, 0 nothing to report.
CREATE TABLE audit_items (
  audit_id BIGINT NOT NULL,
  document_id BIGINT NOT NULL,
  expected BOOLEAN NOT NULL,
  found_at DATETIME(6) NULL,
  outcome TINYINT NOT NULL DEFAULT 0,
  PRIMARY KEY (audit_id, document_id)
) ENGINE=InnoDB;
