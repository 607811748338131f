// Settling agreements from the store: the shell around the calculation core.
// It resolves each rule's partners and products with the core's own scope
// functions, asks the store only for totals of the qualifying lines, and lets
// the core do every piece of arithmetic.
import { sql } from 'kysely';
import { loadAgreements, type StoredAgreement } from '../agreements/agreements.repository.ts';
import { parseAgreement } from '../agreements/agreements.schema.ts';
import { EMPTY_TOTALS } from '../calculation/calculate.ts';
import type {
  Agreement,
  DateWindow,
  Product,
  Rule,
  RuleResult,
  Totals,
} from '../calculation/calculation.types.ts';
import { settleAgreement, type TotalsRequest, totalsRequests } from '../calculation/engine.ts';
import { agreementPartners, productInMix, productInScope, scopeIsAllProducts } from '../calculation/scope.ts';
import { minorUnitsOf } from '../shared/currency.ts';
import { Decimal } from '../shared/decimal.ts';
import { DomainError } from '../shared/errors.ts';
import type { Database } from '../store/database.ts';
import { sqlArray } from '../store/sql-arrays.ts';
import { bulkTotals } from './bulk-totals.ts';

/** Agreements in these states are calculated; drafts, rejected and cancelled ones are not. */
export const SETTLED_STATUSES = ['approved', 'active', 'expired', 'closed'] as const;

export interface SettleOptions {
  /** Only lines dated on or before this day count; periods starting later are skipped. */
  asOf?: string;
  agreementIds?: readonly string[];
  /** Add each result's forecast to period end and the amount accrued, as of this day. */
  forecastAsOf?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface SettlementRun {
  agreements: StoredAgreement[];
  results: RuleResult[];
}

/** Master data the scope of a rule is resolved against. */
export interface MasterData {
  products: Map<string, Product>;
  partners: { id: string; buyingGroup: string | null }[];
}

export async function loadMasterData(db: Database): Promise<MasterData> {
  const productRows = await db.selectFrom('products').select(['sku', 'category', 'attributes']).execute();
  const partnerRows = await db.selectFrom('partners').select(['id', 'buying_group']).execute();
  return {
    products: new Map(
      productRows.map((p) => [p.sku, { sku: p.sku, category: p.category, attributes: p.attributes }]),
    ),
    partners: partnerRows.map((p) => ({ id: p.id, buyingGroup: p.buying_group })),
  };
}

/** The resolved filter of one rule over one window: which partners, products and dates. */
export interface LineFilter {
  partners: string[];
  /** undefined: every product. */
  skus: string[] | undefined;
  mixSkus: string[];
  window: DateWindow;
  currency: string;
}

export class ScopeResolver {
  private readonly partnerCache = new Map<Agreement, string[]>();
  private readonly skuCache = new Map<Rule, { skus: string[] | undefined; mixSkus: string[] }>();

  private skusByCategory: Map<string, string[]> | undefined;

  constructor(private readonly master: MasterData) {}

  /**
   * The skus a rule's scope admits (undefined: every product) and those of its
   * mix categories. Scopes of whole categories or of listed skus, the common
   * ones, are read off an index; any other scope tests every product.
   */
  private productsOf(rule: Rule): { skus: string[] | undefined; mixSkus: string[] } {
    const { scope, mix } = rule;
    const products = this.master.products;
    if (!this.skusByCategory) {
      this.skusByCategory = new Map();
      for (const p of products.values()) {
        const list = this.skusByCategory.get(p.category);
        if (list) list.push(p.sku);
        else this.skusByCategory.set(p.category, [p.sku]);
      }
    }
    const byCategory = this.skusByCategory;
    const mixCategories = new Set(mix?.categories ?? []);
    const inMix = (sku: string) => productInMix(mix, products.get(sku)!);
    const plain = Object.keys(scope.attributes ?? {}).length === 0 && scopeIsAllProducts(scope.exclude ?? {});
    let skus: string[] | undefined;
    if (scopeIsAllProducts(scope)) {
      return { skus: undefined, mixSkus: [...mixCategories].flatMap((c) => byCategory.get(c) ?? []) };
    } else if (plain && scope.skus === undefined && scope.categories) {
      skus = [...new Set(scope.categories)].flatMap((c) => byCategory.get(c) ?? []);
    } else if (plain && scope.categories === undefined && scope.skus) {
      skus = [...new Set(scope.skus)].filter((sku) => products.has(sku));
    } else {
      skus = [];
      for (const product of products.values()) if (productInScope(scope, product)) skus.push(product.sku);
    }
    return { skus, mixSkus: skus.filter(inMix) };
  }

