-- What an effect is about (the defect a warranty ticket is for) and what
-- the peer made of it (the ticket's name), kept when the outbox row is
-- delivered: outbox rows are purged after a week, the case's links are not.
ALTER TABLE handover_case_effects
  ADD COLUMN subject VARCHAR(200) NOT NULL DEFAULT '',
  ADD COLUMN result VARCHAR(200) NOT NULL DEFAULT '',
  ADD KEY by_outbox (outbox_id);
