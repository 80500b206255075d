-- Late fees were kept in the collection totals under their charge item's id
-- negated; a column of the key says so now. The key changes first, so that
-- turning -7 back into 7 cannot meet the row of item 7's own charges.
ALTER TABLE collection_totals
  ADD COLUMN late_fee BOOLEAN NOT NULL DEFAULT FALSE,
  DROP PRIMARY KEY,
  ADD PRIMARY KEY (site, period_label, building, item_id, late_fee, held);
UPDATE collection_totals SET late_fee = TRUE, item_id = -item_id WHERE item_id < 0;
