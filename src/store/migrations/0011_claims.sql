-- Claims: a partner's request for what it believes it earned for an agreement's
-- rule and period, validated against the calculation with a tolerance; and
-- customer deductions (a short-paid invoice citing a rebate), kept as claims too.
CREATE TABLE claim_settings (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  -- A claim within the larger of these of what is due is approved as claimed.
  tolerance_absolute numeric NOT NULL CHECK (tolerance_absolute >= 0),
  tolerance_percent numeric NOT NULL CHECK (tolerance_percent >= 0)
);
INSERT INTO claim_settings (singleton, tolerance_absolute, tolerance_percent) VALUES (true, 1.00, 0.5);

CREATE TABLE claims (
  id bigserial PRIMARY KEY,
  source text NOT NULL CHECK (source IN ('claim', 'deduction')),
  -- Unknown only for a deduction no accrual covers, which is a dispute from the start.
  agreement_id text REFERENCES agreements (id),
  rule_id text,
  period_start date,
  period_end date,
  partner_id text NOT NULL REFERENCES partners (id),
  -- The partner's own reference (its claim or invoice number): the same one twice is a duplicate.
  reference text NOT NULL,
  invoice_number text,
  currency char(3) NOT NULL,
  claimed numeric NOT NULL CHECK (claimed > 0),
  submitted_by text NOT NULL,
  submitted_at timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL CHECK (status IN ('approved', 'partially_approved', 'disputed', 'rejected')),
  -- Earned less already paid, when the claim was validated.
  due numeric NOT NULL,
  tolerance numeric NOT NULL,
  approved numeric NOT NULL,
  reason_code text NOT NULL,
  resolution text,
  resolved_by text,
  resolved_at timestamptz,
  UNIQUE (partner_id, source, reference),
  CHECK (agreement_id IS NOT NULL OR (source = 'deduction' AND status = 'disputed'))
);

CREATE TABLE claim_comments (
  id bigserial PRIMARY KEY,
  claim_id bigint NOT NULL REFERENCES claims (id),
  author text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  text text NOT NULL
);
CREATE INDEX claim_comments_claim_idx ON claim_comments (claim_id, id);

-- A claim is paid through one settlement, never two.
ALTER TABLE settlements ADD COLUMN claim_id bigint UNIQUE REFERENCES claims (id);
