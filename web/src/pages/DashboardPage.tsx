// The internal dashboard: what is accrued and forecast, who is nearest the next
// tier, what waits for a decision, and where the money goes — all figures from
// the server's /dashboard, formatted here.
import { Link } from 'react-router';
import { api } from '../api.ts';
import { BarChart, Empty, Loading, useLoad } from '../components.tsx';
import { money, quantity, rate } from '../format.ts';

interface Dashboard {
  asOf: string;
  totals: { currency: string; accrued: string; forecast: string; earned: string }[];
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
  trend: { month: string; currency: string; earned: string }[];
  byProgramType: { type: string; currency: string; earned: string }[];
  byPartner: { partner: string; currency: string; earned: string }[];
}

export function DashboardPage() {
  const { data, error } = useLoad(() => api<Dashboard>('GET', '/dashboard'), []);
  if (!data) return <Loading error={error} />;
  const main = data.totals[0]?.currency ?? 'USD';
  const inMain = <T extends { currency: string }>(rows: T[]) => rows.filter((r) => r.currency === main);
  return (
    <>
      <h1>Dashboard</h1>
      {data.totals.length === 0 ? (
        <Empty>
          No approved agreements yet. <Link to="/agreements/new">Design one</Link> or import transactions to
          see accruals.
        </Empty>
      ) : (
        <section className="cards" aria-label="Totals">
          {data.totals.map((t) => (
            <div className="card" key={t.currency}>
              <h2>Accrued ({t.currency})</h2>
              <p className="figure" data-testid={`accrued-${t.currency}`}>
                {money(t.accrued, t.currency)}
              </p>
              <p className="muted">
                Forecast payout {money(t.forecast, t.currency)} · earned {money(t.earned, t.currency)}
              </p>
            </div>
          ))}
          <div className="card">
            <h2>Waiting</h2>
            <ul className="plain">
              <li>
                <Link to="/claims">{data.waiting.claims} claims approved, not yet paid</Link>
              </li>
              <li>
                <Link to="/claims">{data.waiting.disputes} disputes</Link>
              </li>
              <li>
                <Link to="/settlements">{data.waiting.settlementsToApprove} settlements to approve</Link>
              </li>
              <li>
                <Link to="/settlements">{data.waiting.settlementsToPost} settlements to post</Link>
              </li>
            </ul>
          </div>
        </section>
      )}
      <section className="charts" aria-label="Charts">
        <BarChart
          title={`Earned by period start (${main})`}
          bars={inMain(data.trend).map((t) => ({
            label: t.month,
            value: t.earned,
            text: money(t.earned, main),
          }))}
        />
        <BarChart
          title={`Earned by program type (${main})`}
          bars={inMain(data.byProgramType).map((t) => ({
            label: t.type,
            value: t.earned,
            text: money(t.earned, main),
          }))}
        />
        <BarChart
          title={`Earned by partner, top 10 (${main})`}
          bars={inMain(data.byPartner).map((t) => ({
            label: t.partner,
            value: t.earned,
            text: money(t.earned, main),
          }))}
        />
      </section>
      <section>
        <h2>Closest to their next tier</h2>
        {data.closestToNextTier.length === 0 ? (
          <Empty>Every position has reached its top tier.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Agreement</th>
                <th scope="col">Partner</th>
                <th scope="col">Period</th>
                <th scope="col" className="num">
                  Still needed
                </th>
                <th scope="col">Next rate</th>
              </tr>
            </thead>
            <tbody>
              {data.closestToNextTier.map((p) => (
                <tr key={`${p.agreement}/${p.rule}/${p.periodStart}`}>
                  <td>
                    <Link to={`/agreements/${encodeURIComponent(p.agreement)}`}>{p.agreement}</Link> ·{' '}
                    {p.rule}
                  </td>
                  <td>{p.partner}</td>
                  <td>
                    {p.periodStart} – {p.periodEnd}
                  </td>
                  <td className="num">
                    {p.basis === 'amount' ? money(p.remaining, p.currency) : `${quantity(p.remaining)} units`}
                  </td>
                  <td>{rate(p.nextRate, p.payout, p.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
