-- Master data, transaction lines, agreements with their rules and tiers, and
-- the import log. Money and quantities are numeric (exact decimal); dates are
-- calendar dates without time zone.

CREATE TABLE imports (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('partners', 'products', 'transactions', 'agreements')),
  file_name text NOT NULL,
  mapping_name text,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  rows_read integer NOT NULL DEFAULT 0,
  rows_imported integer NOT NULL DEFAULT 0,
  rows_duplicate integer NOT NULL DEFAULT 0,
  rows_rejected integer NOT NULL DEFAULT 0,
  outcome text NOT NULL CHECK (outcome IN ('imported', 'partially_imported', 'nothing_imported'))
);

CREATE TABLE partners (
  id text PRIMARY KEY,
  name text NOT NULL,
  buying_group text,
  region text,
  attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
  import_id bigint REFERENCES imports (id)
);
CREATE INDEX partners_buying_group_idx ON partners (buying_group);

CREATE TABLE products (
  sku text PRIMARY KEY,
  name text NOT NULL,
  category text NOT NULL,
  list_price numeric,
  attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
  import_id bigint REFERENCES imports (id)
);
CREATE INDEX products_category_idx ON products (category);

-- One invoice, credit-note or sell-through line. Returns are negative lines.
-- The id is the source system's own line id: it is what makes imports idempotent.
-- partner_id and sku carry no foreign keys: the importer checks every line
-- against the master data it holds in memory, and the per-row key checks
-- would more than double the cost of loading millions of lines.
CREATE TABLE transactions (
  id text PRIMARY KEY,
  line_date date NOT NULL,
  partner_id text NOT NULL,
  sku text NOT NULL,
  quantity numeric NOT NULL,
  amount numeric NOT NULL,
  currency char(3) NOT NULL,
  document_type text,
  invoice_number text,
  ship_to text,
  end_customer text,
  unit_price numeric,
  list_price numeric,
  cost numeric,
  import_id bigint NOT NULL
);
CREATE INDEX transactions_partner_date_idx ON transactions (partner_id, line_date);

CREATE TABLE agreements (
  id text PRIMARY KEY,
  name text NOT NULL,
  partner_id text REFERENCES partners (id),
  buying_group text,
  beneficiary_id text REFERENCES partners (id),
  currency char(3) NOT NULL,
  start_date date NOT NULL,
  end_date date NOT NULL,
  calendar text NOT NULL CHECK (calendar IN ('none', 'monthly', 'quarterly', 'yearly')),
  status text NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'active', 'expired', 'closed', 'rejected', 'cancelled')),
  import_id bigint REFERENCES imports (id),
  CHECK ((partner_id IS NULL) <> (buying_group IS NULL)),
  CHECK (start_date <= end_date)
);

CREATE TABLE agreement_rules (
  agreement_id text NOT NULL REFERENCES agreements (id),
  rule_id text NOT NULL,
  position integer NOT NULL,
  type text NOT NULL CHECK (type IN ('volume', 'growth', 'target', 'mix')),
  basis text NOT NULL CHECK (basis IN ('amount', 'quantity')),
  method text NOT NULL CHECK (method IN ('retroactive', 'incremental', 'rolling', 'total')),
  payout text NOT NULL CHECK (payout IN ('percent', 'per_unit', 'lump_sum')),
  -- Product scope and mix condition as JSON: lists of skus, categories and attribute values.
  scope jsonb NOT NULL,
  mix jsonb,
  growth_apply text CHECK (growth_apply IN ('total', 'increment', 'banded')),
  baseline_start date,
  baseline_end date,
  minimum_volume numeric,
  minimum_payout numeric,
  cap numeric,
  PRIMARY KEY (agreement_id, rule_id),
  UNIQUE (agreement_id, position)
);

CREATE TABLE rule_tiers (
  agreement_id text NOT NULL,
  rule_id text NOT NULL,
  position integer NOT NULL,
  from_value numeric NOT NULL,
  rate numeric NOT NULL CHECK (rate >= 0),
  PRIMARY KEY (agreement_id, rule_id, position),
  FOREIGN KEY (agreement_id, rule_id) REFERENCES agreement_rules (agreement_id, rule_id)
);
