-- What caused a change another service's process made (a handover's
-- completion setting a unit's occupancy), so the history says why.
ALTER TABLE register_history ADD COLUMN reference VARCHAR(200) NOT NULL DEFAULT '';
