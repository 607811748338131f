-- Counts every statement that changes the transaction lines, so that a process
-- keeping a columnar copy of them (transactions/line-columns.ts) knows whether
-- its copy is still the lines the store holds. A statement trigger counts every
-- writer, including any that does not keep the copy; a sequence rather than a
-- row, so that writers of lines never wait for each other on it (a sequence is
-- not rolled back: a count that moves without a change costs only the copy).
CREATE SEQUENCE transaction_lines_revision;

CREATE FUNCTION count_transaction_lines_change() RETURNS trigger AS $$
BEGIN
  PERFORM nextval('transaction_lines_revision');
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER transaction_lines_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON transactions
  FOR EACH STATEMENT EXECUTE FUNCTION count_transaction_lines_change();
