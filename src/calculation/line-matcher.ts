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
  const digit = (i: number) => date.charCodeAt(i) - 48;
  const year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
  return year * 12 + digit(5) * 10 + digit(6) - 1;
}

/** Windows by the months they overlap: a line is compared only with the windows of its own month. */
type WindowsByMonth = Map<number, MatchedWindow[]>;

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
      const last = monthOf(request.window.end);
      for (let month = monthOf(request.window.start); month <= last; month++) {
        const list = entry.sets.get(month);
        if (list) list.push(window);
        else entry.sets.set(month, [window]);
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

  /** Calls `visit` for every window the line qualifies for. */
  match(line: Line, visit: (window: MatchedWindow, product: Product) => void): void {
    const sets = this.byPartner.get(line.partner);
    if (!sets) return;
    const product = this.products.get(line.sku);
    if (!product) return;
    const month = monthOf(line.date);
    for (const set of sets) {
      const windows = set.get(month);
      if (!windows) continue;
      for (const window of windows) {
        const { request } = window;
        if (
          line.date >= request.window.start &&
          line.date <= request.window.end &&
          line.currency === request.agreement.currency &&
          window.inScope(product)
        ) {
          visit(window, product);
        }
      }
    }
  }

  /**
   * What the lines add to each additive window, and the windows they touch that
   * are not additive (to be re-totalled).
   */
  deltas(lines: Iterable<Line>): { deltas: Map<TotalsRequest, TotalsDelta>; retotal: Set<TotalsRequest> } {
    const deltas = new Map<TotalsRequest, TotalsDelta>();
    const retotal = new Set<TotalsRequest>();
    for (const line of lines) {
      this.match(line, (window, product) => {
        if (!window.additive) {
          retotal.add(window.request);
          return;
        }
        const inMix = productInMix(window.request.rule.mix, product);
        const delta = deltas.get(window.request);
        if (delta) {
          delta.lineCount += 1;
          delta.quantity = delta.quantity.add(line.quantity);
          delta.amount = delta.amount.add(line.amount);
          if (inMix) delta.mixAmount = delta.mixAmount.add(line.amount);
        } else {
          deltas.set(window.request, {
            lineCount: 1,
            quantity: line.quantity,
            amount: line.amount,
            mixAmount: inMix ? line.amount : Decimal.ZERO,
          });
        }
      });
    }
    return { deltas, retotal };
  }
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
