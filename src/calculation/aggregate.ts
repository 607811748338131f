// Totals of the qualifying lines of one rule over one window, computed from
// the lines themselves. The store computes the same totals in SQL for speed;
// this is the definition they are tested against.
import { Decimal } from '../shared/decimal.ts';
import type { Agreement, DateWindow, Product, Rule, Totals } from './calculation.types.ts';
import { productInMix, productInScope } from './scope.ts';

export interface Line {
  id: string;
  date: string;
  partner: string;
  sku: string;
  quantity: Decimal;
  amount: Decimal;
  currency: string;
}

/** Whether a line counts for a rule in a window (docs/decisions/0005-calculation-rules.md). */
export function lineQualifies(
  agreement: Agreement,
  rule: Rule,
  window: DateWindow,
  partnerIds: ReadonlySet<string>,
  product: Product | undefined,
  line: Line,
): boolean {
  return (
    partnerIds.has(line.partner) &&
    line.date >= window.start &&
    line.date <= window.end &&
    line.currency === agreement.currency &&
    product !== undefined &&
    productInScope(rule.scope, product)
  );
}

export function aggregateLines(
  agreement: Agreement,
  rule: Rule,
  window: DateWindow,
  partnerIds: ReadonlySet<string>,
  products: ReadonlyMap<string, Product>,
  lines: Iterable<Line>,
): Totals {
  let lineCount = 0;
  let quantity = Decimal.ZERO;
  let amount = Decimal.ZERO;
  let mixAmount = Decimal.ZERO;
  const mixQuantityBySku = new Map<string, Decimal>();
  for (const line of lines) {
    const product = products.get(line.sku);
    if (!lineQualifies(agreement, rule, window, partnerIds, product, line)) continue;
    lineCount += 1;
    quantity = quantity.add(line.quantity);
    amount = amount.add(line.amount);
    if (productInMix(rule.mix, product!)) {
      mixAmount = mixAmount.add(line.amount);
      mixQuantityBySku.set(line.sku, (mixQuantityBySku.get(line.sku) ?? Decimal.ZERO).add(line.quantity));
    }
  }
  let mixDistinctProducts = 0;
  for (const q of mixQuantityBySku.values()) if (q.sign() > 0) mixDistinctProducts += 1;
  return { lineCount, quantity, amount, mixAmount, mixDistinctProducts };
}
