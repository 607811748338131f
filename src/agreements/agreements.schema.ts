// The agreements JSON format: a superset of the benchmark workload's format
// (docs/workload-format.md) that can express every rule the engine knows.
// A workload agreement is a single rule written at the top level; an extended
// agreement lists `rules`. Both become the calculation core's Agreement.
import { z } from 'zod';
import type {
  Agreement,
  Baseline,
  Calendar,
  MixCondition,
  ProductScope,
  ProductSelector,
  Rule,
  Tier,
} from '../calculation/calculation.types.ts';
import { isCurrency, minorUnitsOf } from '../shared/currency.ts';
import { isIsoDate } from '../shared/dates.ts';
import { Decimal } from '../shared/decimal.ts';
import type { Problem } from '../shared/errors.ts';
import {
  IDENTIFIER_LENGTH_MAX,
  PERIODS_PER_AGREEMENT_MAX,
  RULES_PER_AGREEMENT_MAX,
  SCOPE_ENTRIES_MAX,
  TEXT_LENGTH_MAX,
  TIERS_MAX,
} from '../shared/limits.ts';
import type { AGREEMENT_ERRORS } from './agreements.errors.ts';

/** Currency of agreements that name none (the workload format has no currency field). */
export const DEFAULT_AGREEMENT_CURRENCY = 'USD';

const identifier = z.string().trim().min(1).max(IDENTIFIER_LENGTH_MAX);
const decimalText = z.union([z.string(), z.number()]).transform((v, ctx) => {
  // Numbers are accepted only when they are integers written exactly; fractions must be strings.
  const text = typeof v === 'number' ? (Number.isSafeInteger(v) ? String(v) : '') : v.trim();
  const d = Decimal.tryParse(text);
  if (d === undefined) {
    ctx.addIssue({
      code: 'custom',
      message:
        typeof v === 'number'
          ? `write the number ${v} as a decimal string, e.g. "${v}"`
          : `"${v}" is not a decimal number`,
    });
    return z.NEVER;
  }
  return d;
});
const isoDate = z.string().refine(isIsoDate, { message: 'must be a date YYYY-MM-DD' });
const windowSchema = z.strictObject({ start: isoDate, end: isoDate });
const list = z.array(identifier).max(SCOPE_ENTRIES_MAX);
const selectorSchema = z.strictObject({
  skus: list.optional(),
  categories: list.optional(),
  attributes: z.record(z.string().min(1).max(IDENTIFIER_LENGTH_MAX), list).optional(),
});
const scopeSchema = selectorSchema.extend({ exclude: selectorSchema.optional() });
const tierSchema = z.strictObject({ from: decimalText, rate: decimalText });
const mixSchema = z.strictObject({
  categories: list.min(1),
  minShare: decimalText.optional(),
  minProducts: z.number().int().min(1).optional(),
});
const baselineSchema = z.union([windowSchema, z.literal('same_period_last_year')]);

const ruleFields = {
  type: z.enum(['volume', 'growth', 'target', 'mix']).default('volume'),
  basis: z.enum(['amount', 'quantity']).default('amount'),
  method: z.enum(['retroactive', 'incremental', 'rolling', 'total']).default('retroactive'),
  payout: z.enum(['percent', 'per_unit', 'lump_sum']).optional(),
  tiers: z.array(tierSchema).min(1).max(TIERS_MAX),
  scope: scopeSchema.default({}),
  apply: z.enum(['total', 'increment', 'banded']).optional(),
  baseline: baselineSchema.optional(),
  mix: mixSchema.optional(),
  minimumVolume: decimalText.optional(),
  minimumPayout: decimalText.optional(),
  cap: decimalText.optional(),
};
const ruleSchema = z.strictObject({
  id: identifier.optional(),
  name: z.string().max(TEXT_LENGTH_MAX).optional(),
  ...ruleFields,
});

const agreementHead = {
  id: identifier,
  name: z.string().trim().min(1).max(TEXT_LENGTH_MAX).optional(),
  partner: identifier.optional(),
  group: identifier.optional(),
  beneficiary: identifier.optional(),
  currency: z
    .string()
    .refine(isCurrency, { message: 'must be an ISO 4217 currency code such as USD' })
    .optional(),
  period: windowSchema,
  calendar: z.enum(['none', 'monthly', 'quarterly', 'yearly']).default('none'),
  /** What the agreement accrues: the rebate earned to date (default) or its forecast's share. */
  accrual: z.enum(['earned', 'forecast']).optional(),
  status: z
    .enum(['draft', 'submitted', 'approved', 'active', 'expired', 'closed', 'rejected', 'cancelled'])
    .default('active'),
};
const extendedSchema = z.strictObject({
  ...agreementHead,
  rules: z.array(ruleSchema).min(1).max(RULES_PER_AGREEMENT_MAX),
});
const singleRuleSchema = z.strictObject({ ...agreementHead, ...ruleFields });

