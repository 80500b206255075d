-- Handover batches and the case of each unit. A batch's and a case's own
-- fields are kept as their API messages (spec/body); the columns are what
-- the service looks up and what must be unique.
CREATE TABLE handover_batches (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  spec BLOB NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (id),
  KEY by_site (site, id)
) ENGINE=InnoDB;

CREATE TABLE handover_cases (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  batch_id BIGINT NOT NULL,
  unit VARCHAR(64) NOT NULL,
  state TINYINT NOT NULL,
  body MEDIUMBLOB NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  -- A unit has one case per batch; a unit in two batches is a data error.
  UNIQUE KEY one_case_per_unit (site, unit),
  KEY by_batch (site, batch_id, id),
  KEY by_state (site, state, id)
) ENGINE=InnoDB;

-- Booked inspections: an inspector holds at most one case per slot start.
CREATE TABLE handover_appointments (
  case_id BIGINT NOT NULL,
  site VARCHAR(63) NOT NULL,
  inspector VARCHAR(128) NOT NULL,
  slot_start DATETIME NOT NULL,
  PRIMARY KEY (case_id),
  UNIQUE KEY inspector_slot (site, inspector, slot_start)
) ENGINE=InnoDB;

-- Every change of a case, with who made it.
CREATE TABLE handover_case_events (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  case_id BIGINT NOT NULL,
  type VARCHAR(32) NOT NULL,
  from_state TINYINT NOT NULL,
  to_state TINYINT NOT NULL,
  actor VARCHAR(128) NOT NULL,
  detail VARCHAR(1000) NOT NULL DEFAULT '',
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY by_case (case_id, id)
) ENGINE=InnoDB;

-- The outbox rows a completion wrote, so the case can say which effects
-- are still on their way and which a peer refused.
CREATE TABLE handover_case_effects (
  case_id BIGINT NOT NULL,
  outbox_id BIGINT NOT NULL,
  what VARCHAR(200) NOT NULL,
  PRIMARY KEY (case_id, outbox_id)
) ENGINE=InnoDB;
