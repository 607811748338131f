-- The audit trail: who changed what, when, from which request, and why. Each
-- entry carries the hash of the one before it, so an entry changed or removed
-- afterwards breaks the chain (`rebates audit verify`). The database itself
-- refuses to update, delete or truncate the log.

CREATE TABLE audit_log (
  seq bigserial PRIMARY KEY,
  -- Text exactly as hashed: an ISO timestamp, and JSON as written.
  at text NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  entity text NOT NULL,
  entity_id text,
  before text,
  after text,
  comment text,
  request_id text,
  prev_hash text NOT NULL,
  hash text NOT NULL
);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % is refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
