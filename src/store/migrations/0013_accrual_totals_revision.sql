-- Counts every change to accrual_totals, so a process that keeps window totals
-- in memory to calculate positions from knows whether they are still current:
-- one row to read instead of the totals of thousands of agreements. A statement
-- trigger counts every writer, including any that forgets to; a count that
-- moves without a change costs only a re-read.
CREATE TABLE accrual_totals_revision (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  revision bigint NOT NULL
);
INSERT INTO accrual_totals_revision (singleton, revision) VALUES (true, 0);

CREATE FUNCTION count_accrual_totals_change() RETURNS trigger AS $$
BEGIN
  UPDATE accrual_totals_revision SET revision = revision + 1;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER accrual_totals_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accrual_totals
  FOR EACH STATEMENT EXECUTE FUNCTION count_accrual_totals_change();

-- A number for each window, so that a batch's update names the ~4,000 windows it
-- changes by one integer each instead of five text and date columns: at ten
-- million lines that took the update from about 36 ms to 25 ms. A process knows
-- the numbers of the windows it has read (totals-cache.ts); a window keeps its
-- number while it exists.
ALTER TABLE accrual_totals ADD COLUMN window_id bigint GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX accrual_totals_window_id ON accrual_totals (window_id);
