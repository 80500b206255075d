-- Late fees are lines of their own, each pointing at the line it is charged
-- on, billed on bills that no bill run made.
ALTER TABLE bill_lines ADD COLUMN late_fee_of BIGINT NULL, ADD KEY by_late_fee_of (late_fee_of);
ALTER TABLE bills MODIFY run_id BIGINT NULL;
