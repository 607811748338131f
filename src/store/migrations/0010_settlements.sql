-- Settlements: what is paid for an agreement's rule and period, interim (on
-- account) or final (netting every earlier payment), prepared by one finance user,
-- approved by another, then posted with its payout document and journal entry.
CREATE TABLE settlements (
  id bigserial PRIMARY KEY,
  agreement_id text NOT NULL REFERENCES agreements (id),
  rule_id text NOT NULL,
  period_start date NOT NULL,
  period_end date NOT NULL,
  kind text NOT NULL CHECK (kind IN ('interim', 'final')),
  status text NOT NULL CHECK (status IN ('draft', 'approved', 'posted', 'cancelled')),
  currency char(3) NOT NULL,
  -- Calculated as of `as_of`, from the lines dated up to it.
  as_of date NOT NULL,
  earned numeric NOT NULL,
  -- Posted settlements for the same rule and period before this one.
  paid_before numeric NOT NULL,
  -- What this settlement pays; negative is a clawback.
  amount numeric NOT NULL,
  payout_method text NOT NULL CHECK (payout_method IN ('credit_memo', 'bank_transfer', 'invoice_offset')),
  clawback_policy text CHECK (clawback_policy IN ('carry_forward', 'invoice')),
  beneficiary_id text NOT NULL,
  prepared_by text NOT NULL,
  prepared_at timestamptz NOT NULL DEFAULT now(),
  approved_by text,
  approved_at timestamptz,
  posted_by text,
  posted_at timestamptz,
  document_number text UNIQUE,
  journal_entry_id bigint REFERENCES journal_entries (id),
  comment text,
  CHECK (amount >= 0 OR clawback_policy IS NOT NULL)
);
-- One final settlement per rule and period, and one interim waiting at a time:
-- concurrent requests meet here, and the loser finds the winner's row.
CREATE UNIQUE INDEX settlements_one_final ON settlements (agreement_id, rule_id, period_start, period_end)
  WHERE kind = 'final' AND status <> 'cancelled';
CREATE UNIQUE INDEX settlements_one_open_interim ON settlements (agreement_id, rule_id, period_start, period_end)
  WHERE kind = 'interim' AND status IN ('draft', 'approved');

-- A posted settlement is a financial record: it is never changed or removed.
CREATE FUNCTION settlements_keep_posted() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' OR OLD.status = 'posted' OR OLD.status = 'cancelled' THEN
    RAISE EXCEPTION 'settlement % is %: it is not changed', OLD.id, OLD.status
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER settlements_posted_kept BEFORE UPDATE OR DELETE ON settlements
  FOR EACH ROW EXECUTE FUNCTION settlements_keep_posted();

-- Payout document numbers: CM- (credit memo), BT- (bank transfer), OF- (invoice offset).
CREATE SEQUENCE settlement_documents;

ALTER TABLE journal_entries ADD COLUMN settlement_id bigint REFERENCES settlements (id);
