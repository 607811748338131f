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
