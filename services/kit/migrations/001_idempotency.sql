-- A request_id is claimed in the same transaction as the write it guards; the
-- stored response answers every retry. Rows are purged after the retention.
CREATE TABLE idempotency_keys (
  request_id CHAR(36) NOT NULL,
  method VARCHAR(128) NOT NULL,
  fingerprint BINARY(32) NOT NULL,
  response LONGBLOB NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (request_id),
  KEY by_created (created_at)
) ENGINE=InnoDB;
