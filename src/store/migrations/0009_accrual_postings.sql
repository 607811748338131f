-- What an agreement accrues: the rebate earned to date, or the forecast's share
-- for the days elapsed (docs/decisions/0012-forecasts-and-accrual-postings.md).
ALTER TABLE agreements ADD COLUMN accrual_basis text NOT NULL DEFAULT 'earned'
  CHECK (accrual_basis IN ('earned', 'forecast'));

-- The general ledger accounts journal lines post to, by purpose; finance sets them.
CREATE TABLE ledger_accounts (
  purpose text PRIMARY KEY
    CHECK (purpose IN ('rebate_expense', 'accrued_rebates', 'partner_payable', 'accounts_receivable')),
  account text NOT NULL,
  name text NOT NULL
);
INSERT INTO ledger_accounts (purpose, account, name) VALUES
  ('rebate_expense', '4910', 'Customer rebates (contra-revenue)'),
  ('accrued_rebates', '2350', 'Accrued rebates'),
  ('partner_payable', '2110', 'Rebates payable to partners'),
  ('accounts_receivable', '1200', 'Accounts receivable');

-- One run of `rebates accruals post`: the change in every accrual since the last run.
CREATE TABLE accrual_postings (
  id bigserial PRIMARY KEY,
  period text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  as_of date NOT NULL,
  posted_by text NOT NULL,
  posted_at timestamptz NOT NULL DEFAULT now(),
  entries integer NOT NULL,
  request_id text
);

-- Journal entries, append-only: a change is a new entry (a reversal or a true-up),
-- never an edit. Each entry's lines balance; the database checks it at commit.
CREATE TABLE journal_entries (
  id bigserial PRIMARY KEY,
  source text NOT NULL CHECK (source IN ('accrual', 'settlement')),
  posting_id bigint REFERENCES accrual_postings (id),
  entry_date date NOT NULL,
  agreement_id text NOT NULL REFERENCES agreements (id),
  rule_id text NOT NULL,
  period_start date NOT NULL,
  period_end date NOT NULL,
  currency char(3) NOT NULL,
  -- The change this entry makes to the accrued liability (negative: a reversal).
  amount numeric NOT NULL,
  memo text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_entries_key_idx ON journal_entries (agreement_id, rule_id, period_start, period_end);
CREATE INDEX journal_entries_posting_idx ON journal_entries (posting_id);

CREATE TABLE journal_lines (
  entry_id bigint NOT NULL REFERENCES journal_entries (id),
  line_no smallint NOT NULL,
  account text NOT NULL,
  debit numeric NOT NULL DEFAULT 0 CHECK (debit >= 0),
  credit numeric NOT NULL DEFAULT 0 CHECK (credit >= 0),
  CHECK ((debit = 0) <> (credit = 0)),
  PRIMARY KEY (entry_id, line_no)
);

CREATE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER accrual_postings_append_only BEFORE UPDATE OR DELETE ON accrual_postings
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER accrual_postings_no_truncate BEFORE TRUNCATE ON accrual_postings
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER journal_lines_append_only BEFORE UPDATE OR DELETE ON journal_lines
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER journal_lines_no_truncate BEFORE TRUNCATE ON journal_lines
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- Debits equal credits in every entry, checked when the transaction commits (once
-- all its lines are written).
CREATE FUNCTION journal_entry_balances() RETURNS trigger AS $$
DECLARE
  unbalanced numeric;
BEGIN
  SELECT sum(debit) - sum(credit) INTO unbalanced FROM journal_lines WHERE entry_id = NEW.entry_id;
  IF unbalanced <> 0 THEN
    RAISE EXCEPTION 'journal entry % does not balance: debits minus credits = %', NEW.entry_id, unbalanced
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER journal_lines_balance AFTER INSERT ON journal_lines
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balances();
