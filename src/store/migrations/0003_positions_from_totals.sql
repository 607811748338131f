-- Accrual positions are calculated from the window totals when they are read,
-- not stored: a batch of new lines then writes only the totals it changes, and
-- reading a position costs one calculation of the core, which is cheaper than
-- writing it on every batch. updated_at tells when a window's totals last changed.

DROP TABLE accrual_positions;

ALTER TABLE accrual_totals ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