export type AgreementStatus = z.infer<typeof extendedSchema>['status'];
type RuleInput = z.infer<typeof ruleSchema>;

export interface ParsedAgreement {
  agreement: Agreement;
  status: AgreementStatus;
}

function problem(code: keyof typeof AGREEMENT_ERRORS, field: string, message: string): Problem {
  return { code, field, message };
}

function pathText(prefix: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}${acc ? '.' : ''}${String(key)}`),
    prefix,
  );
}

function selector(input: z.infer<typeof selectorSchema>): ProductSelector {
  const out: ProductSelector = {};
  if (input.skus) out.skus = [...new Set(input.skus)].sort();
  if (input.categories) out.categories = [...new Set(input.categories)].sort();
  if (input.attributes && Object.keys(input.attributes).length > 0) out.attributes = input.attributes;
  return out;
}

function ruleFrom(
  input: RuleInput,
  index: number,
  currency: string,
  calendar: Calendar,
  at: string,
  problems: Problem[],
): Rule {
  const minorUnits = minorUnitsOf(currency);
  const type = input.type;
  const payout = input.payout ?? (type === 'target' ? 'lump_sum' : 'percent');
  const tiers: Tier[] = input.tiers;
  for (let i = 1; i < tiers.length; i++) {
    if (!tiers[i]!.from.gt(tiers[i - 1]!.from)) {
      problems.push(
        problem(
          'tier_thresholds_must_ascend',
          `${at}.tiers[${i}].from`,
          `tier thresholds must ascend: ${tiers[i]!.from} after ${tiers[i - 1]!.from}`,
        ),
      );
    }
  }
  tiers.forEach((t, i) => {
    if (t.rate.sign() < 0)
      problems.push(
        problem('rate_must_not_be_negative', `${at}.tiers[${i}].rate`, 'a rate cannot be negative'),
      );
    if (payout === 'lump_sum' && t.rate.significantScale() > minorUnits) {
      problems.push(
        problem(
          'amount_has_too_many_decimals',
          `${at}.tiers[${i}].rate`,
          `a lump sum in ${currency} has at most ${minorUnits} decimals`,
        ),
      );
    }
  });
  const sliced = input.method !== 'retroactive' && payout !== 'lump_sum';
  if (sliced && payout === 'percent' && input.basis !== 'amount') {
    problems.push(
      problem(
        'payout_does_not_match_basis',
        `${at}.payout`,
        `a ${input.method} percent payout pays on slices of amount: use basis "amount"`,
      ),
    );
  }
  if (sliced && payout === 'per_unit' && input.basis !== 'quantity') {
    problems.push(
      problem(
        'payout_does_not_match_basis',
        `${at}.payout`,
        `a ${input.method} per-unit payout pays on slices of quantity: use basis "quantity"`,
      ),
    );
  }
  for (const [field, value] of [
    ['cap', input.cap],
    ['minimumPayout', input.minimumPayout],
  ] as const) {
    if (value === undefined) continue;
    if (value.sign() < 0)
      problems.push(problem('amount_must_not_be_negative', `${at}.${field}`, `${field} cannot be negative`));
    if (value.significantScale() > minorUnits) {
      problems.push(
        problem(
          'amount_has_too_many_decimals',
          `${at}.${field}`,
          `${field} in ${currency} has at most ${minorUnits} decimals`,
        ),
      );
    }
  }
  const rule: Rule = {
    id: input.id ?? `R${index + 1}`,
    type,
    basis: input.basis,
    method: input.method,
    payout,
    tiers,
    scope: {
      ...selector(input.scope),
      ...(input.scope.exclude ? { exclude: selector(input.scope.exclude) } : {}),
    } as ProductScope,
  };
  if (type === 'growth') {
    if (input.basis !== 'amount')
      problems.push(problem('growth_needs_amount_basis', `${at}.basis`, 'growth is measured on amount'));
    if (payout === 'per_unit')
      problems.push(
        problem('growth_pays_percent_or_lump_sum', `${at}.payout`, 'growth pays a percent or a lump sum'),
      );
    if (input.method !== 'retroactive') {
      problems.push(
        problem(
          'growth_method_is_apply',
          `${at}.method`,
          'growth rules use "apply" (total, increment, banded) instead of a method',
        ),
      );
    }
    let baseline: Baseline;
    if (input.baseline === undefined || input.baseline === 'same_period_last_year') {
      baseline = { kind: 'same_period_last_year' };
    } else {
      if (calendar !== 'none') {
        problems.push(
          problem(
            'baseline_window_needs_single_period',
            `${at}.baseline`,
            'a recurring agreement compares each period with "same_period_last_year"',
          ),
        );
      }
      if (input.baseline.start > input.baseline.end) {
        problems.push(problem('window_start_after_end', `${at}.baseline`, 'baseline start is after its end'));
      }
      baseline = { kind: 'window', window: input.baseline };
    }
    rule.growth = { apply: input.apply ?? 'total', baseline };
  } else {
    if (input.apply !== undefined)
      problems.push(problem('only_growth_has_apply', `${at}.apply`, '"apply" is for growth rules'));
    if (input.baseline !== undefined)
      problems.push(problem('only_growth_has_baseline', `${at}.baseline`, '"baseline" is for growth rules'));
  }
  if (type === 'mix' && input.mix === undefined)
    problems.push(problem('mix_rule_needs_mix', `${at}.mix`, 'a mix rule needs "mix"'));
  if (input.mix) {
    if (input.mix.minShare === undefined && input.mix.minProducts === undefined) {
      problems.push(
        problem('mix_needs_a_condition', `${at}.mix`, 'give "minShare" (percent) or "minProducts"'),
      );
    }
    const mix: MixCondition = { categories: [...new Set(input.mix.categories)].sort() };
    if (input.mix.minShare !== undefined) mix.minSharePercent = input.mix.minShare;
    if (input.mix.minProducts !== undefined) mix.minDistinctProducts = input.mix.minProducts;
    rule.mix = mix;
  }
  if (input.minimumVolume !== undefined) rule.minimumVolume = input.minimumVolume;
  if (input.minimumPayout !== undefined) rule.minimumPayout = input.minimumPayout;
  if (input.cap !== undefined) rule.cap = input.cap;
  return rule;
}

function monthsBetween(start: string, end: string): number {
  return (
    (Number(end.slice(0, 4)) - Number(start.slice(0, 4))) * 12 +
    Number(end.slice(5, 7)) -
    Number(start.slice(5, 7)) +
    1
  );
}

/**
 * Validates one agreement object. Returns the agreement, or every problem found,
 * each with the JSON path of its field (prefixed by `at`, e.g. `[3]`).
 * Error codes: see agreements.errors.ts.
 */
export function parseAgreement(
  value: unknown,
  at = '',
): { ok: true; value: ParsedAgreement } | { ok: false; problems: Problem[] } {
  const isExtended = typeof value === 'object' && value !== null && 'rules' in value;
  const parsed = (isExtended ? extendedSchema : singleRuleSchema).safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => ({
        code: 'invalid_field',
        field: pathText(at, issue.path),
        message: issue.message,
      })),
    };
  }
  const input = parsed.data;
  const problems: Problem[] = [];
  if ((input.partner === undefined) === (input.group === undefined)) {
    problems.push(
      problem(
        'partner_or_group_required',
        `${at}${at ? '.' : ''}partner`,
        'give either "partner" or "group", not both',
      ),
    );
  }
  if (input.period.start > input.period.end) {
    problems.push(
      problem('window_start_after_end', `${at}${at ? '.' : ''}period`, 'period start is after its end'),
    );
  }
  const currency = input.currency ?? DEFAULT_AGREEMENT_CURRENCY;
  const months = monthsBetween(input.period.start, input.period.end);
  const periodCount = {
    none: 1,
    monthly: months,
    quarterly: Math.ceil(months / 3) + 1,
    yearly: Math.ceil(months / 12) + 1,
  }[input.calendar];
  if (periodCount > PERIODS_PER_AGREEMENT_MAX) {
    problems.push(
      problem(
        'too_many_periods',
        `${at}${at ? '.' : ''}calendar`,
        `at most ${PERIODS_PER_AGREEMENT_MAX} periods per agreement`,
      ),
    );
  }
  const rulesInput: RuleInput[] = 'rules' in input ? input.rules : [input as unknown as RuleInput];
  const rules = rulesInput.map((r, i) =>
    ruleFrom(r, i, currency, input.calendar, 'rules' in input ? `${at}.rules[${i}]` : at, problems),
  );
  const ruleIds = new Set<string>();
  rules.forEach((r, i) => {
    if (ruleIds.has(r.id))
      problems.push(problem('duplicate_rule_id', `${at}.rules[${i}].id`, `rule id ${r.id} is used twice`));
    ruleIds.add(r.id);
  });
  if (problems.length > 0) return { ok: false, problems };
  const agreement: Agreement = {
    id: input.id,
    name: input.name ?? input.id,
    currency,
    window: input.period,
    calendar: input.calendar,
    rules,
  };
  if (input.partner !== undefined) agreement.partner = input.partner;
  if (input.group !== undefined) agreement.buyingGroup = input.group;
  if (input.beneficiary !== undefined) agreement.beneficiary = input.beneficiary;
  if (input.accrual === 'forecast') agreement.accrualBasis = 'forecast';
  return { ok: true, value: { agreement, status: input.status } };
}
