-- The register of units and their parties. Personal fields are stored in
-- full; masking is applied when they are read out (see register.h).
CREATE TABLE units (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  unit_id VARCHAR(64) NOT NULL,
  building VARCHAR(64) NOT NULL,
  floor INT NOT NULL DEFAULT 0,
  number VARCHAR(32) NOT NULL DEFAULT '',
  area_centi_m2 BIGINT NOT NULL DEFAULT 0,
  layout VARCHAR(64) NOT NULL DEFAULT '',
  occupancy TINYINT NOT NULL,
  version BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY by_name (site, unit_id),
  KEY by_building (site, building, id),
  CONSTRAINT unit_area CHECK (area_centi_m2 >= 0)
) ENGINE=InnoDB;

CREATE TABLE parties (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  unit_id VARCHAR(64) NOT NULL DEFAULT '',
  role TINYINT NOT NULL,
  display_name VARCHAR(200) NOT NULL,
  phone VARCHAR(64) NOT NULL DEFAULT '',
  id_number VARCHAR(64) NOT NULL DEFAULT '',
  email VARCHAR(200) NOT NULL DEFAULT '',
  organization VARCHAR(200) NOT NULL DEFAULT '',
  note VARCHAR(1000) NOT NULL DEFAULT '',
  start_date DATE NULL,
  end_date DATE NULL,
  version BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY by_unit (site, unit_id, id),
  KEY by_site (site, id)
) ENGINE=InnoDB;

-- Every change of a unit or party: the record after it, serialized as its
-- estate.archives.v1 message (parties stored masked: history is for reading
-- who changed what, not a second copy of personal data).
CREATE TABLE register_history (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  subject VARCHAR(200) NOT NULL,
  changed_at DATETIME(6) NOT NULL,
  actor VARCHAR(128) NOT NULL,
  action VARCHAR(16) NOT NULL,
  changed_fields VARCHAR(500) NOT NULL,
  snapshot BLOB NOT NULL,
  PRIMARY KEY (id),
  KEY by_subject (subject, id)
) ENGINE=InnoDB;

CREATE TABLE pii_reveals (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  subject VARCHAR(200) NOT NULL,
  actor VARCHAR(128) NOT NULL,
  roles VARCHAR(128) NOT NULL,
  reason VARCHAR(500) NOT NULL,
  revealed_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY by_site (site, id)
) ENGINE=InnoDB;
