-- Names that writers queue on (kit::SerializeOn). A row lock ends with the
-- transaction that took it, on whichever replica took it, and a crash or a
-- lost connection releases it with the rollback.
CREATE TABLE serial_locks (
  name VARCHAR(191) NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB;
