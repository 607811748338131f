-- Amendments: an agreement that is approved or active changes only through a new
-- version, approved again by someone other than its author, in force from a date.
-- Version 1 is the agreement as first approved; it is written here, from the
-- agreement's own tables, when the first amendment is. Each version's terms are
-- kept whole, in the agreements' JSON format, so every earlier version stays readable.
CREATE TABLE agreement_versions (
  agreement_id text NOT NULL REFERENCES agreements (id),
  version integer NOT NULL CHECK (version >= 1),
  effective_from date NOT NULL,
  status text NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected', 'cancelled')),
  terms jsonb NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  comment text,
  decided_by text,
  decided_at timestamptz,
  decision_comment text,
  PRIMARY KEY (agreement_id, version)
);
-- One amendment waits for a decision at a time.
CREATE UNIQUE INDEX agreement_versions_one_pending ON agreement_versions (agreement_id) WHERE status = 'submitted';

-- A partner user accepting an agreement's terms: which version, who and when.
CREATE TABLE agreement_sign_offs (
  agreement_id text NOT NULL REFERENCES agreements (id),
  version integer NOT NULL,
  signed_by text NOT NULL,
  signed_at timestamptz NOT NULL DEFAULT now(),
  comment text,
  PRIMARY KEY (agreement_id, version, signed_by)
);

-- Templates the commercial team keeps for agreements it writes often: a calendar
-- and rules, in the agreements' JSON format.
CREATE TABLE agreement_templates (
  id text PRIMARY KEY,
  name text NOT NULL,
  description text,
  terms jsonb NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Counts changes, other than imports and status changes, to what the accruals are
-- calculated from (an approved amendment, an edited partner or product), so a
-- process's cached view of agreements and master data knows it is out of date.
CREATE TABLE calculation_inputs (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  revision bigint NOT NULL
);
INSERT INTO calculation_inputs (singleton, revision) VALUES (true, 0);
