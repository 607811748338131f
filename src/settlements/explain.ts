// `rebates explain`: how each figure of an agreement was reached, in words a
// finance reviewer can check by hand — the qualifying lines, the tier table
// with the reached tier marked, each step of the arithmetic, rounding,
// minimums and cap, and the distance to the next tier.
import type { Agreement, Rule, RuleResult } from '../calculation/calculation.types.ts';
import { totalsRequests } from '../calculation/engine.ts';
import { periodStatus } from '../calculation/periods.ts';
import { agreementPartners } from '../calculation/scope.ts';
import { minorUnitsOf } from '../shared/currency.ts';
import { Decimal } from '../shared/decimal.ts';
import { DomainError } from '../shared/errors.ts';
import { formatDecimal, formatMoney } from '../shared/format.ts';
import type { Database } from '../store/database.ts';
import {
  type LineFilter,
  loadMasterData,
  type SampleLine,
  ScopeResolver,
  sampleLines,
  settle,
} from './settlement.service.ts';

/** Lines shown as a sample of what qualified. */
export const EXPLAIN_SAMPLE_LINES = 5;

function describeScope(rule: Rule): string {
  const parts: string[] = [];
  const s = rule.scope;
  if (s.skus) parts.push(`skus ${s.skus.join(', ')}`);
  if (s.categories) parts.push(`categories ${s.categories.join(', ')}`);
  for (const [name, values] of Object.entries(s.attributes ?? {}))
    parts.push(`${name} ${values.join(' or ')}`);
  let text = parts.length > 0 ? parts.join('; ') : 'all products';
  const e = s.exclude;
  if (e) {
    const ex: string[] = [];
    if (e.skus) ex.push(`skus ${e.skus.join(', ')}`);
    if (e.categories) ex.push(`categories ${e.categories.join(', ')}`);
    for (const [name, values] of Object.entries(e.attributes ?? {}))
      ex.push(`${name} ${values.join(' or ')}`);
    if (ex.length > 0) text += `, excluding ${ex.join('; ')}`;
  }
  return text;
}

function tierRate(rule: Rule, rate: string): string {
  return rule.payout === 'percent'
    ? `${rate}%`
    : rule.payout === 'per_unit'
      ? `${rate} per unit`
      : `${rate} lump sum`;
}

function describeRule(rule: Rule): string {
  const what =
    rule.type === 'growth'
      ? `growth over ${rule.growth!.baseline.kind === 'window' ? `${rule.growth!.baseline.window.start} to ${rule.growth!.baseline.window.end}` : 'the same period last year'}, paid on ${{ total: 'the whole period amount', increment: 'the growth over the baseline', banded: 'the growth, band by band' }[rule.growth!.apply]}`
      : `${rule.type}, measured on ${rule.basis}, ${rule.method} tiers`;
  const extras = [
    rule.mix
      ? `mix: ${[rule.mix.minSharePercent ? `at least ${formatDecimal(rule.mix.minSharePercent)}% of the amount` : '', rule.mix.minDistinctProducts ? `at least ${rule.mix.minDistinctProducts} distinct products` : ''].filter(Boolean).join(' and ')} from ${rule.mix.categories.join(', ')}`
      : '',
    rule.minimumVolume ? `minimum volume ${formatDecimal(rule.minimumVolume)}` : '',
    rule.minimumPayout ? `minimum payout ${formatDecimal(rule.minimumPayout)}` : '',
    rule.cap ? `cap ${formatDecimal(rule.cap)} per period` : '',
  ].filter(Boolean);
  return `${what}; payout ${rule.payout.replace('_', ' ')}${extras.length ? `; ${extras.join('; ')}` : ''}`;
}

