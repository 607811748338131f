-- Who wrote an agreement: the approver must be someone else (segregation of duties).
ALTER TABLE agreements ADD COLUMN created_by text;

-- Every change of an agreement's status, in order: its history, and what tells
-- the accruals' cached list of settled agreements that it is out of date.
CREATE TABLE agreement_status_changes (
  id bigserial PRIMARY KEY,
  agreement_id text NOT NULL REFERENCES agreements (id),
  from_status text NOT NULL,
  to_status text NOT NULL,
  changed_by text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  comment text
);
CREATE INDEX agreement_status_changes_agreement_idx ON agreement_status_changes (agreement_id, id);
