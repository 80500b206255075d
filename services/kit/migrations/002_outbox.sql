-- Calls to other services, written in the same transaction as the change that
-- causes them and delivered afterwards by the relay, with retries.
CREATE TABLE outbox (
  id BIGINT NOT NULL AUTO_INCREMENT,
  site VARCHAR(63) NOT NULL,
  target VARCHAR(64) NOT NULL,
  method VARCHAR(255) NOT NULL,
  request LONGBLOB NOT NULL,
  request_id CHAR(36) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(6) NOT NULL,
  last_error VARCHAR(512) NOT NULL DEFAULT '',
  delivered_at DATETIME(6) NULL,
  -- Refused for good by the receiver (not retryable); kept for an operator.
  dead BOOLEAN NOT NULL DEFAULT FALSE,
  PRIMARY KEY (id),
  KEY due (delivered_at, dead, next_attempt_at)
) ENGINE=InnoDB;