function explainPeriod(
  agreement: Agreement,
  rule: Rule,
  result: RuleResult,
  filter: LineFilter,
  sample: SampleLine[],
  asOf: string,
): string[] {
  const minor = minorUnitsOf(agreement.currency);
  const out: string[] = [];
  out.push(
    `  Period ${result.period.start} to ${result.period.end} (${periodStatus(result.period, asOf).replace('_', ' ')} on ${asOf})`,
  );
  const productText = filter.skus === undefined ? 'any product' : `${filter.skus.length} products in scope`;
  out.push(
    `    Qualifying lines: ${result.lineCount} (${filter.partners.length} partner${filter.partners.length === 1 ? '' : 's'}, ${productText}, dated ${filter.window.start} to ${filter.window.end}, in ${agreement.currency}; returns subtract)`,
  );
  out.push(
    `      quantity ${formatDecimal(result.quantity)}, amount ${formatMoney(result.amount, minor)} ${agreement.currency}`,
  );
  if (sample.length > 0) {
    out.push(`      first ${sample.length} by date:`);
    for (const l of sample) {
      out.push(`        ${l.id}  ${l.date}  ${l.partner}  ${l.sku}  qty ${l.quantity}  amount ${l.amount}`);
    }
  }
  if (result.baselineWindow) {
    out.push(
      `    Baseline ${result.baselineWindow.start} to ${result.baselineWindow.end}: ${result.baselineLineCount} lines, amount ${formatMoney(result.baselineAmount, minor)} ${agreement.currency}`,
    );
  }
  const unit =
    rule.type === 'growth' ? '% growth' : rule.basis === 'amount' ? ` ${agreement.currency}` : ' units';
  out.push(`    Tiers (${rule.type === 'growth' ? 'growth over the baseline' : rule.basis}):`);
  rule.tiers.forEach((t, i) => {
    const marker = i === result.tierIndex ? '>' : ' ';
    const upTo = rule.tiers[i + 1] ? ` up to ${formatDecimal(rule.tiers[i + 1]!.from)}${unit}` : ' and above';
    out.push(
      `    ${marker} tier ${i + 1}: from ${formatDecimal(t.from)}${unit}${upTo}: ${tierRate(rule, formatDecimal(t.rate))}${i === result.tierIndex ? '   <- reached' : ''}`,
    );
  });
  out.push('    Calculation:');
  for (const step of result.steps) out.push(`      ${step.label}: ${step.formula}`);
  const held = result.heldRebate.isZero()
    ? ''
    : ` (${formatMoney(result.heldRebate, minor)} held below the minimum payout)`;
  out.push(
    `    Rebate: ${formatMoney(result.rebate, minor)} ${agreement.currency} [${result.outcome.replaceAll('_', ' ')}]${held}`,
  );
  if (result.nextTier) {
    const needed =
      rule.type === 'growth' || rule.basis === 'amount'
        ? `${formatMoney(result.nextTier.remaining, minor)} ${agreement.currency} more ${rule.type === 'growth' ? 'period amount' : 'amount'}`
        : `${formatDecimal(result.nextTier.remaining)} more units`;
    out.push(
      `    Next tier: tier ${result.nextTier.index + 1} from ${formatDecimal(result.nextTier.from)}${unit}; ${needed} needed`,
    );
  } else if (result.tierIndex >= 0) {
    out.push('    Next tier: none, the highest tier is reached');
  }
  return out;
}

/** Error codes: `unknown_agreement`. */
export async function explainAgreement(
  db: Database,
  agreementId: string,
  asOf: string,
  dataAsOf?: string,
): Promise<string> {
  const run = await settle(db, { agreementIds: [agreementId], ...(dataAsOf ? { asOf: dataAsOf } : {}) });
  const stored = run.agreements[0];
  if (stored === undefined) {
    throw new DomainError(
      'agreement_not_settled',
      `agreement ${agreementId} is not in a settled state (draft, rejected or cancelled)`,
    );
  }
  const { agreement } = stored;
  const master = await loadMasterData(db);
  const resolver = new ScopeResolver(master);
  const requests = totalsRequests(agreement, dataAsOf).filter((r) => r.role === 'period');
  const out: string[] = [];
  const party = agreement.partner
    ? `partner ${agreement.partner}`
    : `buying group ${agreement.buyingGroup} (${agreementPartners(agreement, master.partners).length} members)`;
  out.push(`Agreement ${agreement.id} "${agreement.name}" with ${party}, status ${stored.status}`);
  out.push(
    `  ${agreement.window.start} to ${agreement.window.end}, ${agreement.calendar === 'none' ? 'one period' : `${agreement.calendar} periods`}, in ${agreement.currency}; amounts exact, rounded half away from zero once per rule and period`,
  );
  for (const rule of agreement.rules) {
    out.push('');
    const version = rule.effective
      ? ` (version ${rule.version}, in force ${rule.effective.start} to ${rule.effective.end})`
      : '';
    out.push(`Rule ${rule.id}${version}: ${describeRule(rule)}`);
    out.push(`  Products: ${describeScope(rule)}`);
    for (const result of run.results.filter((r) => r.ruleId === rule.id && r.version === rule.version)) {
      const request = requests.find((r) => r.rule === rule && r.window.start === result.period.start)!;
      const filter = resolver.filter(request);
      const sample = await sampleLines(db, filter, EXPLAIN_SAMPLE_LINES);
      out.push(...explainPeriod(agreement, rule, result, filter, sample, asOf));
    }
  }
  const total = Decimal.sum(run.results.map((r) => r.rebate));
  out.push('', `Total rebate: ${formatMoney(total, minorUnitsOf(agreement.currency))} ${agreement.currency}`);
  return `${out.join('\n')}\n`;
}