  filter(request: TotalsRequest): LineFilter {
    let partners = this.partnerCache.get(request.agreement);
    if (!partners) {
      partners = agreementPartners(request.agreement, this.master.partners);
      this.partnerCache.set(request.agreement, partners);
    }
    // The skus are listed when first read: totalling many rules at once reads
    // them only for scopes naming skus (bulk-totals.ts), and listing every
    // category scope's skus took about 1.5 s for 20,000 agreements.
    const rule = request.rule;
    const products = () => {
      let found = this.skuCache.get(rule);
      if (!found) {
        found = this.productsOf(rule);
        this.skuCache.set(rule, found);
      }
      return found;
    };
    return {
      partners,
      get skus() {
        return products().skus;
      },
      get mixSkus() {
        return products().mixSkus;
      },
      window: request.window,
      currency: request.agreement.currency,
    };
  }
}

function whereLines(filter: LineFilter) {
  const conditions = [
    sql`partner_id = ANY(${sqlArray(filter.partners, 'text')})`,
    sql`line_date BETWEEN ${filter.window.start}::date AND ${filter.window.end}::date`,
    sql`currency = ${filter.currency}`,
  ];
  if (filter.skus !== undefined) conditions.push(sql`sku = ANY(${sqlArray(filter.skus, 'text')})`);
  return sql.join(conditions, sql` AND `);
}

export async function totalsOf(db: Database, filter: LineFilter, needsDistinctMix: boolean): Promise<Totals> {
  if (filter.partners.length === 0 || filter.skus?.length === 0) return EMPTY_TOTALS;
  const row = (
    await sql<{ line_count: string; quantity: string; amount: string; mix_amount: string }>`
      SELECT count(*) AS line_count, coalesce(sum(quantity), 0) AS quantity, coalesce(sum(amount), 0) AS amount,
        coalesce(sum(amount) FILTER (WHERE sku = ANY(${sqlArray(filter.mixSkus, 'text')})), 0) AS mix_amount
      FROM transactions WHERE ${whereLines(filter)}`.execute(db)
  ).rows[0]!;
  let mixDistinctProducts = 0;
  if (needsDistinctMix && filter.mixSkus.length > 0) {
    const distinct = await sql<{ n: string }>`
      SELECT count(*) AS n FROM (
        SELECT sku FROM transactions WHERE ${whereLines(filter)} AND sku = ANY(${sqlArray(filter.mixSkus, 'text')})
        GROUP BY sku HAVING sum(quantity) > 0) AS positive`.execute(db);
    mixDistinctProducts = Number(distinct.rows[0]!.n);
  }
  return {
    lineCount: Number(row.line_count),
    quantity: Decimal.parse(row.quantity),
    amount: Decimal.parse(row.amount),
    mixAmount: Decimal.parse(row.mix_amount),
    mixDistinctProducts,
  };
}

export interface SampleLine {
  id: string;
  date: string;
  partner: string;
  sku: string;
  quantity: string;
  amount: string;
}

export async function sampleLines(db: Database, filter: LineFilter, limit: number): Promise<SampleLine[]> {
  if (filter.partners.length === 0 || filter.skus?.length === 0) return [];
  const rows = await sql<SampleLine>`
    SELECT id, line_date AS date, partner_id AS partner, sku, quantity, amount FROM transactions
    WHERE ${whereLines(filter)} ORDER BY line_date, id LIMIT ${limit}`.execute(db);
  return rows.rows;
}

/**
 * Settles the agreements in the store (all settled statuses, or the given ids)
 * per rule and period. Error codes: `unknown_agreement`.
 */
export async function settle(db: Database, options: SettleOptions = {}): Promise<SettlementRun> {
  const stored = await loadAgreements(db, options.agreementIds);
  if (options.agreementIds) {
    const found = new Set(stored.map((a) => a.agreement.id));
    const missing = options.agreementIds.filter((id) => !found.has(id));
    if (missing.length > 0)
      throw new DomainError('unknown_agreement', `no agreement with id ${missing.join(', ')}`);
  }
  const agreements = stored.filter((a) => (SETTLED_STATUSES as readonly string[]).includes(a.status));
  const master = await loadMasterData(db);
  const resolver = new ScopeResolver(master);
  // Every window of every agreement is totalled in one pass over the lines.
  const requestsByAgreement = agreements.map(({ agreement }) => totalsRequests(agreement, options.asOf));
  const totals = await bulkTotals(
    db,
    master,
    requestsByAgreement.flat().map((request) => ({ request, filter: resolver.filter(request) })),
  );
  const results: RuleResult[] = [];
  for (const [i, { agreement }] of agreements.entries()) {
    const byKey = new Map(requestsByAgreement[i]!.map((r) => [requestKey(r), totals.get(r)!]));
    results.push(
      ...settleAgreement(agreement, (request) => byKey.get(requestKey(request))!, {
        minorUnits: minorUnitsOf(agreement.currency),
        ...(options.asOf ? { asOf: options.asOf } : {}),
        ...(options.forecastAsOf ? { forecastAsOf: options.forecastAsOf } : {}),
      }),
    );
    options.onProgress?.(i + 1, agreements.length);
  }
  return { agreements, results };
}

async function settleOne(
  db: Database,
  agreement: Agreement,
  resolver: ScopeResolver,
  asOf: string | undefined,
): Promise<RuleResult[]> {
  const totals = new Map<string, Totals>();
  for (const request of totalsRequests(agreement, asOf)) {
    totals.set(
      requestKey(request),
      await totalsOf(db, resolver.filter(request), needsDistinctMix(request.rule)),
    );
  }
  return settleAgreement(agreement, (request) => totals.get(requestKey(request))!, {
    minorUnits: minorUnitsOf(agreement.currency),
    ...(asOf ? { asOf } : {}),
  });
}

/**
 * What-if: settles an agreement that is not stored (a draft being designed)
 * over the stored history, without writing anything. Error codes: those of
 * parseAgreement (agreements.errors.ts), reported as `invalid_agreement`.
 */
export async function settleDraft(
  db: Database,
  draft: unknown,
  options: { asOf?: string } = {},
): Promise<RuleResult[]> {
  const parsed = parseAgreement(draft);
  if (!parsed.ok) {
    throw new DomainError('invalid_agreement', 'the draft agreement is not valid', parsed.problems);
  }
  const resolver = new ScopeResolver(await loadMasterData(db));
  return settleOne(db, parsed.value.agreement, resolver, options.asOf);
}

function requestKey(request: TotalsRequest): string {
  return `${request.rule.id}\u0000${request.role}\u0000${request.window.start}\u0000${request.window.end}`;
}

function needsDistinctMix(rule: Rule): boolean {
  return rule.mix?.minDistinctProducts !== undefined;
}
