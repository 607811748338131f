// Which rule windows a new line counts for, and the totals it adds to them.
//
// Keeping accruals current as lines arrive means adding each new line to the
// totals of the windows it qualifies for, instead of re-reading every line of
// every affected agreement. The matcher indexes the windows by partner (an
// agreement's own partner, or every member of its buying group) so that a line
// is only compared with the windows of its own partner. It applies exactly the
// qualifying rule of `lineQualifies` (aggregate.ts), which its tests check.
import { Decimal } from '../shared/decimal.ts';
import type { Line } from './aggregate.ts';
import type { Product, ProductScope, Rule, Totals } from './calculation.types.ts';
import type { TotalsRequest } from './engine.ts';
import { productInMix, productInScope, scopeIsAllProducts } from './scope.ts';

/** What a set of lines adds to one window's totals. */
export interface TotalsDelta {
  lineCount: number;
  quantity: Decimal;
  amount: Decimal;
  mixAmount: Decimal;
}

export interface MatchedWindow {
  request: TotalsRequest;
  /**
   * False when the window's totals cannot be kept by adding lines: a mix that
   * counts distinct products with a positive net quantity depends on every
   * line of each product, so such a window is re-totalled from the store.
   */
  additive: boolean;
  inScope: (product: Product) => boolean;
}

/** The categories of a scope that is only a list of categories (the lines it counts are those of these categories). */
function plainCategories(scope: ProductScope): readonly string[] | undefined {
  const plain =
    Object.keys(scope.attributes ?? {}).length === 0 &&
    scopeIsAllProducts(scope.exclude ?? {}) &&
    scope.skus === undefined;
  return plain ? scope.categories : undefined;
}

/** A fast membership test for the common scopes; the general rule otherwise. */
function scopeTest(scope: ProductScope): (product: Product) => boolean {
  if (scopeIsAllProducts(scope)) return () => true;
  const plain = Object.keys(scope.attributes ?? {}).length === 0 && scopeIsAllProducts(scope.exclude ?? {});
  if (plain && scope.skus === undefined && scope.categories) {
    const categories = new Set(scope.categories);
    return (product) => categories.has(product.category);
  }
  if (plain && scope.categories === undefined && scope.skus) {
    const skus = new Set(scope.skus);
    return (product) => skus.has(product.sku);
  }
  return (product) => productInScope(scope, product);
}

function additive(rule: Rule): boolean {
  return rule.mix?.minDistinctProducts === undefined;
}

/** A month as one number (year × 12 + month − 1), read from the first seven characters of an ISO date. */
function monthOf(date: string): number {
  const year =
    (date.charCodeAt(0) - 48) * 1000 +
    (date.charCodeAt(1) - 48) * 100 +
    (date.charCodeAt(2) - 48) * 10 +
    (date.charCodeAt(3) - 48);
  return year * 12 + (date.charCodeAt(5) - 48) * 10 + (date.charCodeAt(6) - 48) - 1;
}

/**
 * One owner's windows in one month. Windows whose scope is a list of categories
 * are found by the line's category; the others are each tested: at ten million
 * lines a line would otherwise be tested against twice the windows it counts for.
 */
interface MonthWindows {
  byCategory: Map<string, MatchedWindow[]>;
  tested: MatchedWindow[];
}

/** Windows by the months they overlap: a line is compared only with the windows of its own month. */
type WindowsByMonth = Map<number, MonthWindows>;

function add<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Whether a line of the owner's partners falls in a window's dates and currency. */
function inWindow(line: Line, request: TotalsRequest): boolean {
  return (
    line.date >= request.window.start &&
    line.date <= request.window.end &&
    line.currency === request.agreement.currency
  );
}

export class LineMatcher {
  /**
   * Per partner, the window sets it draws on: its own agreements' and its buying
   * group's. A group's set is built once and shared by all its members.
   */
  private readonly byPartner = new Map<string, WindowsByMonth[]>();

