-- Tickets of the customer-service desk. Every table leads with the site, so a
-- group can shard by site without changing the API.
CREATE TABLE tickets (
  site VARCHAR(63) NOT NULL,
  id BIGINT NOT NULL AUTO_INCREMENT,
  kind TINYINT NOT NULL,
  channel TINYINT NOT NULL,
  unit VARCHAR(64) NOT NULL DEFAULT '',
  reporter_name VARCHAR(200) NOT NULL DEFAULT '',
  reporter_phone VARCHAR(64) NOT NULL DEFAULT '',
  title VARCHAR(500) NOT NULL,
  description MEDIUMTEXT NOT NULL,
  category VARCHAR(128) NOT NULL DEFAULT '',
  priority TINYINT NOT NULL,
  department VARCHAR(128) NOT NULL DEFAULT '',
  assignee VARCHAR(128) NOT NULL DEFAULT '',
  -- attachments and links: a serialized estate.tickets.v1.Ticket holding only those.
  extras BLOB NULL,
  status TINYINT NOT NULL,
  status_before_wait TINYINT NOT NULL DEFAULT 0,
  waiting_on TINYINT NOT NULL DEFAULT 0,
  resolution TEXT NOT NULL,
  waiver_reason TEXT NOT NULL,
  reopen_count INT NOT NULL DEFAULT 0,
  return_visit_count INT NOT NULL DEFAULT 0,
  sla_breached BOOLEAN NOT NULL DEFAULT FALSE,
  sla_start DATETIME(6) NOT NULL,
  paused_us BIGINT NOT NULL DEFAULT 0,
  waiting_since DATETIME(6) NULL,
  response_due DATETIME(6) NOT NULL,
  resolve_due DATETIME(6) NOT NULL,
  first_response_at DATETIME(6) NULL,
  resolved_at DATETIME(6) NULL,
  closed_at DATETIME(6) NULL,
  last_visit_at DATETIME(6) NULL,
  -- The deadlines as first set, so that a retried create answers exactly as
  -- the first one did.
  initial_response_due DATETIME(6) NOT NULL,
  initial_resolve_due DATETIME(6) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  -- The create's request_id and request fingerprint: a ticket is claimed and
  -- written in one row, so a create costs one statement.
  create_request_id CHAR(36) NULL,
  create_fingerprint BINARY(32) NULL,
  version BIGINT NOT NULL DEFAULT 1,
  PRIMARY KEY (site, id),
  UNIQUE KEY by_id (id),
  UNIQUE KEY by_create_request (create_request_id),
  KEY by_status (site, status, id),
  KEY by_created (site, created_at),
  KEY by_unit (site, unit, id),
  KEY by_department (site, department, id),
  KEY clock_running (status, sla_breached, resolve_due),
  KEY open_by_kind (status, site, kind),
  CONSTRAINT ticket_kind CHECK (kind BETWEEN 1 AND 6),
  CONSTRAINT ticket_status CHECK (status BETWEEN 1 AND 8),
  CONSTRAINT ticket_priority CHECK (priority BETWEEN 1 AND 4),
  CONSTRAINT ticket_counts CHECK (reopen_count >= 0 AND return_visit_count >= 0)
) ENGINE=InnoDB;

CREATE TABLE ticket_events (
  site VARCHAR(63) NOT NULL,
  ticket_id BIGINT NOT NULL,
  id BIGINT NOT NULL AUTO_INCREMENT,
  type VARCHAR(32) NOT NULL,
  from_status TINYINT NOT NULL DEFAULT 0,
  to_status TINYINT NOT NULL DEFAULT 0,
  actor VARCHAR(128) NOT NULL,
  at DATETIME(6) NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (site, ticket_id, id),
  UNIQUE KEY by_id (id)
) ENGINE=InnoDB;

CREATE TABLE return_visits (
  site VARCHAR(63) NOT NULL,
  id BIGINT NOT NULL AUTO_INCREMENT,
  ticket_id BIGINT NOT NULL,
  channel TINYINT NOT NULL,
  satisfaction TINYINT NOT NULL,
  comment TEXT NOT NULL,
  caller VARCHAR(128) NOT NULL,
  visited_at DATETIME(6) NOT NULL,
  PRIMARY KEY (site, id),
  UNIQUE KEY by_id (id),
  KEY by_ticket (site, ticket_id, id),
  KEY by_time (site, visited_at),
  CONSTRAINT visit_satisfaction CHECK (satisfaction BETWEEN 1 AND 5)
) ENGINE=InnoDB;

-- Seconds allowed per priority; a site without a row uses the defaults.
CREATE TABLE sla_policies (
  site VARCHAR(63) NOT NULL,
  priority TINYINT NOT NULL,
  first_response_s BIGINT NOT NULL,
  resolution_s BIGINT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  PRIMARY KEY (site, priority),
  CONSTRAINT sla_positive CHECK (first_response_s > 0 AND resolution_s > 0)
) ENGINE=InnoDB;

CREATE TABLE surveys (
  site VARCHAR(63) NOT NULL,
  id BIGINT NOT NULL AUTO_INCREMENT,
  title VARCHAR(500) NOT NULL,
  dimensions TEXT NOT NULL,
  period_start DATE NOT NULL,
  period_end DATE NOT NULL,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (site, id),
  UNIQUE KEY by_id (id),
  CONSTRAINT survey_period CHECK (period_end >= period_start)
) ENGINE=InnoDB;

-- One response per household (unit) per survey.
CREATE TABLE survey_responses (
  site VARCHAR(63) NOT NULL,
  id BIGINT NOT NULL AUTO_INCREMENT,
  survey_id BIGINT NOT NULL,
  unit VARCHAR(64) NOT NULL,
  comment TEXT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (site, id),
  UNIQUE KEY by_id (id),
  UNIQUE KEY one_per_household (site, survey_id, unit),
  KEY by_time (site, created_at)
) ENGINE=InnoDB;

CREATE TABLE survey_ratings (
  site VARCHAR(63) NOT NULL,
  response_id BIGINT NOT NULL,
  dimension VARCHAR(64) NOT NULL,
  rating TINYINT NOT NULL,
  PRIMARY KEY (site, response_id, dimension),
  CONSTRAINT rating_range CHECK (rating BETWEEN 1 AND 5)
) ENGINE=InnoDB;
