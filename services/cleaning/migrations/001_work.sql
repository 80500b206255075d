-- The cleaning plan: settings, teams, shifts, zones, task templates, tasks,
-- inspections.
CREATE TABLE cleaning_settings (
  site VARCHAR(63) NOT NULL,
  time_zone VARCHAR(64) NOT NULL,
  currency CHAR(3) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (site)
) ENGINE=InnoDB;

CREATE TABLE teams (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  display_name VARCHAR(200) NOT NULL,
  monitor VARCHAR(200) NOT NULL DEFAULT '',
  members TEXT NOT NULL,  -- one name a line
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (id),
  KEY by_site (site, id)
) ENGINE=InnoDB;

CREATE TABLE shifts (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  display_name VARCHAR(100) NOT NULL,
  start_minute INT NOT NULL,
  end_minute INT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY by_site (site, id)
) ENGINE=InnoDB;

CREATE TABLE zones (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  display_name VARCHAR(200) NOT NULL,
  building VARCHAR(64) NOT NULL DEFAULT '',
  team_id BIGINT NULL,
  standard BLOB NOT NULL,  -- estate.cleaning.v1.Standard
  version BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (id),
  KEY by_site (site, id)
) ENGINE=InnoDB;

CREATE TABLE task_templates (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  zone_id BIGINT NOT NULL,
  shift_id BIGINT NOT NULL,
  title VARCHAR(300) NOT NULL,
  schedule BLOB NOT NULL,  -- estate.cleaning.v1.Schedule
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY by_site (site, id)
) ENGINE=InnoDB;

-- One task per template and day, whoever generates it and however often.
CREATE TABLE tasks (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  template_id BIGINT NOT NULL,
  zone_id BIGINT NOT NULL,
  team_id BIGINT NULL,
  shift_id BIGINT NOT NULL,
  title VARCHAR(300) NOT NULL,
  task_date DATE NOT NULL,
  due_at DATETIME(6) NOT NULL,
  miss_at DATETIME(6) NOT NULL,
  state TINYINT NOT NULL,
  done_at DATETIME(6) NULL,
  done_by VARCHAR(200) NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  UNIQUE KEY one_a_day (template_id, task_date),
  KEY by_date (site, task_date, id),
  KEY to_miss (state, miss_at)
) ENGINE=InnoDB;

CREATE TABLE inspections (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  zone_id BIGINT NOT NULL,
  team_id BIGINT NULL,
  body BLOB NOT NULL,  -- estate.cleaning.v1.Inspection as scored
  score_centi INT NOT NULL,
  passed BOOLEAN NOT NULL,
  inspected_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (id),
  KEY by_site (site, inspected_at),
  KEY by_zone (site, zone_id, id)
) ENGINE=InnoDB;