  constructor(
    requests: Iterable<TotalsRequest>,
    partners: readonly { id: string; buyingGroup: string | null }[],
    private readonly products: ReadonlyMap<string, Product>,
  ) {
    // Who an agreement's lines come from: its own partner, or every member of its buying group.
    const known = new Set<string>();
    const members = new Map<string | null, string[]>();
    for (const p of partners) {
      known.add(p.id);
      const list = members.get(p.buyingGroup);
      if (list) list.push(p.id);
      else members.set(p.buyingGroup, [p.id]);
    }
    const partnersOf = (agreement: TotalsRequest['agreement']): string[] =>
      agreement.partner !== undefined
        ? known.has(agreement.partner)
          ? [agreement.partner]
          : []
        : agreement.buyingGroup === undefined
          ? []
          : (members.get(agreement.buyingGroup) ?? []);
    const byOwner = new Map<string, { sets: WindowsByMonth; partners: string[] }>();
    const tests = new Map<Rule, (product: Product) => boolean>();
    for (const request of requests) {
      const { agreement } = request;
      const owner =
        agreement.partner !== undefined
          ? `partner\u0000${agreement.partner}`
          : `group\u0000${agreement.buyingGroup}`;
      let entry = byOwner.get(owner);
      if (!entry) {
        entry = { sets: new Map(), partners: partnersOf(agreement) };
        byOwner.set(owner, entry);
      }
      let inScope = tests.get(request.rule);
      if (!inScope) {
        inScope = scopeTest(request.rule.scope);
        tests.set(request.rule, inScope);
      }
      const window: MatchedWindow = { request, additive: additive(request.rule), inScope };
      const categories = plainCategories(request.rule.scope);
      const last = monthOf(request.window.end);
      for (let month = monthOf(request.window.start); month <= last; month++) {
        let windows = entry.sets.get(month);
        if (!windows) {
          windows = { byCategory: new Map(), tested: [] };
          entry.sets.set(month, windows);
        }
        if (categories === undefined) windows.tested.push(window);
        else for (const category of new Set(categories)) add(windows.byCategory, category, window);
      }
    }
    for (const { sets, partners: ids } of byOwner.values()) {
      for (const id of ids) {
        const list = this.byPartner.get(id);
        if (list) list.push(sets);
        else this.byPartner.set(id, [sets]);
      }
    }
  }

  /**
   * The windows a line qualifies for, in `out` (emptied first; one array reused
   * for every line), and the line's product; undefined when the line's partner or
   * product is unknown.
   */
  private qualifying(line: Line, out: MatchedWindow[]): Product | undefined {
    out.length = 0;
    const sets = this.byPartner.get(line.partner);
    if (!sets) return undefined;
    const product = this.products.get(line.sku);
    if (!product) return undefined;
    const month = monthOf(line.date);
    for (const set of sets) {
      const windows = set.get(month);
      if (!windows) continue;
      for (const window of windows.tested) {
        if (window.inScope(product) && inWindow(line, window.request)) out.push(window);
      }
      const byCategory = windows.byCategory.get(product.category);
      if (byCategory) for (const window of byCategory) if (inWindow(line, window.request)) out.push(window);
    }
    return product;
  }

  /**
   * What the lines add to each additive window, and the windows they touch that
   * are not additive (to be re-totalled).
   */
  deltas(lines: readonly Line[]): LineDeltas {
    const matching = this.matching(lines);
    matching.step(lines.length);
    return matching.result();
  }

  /**
   * `deltas` a slice at a time, for a caller that lets other work run between
   * slices: `step(count)` matches the next `count` lines and tells whether any
   * are left; `result()` gives the deltas of every line matched. The slices add
   * to one set of sums, so each window's delta is made once, however many
   * slices touch it (merging a delta per slice cost a decimal sum per window per slice).
   */
  matching(lines: readonly Line[]): { step(count: number): boolean; result(): LineDeltas } {
    const units = WholeUnits.of(lines);
    const sums = new Map<MatchedWindow, WindowSum>();
    const exact = new Map<TotalsRequest, TotalsDelta>();
    const retotal = new Set<TotalsRequest>();
    let next = 0;
    return {
      step: (count) => {
        const end = Math.min(lines.length, next + count);
        if (units === undefined) this.addExact(lines, next, end, exact, retotal);
        else this.addWholeUnits(lines, units, next, end, sums, retotal);
        next = end;
        return next < lines.length;
      },
      result: () => ({ deltas: units === undefined ? exact : wholeUnitDeltas(sums, units), retotal }),
    };
  }

  /**
   * Adds lines `from` to `to` by whole numbers: each window's sums are kept in units
   * of the batch's finest scale, in doubles, which add integers exactly below 2^53
   * (the bound WholeUnits checks). A line matches some 24 windows at ten million
   * lines; adding exact decimals there was most of the matching time.
   */
  private addWholeUnits(
    lines: readonly Line[],
    units: WholeUnits,
    from: number,
    to: number,
    sums: Map<MatchedWindow, WindowSum>,
    retotal: Set<TotalsRequest>,
  ): void {
    const matched: MatchedWindow[] = [];
    for (let i = from; i < to; i++) {
      const line = lines[i]!;
      const product = this.qualifying(line, matched);
      if (!product) continue;
      const quantity = units.quantity[i]!;
      const amount = units.amount[i]!;
      const quantityScale = line.quantity.scale;
      const amountScale = line.amount.scale;
      for (const window of matched) {
        const { request } = window;
        if (!window.additive) {
          retotal.add(request);
          continue;
        }
        let sum = sums.get(window);
        if (sum === undefined) {
          sum = new WindowSum();
          sums.set(window, sum);
        }
        sum.lineCount += 1;
        sum.quantity += quantity;
        sum.amount += amount;
        if (quantityScale > sum.quantityScale) sum.quantityScale = quantityScale;
        if (amountScale > sum.amountScale) sum.amountScale = amountScale;
        if (productInMix(request.rule.mix, product)) {
          sum.mixAmount += amount;
          if (amountScale > sum.mixScale) sum.mixScale = amountScale;
        }
      }
    }
  }

