-- A run bills the accounts its dry run saw (id <= last_account), so the
-- figures approved on the draft are the ones the commit issues. NULL: a run
-- drafted before this column, which bills every account of the site.
ALTER TABLE bill_runs ADD COLUMN last_account BIGINT NULL;
