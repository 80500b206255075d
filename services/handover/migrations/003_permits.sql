-- Renovation permits, their worker passes, timelines and the tickets their
-- violations open. A permit's and a pass's own fields are kept as their API
-- messages (body); the columns are what the service looks up, filters on,
-- counts by, and what must be unique.
CREATE TABLE renovation_permits (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  unit VARCHAR(64) NOT NULL,
  -- PermitState: 1 applied, 2 approved, 3 refused, 4 suspended, 5 closed.
  state TINYINT NOT NULL,
  time_zone VARCHAR(64) NOT NULL,
  body MEDIUMBLOB NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  -- The unit while its permit is applied for, approved or suspended: one
  -- such permit per unit, so passes and checks never meet two.
  live_unit VARCHAR(64) AS (IF(state IN (1, 2, 4), unit, NULL)) STORED,
  PRIMARY KEY (id),
  UNIQUE KEY one_live_permit_per_unit (site, live_unit),
  KEY by_unit (site, unit, id),
  KEY by_state (site, state, id)
) ENGINE=InnoDB;

CREATE TABLE permit_passes (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  permit_id BIGINT NOT NULL,
  -- PassState: 1 active, 2 revoked, 3 ended.
  state TINYINT NOT NULL,
  body BLOB NOT NULL,
  created_at DATETIME(6) NOT NULL,
  -- When the pass stopped letting its worker in (revoked, or the permit
  -- closed): a close ends every pass in one statement, without their bodies.
  ended_at DATETIME(6) NULL,
  PRIMARY KEY (id),
  KEY by_permit (permit_id, state, id)
) ENGINE=InnoDB;

-- Every change of a permit and its passes, with who made it.
CREATE TABLE permit_events (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  permit_id BIGINT NOT NULL,
  type VARCHAR(32) NOT NULL,
  from_state TINYINT NOT NULL,
  to_state TINYINT NOT NULL,
  actor VARCHAR(128) NOT NULL,
  detail VARCHAR(1000) NOT NULL DEFAULT '',
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY by_permit (permit_id, id),
  -- The half-year counts read a site's lines by time.
  KEY by_site_time (site, created_at)
) ENGINE=InnoDB;

-- The outbox rows (rectification tickets) a permit's violations wrote, so
-- the permit says which are on their way, which tickets refused, and links
-- the tickets made (result: outbox rows are purged after a week, the
-- permit's links are not).
CREATE TABLE permit_effects (
  permit_id BIGINT NOT NULL,
  outbox_id BIGINT NOT NULL,
  what VARCHAR(200) NOT NULL,
  subject VARCHAR(200) NOT NULL DEFAULT '',
  result VARCHAR(200) NOT NULL DEFAULT '',
  PRIMARY KEY (permit_id, outbox_id),
  KEY by_outbox (outbox_id)
) ENGINE=InnoDB;
