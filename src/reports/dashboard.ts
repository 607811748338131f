// The figures on the internal dashboard, all computed here on the server from
// the accrual positions: the browser only formats them. Totals are per currency.
import { readAccruals } from '../accruals/accruals.service.ts';
import { loadAgreements } from '../agreements/agreements.repository.ts';
import { Decimal } from '../shared/decimal.ts';
import type { Store } from '../store/database.ts';

export interface Dashboard {
  asOf: string;
  /** What every agreement accrues now, and its forecast payout for the periods, per currency. */
  totals: { currency: string; accrued: string; forecast: string; earned: string }[];
  /** The positions nearest their next tier, in amount or quantity still needed. */
  closestToNextTier: {
    agreement: string;
    partner: string;
    rule: string;
    periodStart: string;
    periodEnd: string;
    currency: string;
    basis: string;
    payout: string;
    remaining: string;
    nextRate: string;
  }[];
  waiting: { claims: number; disputes: number; settlementsToApprove: number; settlementsToPost: number };
  /** Earned per month of period start, per currency: the trend. */
  trend: { month: string; currency: string; earned: string }[];
  byProgramType: { type: string; currency: string; earned: string }[];
  byPartner: { partner: string; currency: string; earned: string }[];
}

function sums(entries: Iterable<[string, Decimal]>): Map<string, Decimal> {
  const out = new Map<string, Decimal>();
  for (const [key, value] of entries) out.set(key, (out.get(key) ?? Decimal.ZERO).add(value));
  return out;
}

const split = (key: string) => key.split('\u0000') as [string, string];

export async function dashboard(store: Store, asOf: string, closest = 10): Promise<Dashboard> {
  const positions = await readAccruals(store, undefined, asOf);
  const agreements = new Map((await loadAgreements(store.db)).map((a) => [a.agreement.id, a.agreement]));
  const partnerOf = (id: string) => {
    const a = agreements.get(id);
    return a?.partner ?? a?.buyingGroup ?? '';
  };
  const typeOf = (id: string, rule: string) =>
    agreements.get(id)?.rules.find((r) => r.id === rule)?.type ?? 'volume';
  const currencies = [...new Set(positions.map((p) => p.currency))].sort();
  const by = (pick: (p: (typeof positions)[number]) => Decimal) =>
    sums(positions.map((p) => [p.currency, pick(p)] as [string, Decimal]));
  const accrued = by((p) => p.accrued);
  const forecast = by((p) => p.forecast.rebate);
  const earned = by((p) => p.rebate);
  const near = positions
    .filter((p) => p.nextTier !== undefined && p.nextTier.remaining.sign() > 0)
    .sort((a, b) => a.nextTier!.remaining.cmp(b.nextTier!.remaining))
    .slice(0, closest);
  const counts = await store.db
    .selectFrom('claims')
    .select(['status'])
    .where('status', 'in', ['approved', 'partially_approved', 'disputed'])
    .execute();
  const settlements = await store.db
    .selectFrom('settlements')
    .select('status')
    .where('status', 'in', ['draft', 'approved'])
    .execute();
  const grouped = (key: (p: (typeof positions)[number]) => string) =>
    [
      ...sums(
        positions.map((p) => [`${key(p)}\u0000${p.currency}`, p.rebate] as [string, Decimal]),
      ).entries(),
    ].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    asOf,
    totals: currencies.map((currency) => ({
      currency,
      accrued: (accrued.get(currency) ?? Decimal.ZERO).toString(),
      forecast: (forecast.get(currency) ?? Decimal.ZERO).toString(),
      earned: (earned.get(currency) ?? Decimal.ZERO).toString(),
    })),
    closestToNextTier: near.map((p) => ({
      agreement: p.agreementId,
      partner: partnerOf(p.agreementId),
      rule: p.ruleId,
      periodStart: p.period.start,
      periodEnd: p.period.end,
      currency: p.currency,
      basis: p.basis,
      payout: p.payout,
      remaining: p.nextTier!.remaining.toString(),
      nextRate: p.nextTier!.rate.toString(),
    })),
    waiting: {
      claims: counts.filter((c) => c.status !== 'disputed').length,
      disputes: counts.filter((c) => c.status === 'disputed').length,
      settlementsToApprove: settlements.filter((s) => s.status === 'draft').length,
      settlementsToPost: settlements.filter((s) => s.status === 'approved').length,
    },
    trend: grouped((p) => p.period.start.slice(0, 7)).map(([key, value]) => {
      const [month, currency] = split(key);
      return { month, currency, earned: value.toString() };
    }),
    byProgramType: grouped((p) => typeOf(p.agreementId, p.ruleId)).map(([key, value]) => {
      const [type, currency] = split(key);
      return { type, currency, earned: value.toString() };
    }),
    byPartner: grouped((p) => partnerOf(p.agreementId))
      .map(([key, value]) => {
        const [partner, currency] = split(key);
        return { partner, currency, earned: value };
      })
      .sort((a, b) => b.earned.cmp(a.earned))
      .slice(0, 10)
      .map((x) => ({ ...x, earned: x.earned.toString() })),
  };
}
