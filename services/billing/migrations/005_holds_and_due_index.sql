-- Days a line spent on hold do not count towards its late fee; and the
-- aging, late-fee and due-sum queries read a site's lines by due date.
ALTER TABLE bill_lines
  ADD COLUMN held_since DATE NULL,
  ADD COLUMN held_days INT NOT NULL DEFAULT 0,
  ADD KEY by_due (site, due_date);
