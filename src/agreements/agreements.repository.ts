// Agreements, their rules and tiers in the store, and back into the
// calculation core's Agreement. No business rule is decided here.
import { sql } from 'kysely';
import type {
  Agreement,
  Baseline,
  MixCondition,
  ProductScope,
  Rule,
} from '../calculation/calculation.types.ts';
import { Decimal } from '../shared/decimal.ts';
import type { Database } from '../store/database.ts';
import { type AgreementStatus, type ParsedAgreement, parseAgreement } from './agreements.schema.ts';
import { type ApprovedVersion, agreementInForce } from './versions.ts';

export interface StoredAgreement extends ParsedAgreement {
  importId: string | null;
  /** The approved versions, oldest first, once the agreement has been amended. */
  versions?: ApprovedVersion[];
}

/** The terms agreed last: the latest approved version's, or the agreement's own. */
export function latestTerms(stored: StoredAgreement): Agreement {
  return stored.versions?.at(-1)?.terms ?? stored.agreement;
}

/** The terms as first written and approved (what an agreements file describes). */
export function originalTerms(stored: StoredAgreement): Agreement {
  return stored.versions?.[0]?.terms ?? stored.agreement;
}

/** A version's stored terms back into the core's Agreement; they were validated when written. */
export function termsFromJson(json: unknown): Agreement {
  const parsed = parseAgreement(json);
  if (!parsed.ok) throw new Error(`stored agreement terms no longer parse: ${parsed.problems[0]?.message}`);
  return parsed.value.agreement;
}

const optionalDecimal = (text: string | null) => (text === null ? undefined : Decimal.parse(text));

/** The agreement in the extended JSON format, with keys in a fixed order: used to compare content. */
export function agreementToJson(agreement: Agreement, status: AgreementStatus): Record<string, unknown> {
  return {
    id: agreement.id,
    name: agreement.name,
    ...(agreement.partner !== undefined ? { partner: agreement.partner } : { group: agreement.buyingGroup }),
    ...(agreement.beneficiary !== undefined ? { beneficiary: agreement.beneficiary } : {}),
    currency: agreement.currency,
    period: { start: agreement.window.start, end: agreement.window.end },
    calendar: agreement.calendar,
    // Written only when not the default, so files without it compare equal.
    ...(agreement.accrualBasis === 'forecast' ? { accrual: 'forecast' } : {}),
    status,
    rules: agreement.rules.map((r) => ({
      id: r.id,
      type: r.type,
      basis: r.basis,
      method: r.method,
      payout: r.payout,
      tiers: r.tiers.map((t) => ({ from: t.from.toPlainString(), rate: t.rate.toPlainString() })),
      scope: r.scope,
      ...(r.growth
        ? {
            apply: r.growth.apply,
            baseline:
              r.growth.baseline.kind === 'window' ? r.growth.baseline.window : 'same_period_last_year',
          }
        : {}),
      ...(r.mix
        ? {
            mix: {
              categories: r.mix.categories,
              ...(r.mix.minSharePercent ? { minShare: r.mix.minSharePercent.toPlainString() } : {}),
              ...(r.mix.minDistinctProducts !== undefined ? { minProducts: r.mix.minDistinctProducts } : {}),
            },
          }
        : {}),
      ...(r.minimumVolume ? { minimumVolume: r.minimumVolume.toPlainString() } : {}),
      ...(r.minimumPayout ? { minimumPayout: r.minimumPayout.toPlainString() } : {}),
      ...(r.cap ? { cap: r.cap.toPlainString() } : {}),
    })),
  };
}

/** Agreements written per statement group; keeps each INSERT well under PostgreSQL's parameter limit. */
const AGREEMENTS_PER_INSERT_MAX = 300;

export async function insertAgreements(
  db: Database,
  list: readonly ParsedAgreement[],
  importId: string | null,
  createdBy: string | null = null,
): Promise<void> {
  for (let offset = 0; offset < list.length; offset += AGREEMENTS_PER_INSERT_MAX) {
    const chunk = list.slice(offset, offset + AGREEMENTS_PER_INSERT_MAX);
    const heads = chunk.map((parsed) => headRow(parsed, importId, createdBy));
    const rules = chunk.flatMap(({ agreement }) => ruleRows(agreement));
    const tiers = chunk.flatMap(({ agreement }) => tierRows(agreement));
    await db.insertInto('agreements').values(heads).execute();
    await db.insertInto('agreement_rules').values(rules).execute();
    await db.insertInto('rule_tiers').values(tiers).execute();
  }
}

/** The agreements row of an agreement. */
export function headRow(
  { agreement: a, status }: ParsedAgreement,
  importId: string | null,
  createdBy: string | null,
) {
  return {
    id: a.id,
    name: a.name,
    partner_id: a.partner ?? null,
    buying_group: a.buyingGroup ?? null,
    beneficiary_id: a.beneficiary ?? null,
    currency: a.currency,
    start_date: a.window.start,
    end_date: a.window.end,
    calendar: a.calendar,
    accrual_basis: a.accrualBasis ?? 'earned',
    status,
    import_id: importId,
    created_by: createdBy,
  };
}

/** The agreement_rules rows of an agreement. */
export function ruleRows(a: Agreement) {
  return a.rules.map((r, position) => {
    const baselineWindow = r.growth?.baseline.kind === 'window' ? r.growth.baseline.window : undefined;
    return {
      agreement_id: a.id,
      rule_id: r.id,
      position,
      type: r.type,
      basis: r.basis,
      method: r.method,
      payout: r.payout,
      scope: JSON.stringify(r.scope),
      mix: r.mix
        ? JSON.stringify({
            categories: r.mix.categories,
            minSharePercent: r.mix.minSharePercent?.toString(),
            minDistinctProducts: r.mix.minDistinctProducts,
          })
        : null,
      growth_apply: r.growth?.apply ?? null,
      baseline_start: baselineWindow?.start ?? null,
      baseline_end: baselineWindow?.end ?? null,
      minimum_volume: r.minimumVolume?.toString() ?? null,
      minimum_payout: r.minimumPayout?.toString() ?? null,
      cap: r.cap?.toString() ?? null,
    };
  });
}