  /** Adds lines `from` to `to` as exact decimals, for lines whose sums could pass 2^53 units. */
  private addExact(
    lines: readonly Line[],
    from: number,
    to: number,
    deltas: Map<TotalsRequest, TotalsDelta>,
    retotal: Set<TotalsRequest>,
  ): void {
    const matched: MatchedWindow[] = [];
    for (let i = from; i < to; i++) {
      const line = lines[i]!;
      const product = this.qualifying(line, matched);
      if (!product) continue;
      for (const { request, additive } of matched) {
        if (!additive) {
          retotal.add(request);
          continue;
        }
        const inMix = productInMix(request.rule.mix, product);
        const delta = deltas.get(request);
        if (delta) {
          delta.lineCount += 1;
          delta.quantity = delta.quantity.add(line.quantity);
          delta.amount = delta.amount.add(line.amount);
          if (inMix) delta.mixAmount = delta.mixAmount.add(line.amount);
        } else {
          deltas.set(request, {
            lineCount: 1,
            quantity: line.quantity,
            amount: line.amount,
            mixAmount: inMix ? line.amount : Decimal.ZERO,
          });
        }
      }
    }
  }
}

/** The windows' whole-unit sums as exact deltas. */
function wholeUnitDeltas(sums: ReadonlyMap<MatchedWindow, WindowSum>, units: WholeUnits) {
  const deltas = new Map<TotalsRequest, TotalsDelta>();
  for (const [window, sum] of sums) {
    deltas.set(window.request, {
      lineCount: sum.lineCount,
      quantity: units.decimal(sum.quantity, units.quantityScale, sum.quantityScale),
      amount: units.decimal(sum.amount, units.amountScale, sum.amountScale),
      mixAmount:
        sum.mixScale < 0 ? Decimal.ZERO : units.decimal(sum.mixAmount, units.amountScale, sum.mixScale),
    });
  }
  return deltas;
}

/** One window's running sums, in whole units of the batch's scales; the scales are the finest of its own lines. */
class WindowSum {
  lineCount = 0;
  quantity = 0;
  amount = 0;
  mixAmount = 0;
  quantityScale = 0;
  amountScale = 0;
  /** −1 while no line counts for the mix (its sum is then zero at scale 0, as adding decimals gives). */
  mixScale = -1;
}

/** The finest scale a batch is summed in as whole numbers; beyond it, exact decimals. */
const WHOLE_UNIT_SCALE_MAX = 12;

/** Each line's quantity and amount in whole units of the batch's finest scale of each. */
class WholeUnits {
  private constructor(
    readonly quantityScale: number,
    readonly amountScale: number,
    readonly quantity: Float64Array,
    readonly amount: Float64Array,
  ) {}

  /**
   * Undefined when a sum of these lines could reach 2^53 units: every line's
   * units stay within 2^53 ÷ the number of lines, so any sum of them is exact.
   */
  static of(lines: readonly Line[]): WholeUnits | undefined {
    let quantityScale = 0;
    let amountScale = 0;
    for (const line of lines) {
      if (line.quantity.scale > quantityScale) quantityScale = line.quantity.scale;
      if (line.amount.scale > amountScale) amountScale = line.amount.scale;
    }
    if (quantityScale > WHOLE_UNIT_SCALE_MAX || amountScale > WHOLE_UNIT_SCALE_MAX) return undefined;
    const bound = BigInt(Math.floor(Number.MAX_SAFE_INTEGER / Math.max(lines.length, 1)));
    const quantity = new Float64Array(lines.length);
    const amount = new Float64Array(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const q = lines[i]!.quantity.unitsAt(quantityScale);
      const a = lines[i]!.amount.unitsAt(amountScale);
      if (q > bound || -q > bound || a > bound || -a > bound) return undefined;
      quantity[i] = Number(q);
      amount[i] = Number(a);
    }
    return new WholeUnits(quantityScale, amountScale, quantity, amount);
  }

  /** A sum in units of `batchScale` as the decimal of scale `scale` (≤ batchScale) it is exactly. */
  decimal(sum: number, batchScale: number, scale: number): Decimal {
    return Decimal.of(BigInt(sum) / 10n ** BigInt(batchScale - scale), scale);
  }
}

/** What lines add to windows: sums for the additive windows, and the windows to re-total. */
export interface LineDeltas {
  deltas: Map<TotalsRequest, TotalsDelta>;
  retotal: Set<TotalsRequest>;
}

/** Totals plus what new lines add to them (distinct mix products are re-totalled, not added). */
export function addDelta(totals: Totals, delta: TotalsDelta): Totals {
  return {
    lineCount: totals.lineCount + delta.lineCount,
    quantity: totals.quantity.add(delta.quantity),
    amount: totals.amount.add(delta.amount),
    mixAmount: totals.mixAmount.add(delta.mixAmount),
    mixDistinctProducts: totals.mixDistinctProducts,
  };
}
