-- Running totals behind the collection report, kept in the same transaction
-- as every change to a line, so a report reads a few dozen rows instead of
-- every line of the period (100k accounts: see tools/bench-billing). The
-- tests recount them from bill_lines and allocations after each scenario.

-- The period a line is reported under: the bill run's, also for one-off
-- lines (whose own label only makes them once-only).
ALTER TABLE bill_lines ADD COLUMN report_period VARCHAR(32) NOT NULL DEFAULT '';
UPDATE bill_lines l JOIN bills b ON b.id = l.bill_id SET l.report_period = b.period_label;

CREATE TABLE collection_totals (
  site VARCHAR(63) NOT NULL,
  period_label VARCHAR(32) NOT NULL,
  building VARCHAR(64) NOT NULL,
  item_id BIGINT NOT NULL,
  held BOOLEAN NOT NULL,
  line_count BIGINT NOT NULL DEFAULT 0,
  billed_minor BIGINT NOT NULL DEFAULT 0,
  collected_minor BIGINT NOT NULL DEFAULT 0,
  written_off_minor BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (site, period_label, building, item_id, held)
) ENGINE=InnoDB;
INSERT INTO collection_totals
  SELECT site, report_period, building, item_id, held, COUNT(*), SUM(amount_minor),
         SUM(paid_minor), SUM(written_off_minor)
  FROM bill_lines GROUP BY site, report_period, building, item_id, held;

-- Arrears recovered during a period = money allocated within its dates to
-- lines of periods that started before it. Each allocation carries its
-- line's period start, and one covering index answers the sum without a
-- join and without a shared running row that every payment would queue on.
ALTER TABLE allocations ADD COLUMN line_period_start DATE NULL;
UPDATE allocations a JOIN bill_lines l ON l.id = a.line_id SET a.line_period_start = l.period_start;
ALTER TABLE allocations
  ADD KEY recovery (site, applied_on, line_period_start, amount_minor),
  DROP KEY by_day;
