// How a claim is judged against the calculation. Pure: the amounts in, the
// outcome out (docs/decisions/0014-claims.md).
import { Decimal } from '../shared/decimal.ts';

export type ClaimStatus = 'approved' | 'partially_approved' | 'disputed' | 'rejected';

export interface ClaimOutcome {
  status: ClaimStatus;
  /** What will be paid for the claim. */
  approved: Decimal;
  reasonCode: 'within_tolerance' | 'below_calculated' | 'exceeds_calculated' | 'nothing_due';
}

/**
 * The difference accepted without review: the larger of a fixed amount and a
 * percent of what is due, rounded half away from zero to the currency's minor unit.
 */
export function claimTolerance(
  due: Decimal,
  absolute: Decimal,
  percent: Decimal,
  minorUnits: number,
): Decimal {
  const magnitude = due.sign() < 0 ? due.neg() : due;
  const share = magnitude.mul(percent).shift(2).roundHalfAwayFromZero(minorUnits);
  return Decimal.max(absolute.roundHalfAwayFromZero(minorUnits), share);
}

/**
 * A claim within tolerance of what is due, or below it, is approved as claimed;
 * above it, partially approved: what is due is paid, and the partner may dispute
 * the difference. When nothing is due it is rejected.
 */
export function validateClaim(claimed: Decimal, due: Decimal, tolerance: Decimal): ClaimOutcome {
  const zero = claimed.sub(claimed);
  if (due.sign() <= 0) return { status: 'rejected', approved: zero, reasonCode: 'nothing_due' };
  const difference = claimed.sub(due);
  const within = (difference.sign() < 0 ? difference.neg() : difference).lte(tolerance);
  if (within) return { status: 'approved', approved: claimed, reasonCode: 'within_tolerance' };
  if (difference.sign() < 0) return { status: 'approved', approved: claimed, reasonCode: 'below_calculated' };
  return { status: 'partially_approved', approved: due, reasonCode: 'exceeds_calculated' };
}