/** The rule_tiers rows of an agreement. */
export function tierRows(a: Agreement) {
  return a.rules.flatMap((r) =>
    r.tiers.map((t, position) => ({
      agreement_id: a.id,
      rule_id: r.id,
      position,
      from_value: t.from.toString(),
      rate: t.rate.toString(),
    })),
  );
}

/** Loads agreements (all, or the given ids) with their rules and tiers, ordered by id. */
export async function loadAgreements(db: Database, ids?: readonly string[]): Promise<StoredAgreement[]> {
  if (ids !== undefined && ids.length === 0) return [];
  let heads = db.selectFrom('agreements').selectAll().orderBy('id');
  let rules = db.selectFrom('agreement_rules').selectAll().orderBy('agreement_id').orderBy('position');
  let versions = db
    .selectFrom('agreement_versions')
    .select(['agreement_id', 'version', 'effective_from', 'terms'])
    .where('status', '=', 'approved')
    .orderBy('agreement_id')
    .orderBy('version');
  let tiers = db
    .selectFrom('rule_tiers')
    .selectAll()
    .orderBy('agreement_id')
    .orderBy('rule_id')
    .orderBy('position');
  if (ids !== undefined) {
    heads = heads.where('id', '=', sql<string>`ANY(${[...ids]})`);
    rules = rules.where('agreement_id', '=', sql<string>`ANY(${[...ids]})`);
    tiers = tiers.where('agreement_id', '=', sql<string>`ANY(${[...ids]})`);
    versions = versions.where('agreement_id', '=', sql<string>`ANY(${[...ids]})`);
  }
  const [headRows, ruleRows, tierRows, versionRows] = [
    await heads.execute(),
    await rules.execute(),
    await tiers.execute(),
    await versions.execute(),
  ];
  const versionsByAgreement = new Map<string, ApprovedVersion[]>();
  for (const v of versionRows) {
    const list = versionsByAgreement.get(v.agreement_id) ?? [];
    list.push({ version: v.version, effectiveFrom: v.effective_from, terms: termsFromJson(v.terms) });
    versionsByAgreement.set(v.agreement_id, list);
  }
  const tiersByRule = new Map<string, { from: Decimal; rate: Decimal }[]>();
  for (const t of tierRows) {
    const key = `${t.agreement_id}\u0000${t.rule_id}`;
    const list = tiersByRule.get(key) ?? [];
    list.push({ from: Decimal.parse(t.from_value), rate: Decimal.parse(t.rate) });
    tiersByRule.set(key, list);
  }
  const rulesByAgreement = new Map<string, Rule[]>();
  for (const r of ruleRows) {
    const rule: Rule = {
      id: r.rule_id,
      type: r.type as Rule['type'],
      basis: r.basis as Rule['basis'],
      method: r.method as Rule['method'],
      payout: r.payout as Rule['payout'],
      tiers: tiersByRule.get(`${r.agreement_id}\u0000${r.rule_id}`) ?? [],
      scope: r.scope as ProductScope,
    };
    if (r.growth_apply !== null) {
      const baseline: Baseline =
        r.baseline_start !== null && r.baseline_end !== null
          ? { kind: 'window', window: { start: r.baseline_start, end: r.baseline_end } }
          : { kind: 'same_period_last_year' };
      rule.growth = { apply: r.growth_apply as 'total', baseline };
    }
    if (r.mix !== null) {
      const m = r.mix as { categories: string[]; minSharePercent?: string; minDistinctProducts?: number };
      const mix: MixCondition = { categories: m.categories };
      if (m.minSharePercent !== undefined) mix.minSharePercent = Decimal.parse(m.minSharePercent);
      if (m.minDistinctProducts !== undefined) mix.minDistinctProducts = m.minDistinctProducts;
      rule.mix = mix;
    }
    const minimumVolume = optionalDecimal(r.minimum_volume);
    const minimumPayout = optionalDecimal(r.minimum_payout);
    const cap = optionalDecimal(r.cap);
    if (minimumVolume) rule.minimumVolume = minimumVolume;
    if (minimumPayout) rule.minimumPayout = minimumPayout;
    if (cap) rule.cap = cap;
    const list = rulesByAgreement.get(r.agreement_id) ?? [];
    list.push(rule);
    rulesByAgreement.set(r.agreement_id, list);
  }
  return headRows.map((h) => {
    const agreement: Agreement = {
      id: h.id,
      name: h.name,
      currency: h.currency,
      window: { start: h.start_date, end: h.end_date },
      calendar: h.calendar,
      rules: rulesByAgreement.get(h.id) ?? [],
    };
    if (h.partner_id !== null) agreement.partner = h.partner_id;
    if (h.buying_group !== null) agreement.buyingGroup = h.buying_group;
    if (h.beneficiary_id !== null) agreement.beneficiary = h.beneficiary_id;
    if (h.accrual_basis === 'forecast') agreement.accrualBasis = 'forecast';
    const status = h.status as AgreementStatus;
    const versions = versionsByAgreement.get(h.id);
    if (versions === undefined) return { agreement, status, importId: h.import_id };
    return { agreement: agreementInForce(versions), status, importId: h.import_id, versions };
  });
}
