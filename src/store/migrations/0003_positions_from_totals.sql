-- Accrual positions are calculated from the window totals when they are read,
-- not stored: a batch of new lines then writes only the totals it changes, and
-- reading a position costs one calculation of the core, which is cheaper than
-- writing it on every batch. updated_at tells when a window's totals last changed.

DROP TABLE accrual_positions;

ALTER TABLE accrual_totals ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Every batch of lines updates the totals of the windows it touches, thousands of
-- rows at ten million lines. Half-empty pages let those updates stay on their
-- page (HOT updates, no index change), and each page is cleaned as it is read:
-- the table stays its size without a vacuum, which the embedded store never runs
-- and a server may not either. Without this the table grew sixfold over 200
-- batches and every update scanned the dead rows.
ALTER TABLE accrual_totals SET (fillfactor = 50);
