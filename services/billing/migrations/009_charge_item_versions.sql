-- Charge items are corrected or retired (UpdateChargeItem) under an etag;
-- each definition they had before is kept with who replaced it and when.
ALTER TABLE charge_items ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

CREATE TABLE charge_item_versions (
  item_id BIGINT NOT NULL,
  version BIGINT NOT NULL,
  definition BLOB NOT NULL,
  replaced_at DATETIME(6) NOT NULL,
  replaced_by VARCHAR(128) NOT NULL,
  PRIMARY KEY (item_id, version)
) ENGINE=InnoDB;
