-- Accruals kept current as lines arrive.
--
-- accrual_totals holds the totals of the qualifying lines of every window an
-- agreement's rules are measured over (each period, and each baseline window);
-- an import adds its new lines to them in the same transaction that stores the
-- lines. accrual_positions holds what each rule has earned to date per period,
-- calculated from those totals. Both are derived data: rebuilding them from the
-- stored lines gives the same figures.

CREATE TABLE accrual_totals (
  agreement_id text NOT NULL REFERENCES agreements (id),
  rule_id text NOT NULL,
  role text NOT NULL CHECK (role IN ('period', 'baseline')),
  window_start date NOT NULL,
  window_end date NOT NULL,
  line_count bigint NOT NULL,
  quantity numeric NOT NULL,
  amount numeric NOT NULL,
  mix_amount numeric NOT NULL,
  mix_distinct_products integer NOT NULL,
  PRIMARY KEY (agreement_id, rule_id, role, window_start, window_end)
);

CREATE TABLE accrual_positions (
  agreement_id text NOT NULL REFERENCES agreements (id),
  rule_id text NOT NULL,
  period_start date NOT NULL,
  period_end date NOT NULL,
  currency char(3) NOT NULL,
  line_count bigint NOT NULL,
  quantity numeric NOT NULL,
  amount numeric NOT NULL,
  baseline_amount numeric NOT NULL,
  measure numeric NOT NULL,
  tier_index integer NOT NULL,
  rebate numeric NOT NULL,
  held_rebate numeric NOT NULL,
  outcome text NOT NULL,
  next_tier_from numeric,
  next_tier_remaining numeric,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agreement_id, rule_id, period_start)
);
