// The payout curve of a rule: what one period pays at measures from zero to a
// half beyond the top tier's threshold, computed by the same rule calculation
// as every real figure, for the agreement designer to draw.
import { Decimal } from '../shared/decimal.ts';
import { calculateRule } from './calculate.ts';
import type { Agreement, Rule } from './calculation.types.ts';

export const CURVE_POINTS = 24;

export function payoutCurve(
  agreement: Agreement,
  rule: Rule,
  minorUnits: number,
): { measure: Decimal; rebate: Decimal }[] {
  // Growth pays on a baseline and mix on a share: neither is a function of one measure.
  if (rule.type === 'growth' || rule.type === 'mix') return [];
  const top = rule.tiers.at(-1)?.from ?? Decimal.ZERO;
  const end = top.sign() > 0 ? top.mulRatio(3n, 2n, top.scale) : Decimal.parse('1000');
  const points: { measure: Decimal; rebate: Decimal }[] = [];
  for (let i = 0; i <= CURVE_POINTS; i++) {
    const measure = end.mulRatio(BigInt(i), BigInt(CURVE_POINTS), 2);
    const zero = Decimal.ZERO;
    const result = calculateRule(
      agreement,
      rule,
      agreement.window,
      {
        period: {
          lineCount: 1,
          quantity: rule.basis === 'quantity' ? measure : zero,
          amount: rule.basis === 'amount' ? measure : zero,
          mixAmount: zero,
          mixDistinctProducts: 0,
        },
      },
      { minorUnits, explain: false },
    );
    points.push({ measure, rebate: result.rebate });
  }
  return points;
}
