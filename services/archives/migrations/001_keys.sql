-- The key cabinet. KEYS is a reserved word, hence key_register.
CREATE TABLE key_register (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  kind TINYINT NOT NULL,
  tag VARCHAR(64) NOT NULL,
  unit VARCHAR(160) NOT NULL DEFAULT '',
  key_set VARCHAR(32) NOT NULL DEFAULT '',
  master BOOLEAN NOT NULL DEFAULT FALSE,
  cabinet_slot VARCHAR(32) NOT NULL DEFAULT '',
  state TINYINT NOT NULL,
  lost_at DATETIME(6) NULL,
  version BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY by_tag (site, tag),
  KEY by_unit (site, unit),
  KEY by_state (site, state)
) ENGINE=InnoDB;

-- Who held which key when. A row is open (to_at NULL) while the key is out
-- or with its owner; the database, not only the code, allows one open row
-- per key.
CREATE TABLE key_custody (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  key_id BIGINT NOT NULL,
  -- The holder as an estate.archives.v1.Holder.
  holder BLOB NOT NULL,
  purpose TINYINT NOT NULL,
  reference VARCHAR(160) NOT NULL DEFAULT '',
  from_at DATETIME(6) NOT NULL,
  due_back DATETIME(6) NULL,
  to_at DATETIME(6) NULL,
  recorded_by VARCHAR(128) NOT NULL,
  returned_condition VARCHAR(200) NOT NULL DEFAULT '',
  lost BOOLEAN NOT NULL DEFAULT FALSE,
  open_key BIGINT AS (IF(to_at IS NULL, key_id, NULL)) STORED,
  PRIMARY KEY (id),
  UNIQUE KEY one_holder (open_key),
  KEY by_key (key_id, id),
  KEY by_window (site, from_at)
) ENGINE=InnoDB;
