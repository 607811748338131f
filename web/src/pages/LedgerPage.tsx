// The ledger: post a month's accruals (after a dry run that shows the entries),
// the postings so far, and the journal to download for the general ledger.
import { type FormEvent, useState } from 'react';
import { api, type Page } from '../api.ts';
import { Empty, errorText, Loading, useLoad } from '../components.tsx';
import { money } from '../format.ts';
import { can, useSession } from '../session.tsx';

interface Entry {
  id: string | null;
  date: string;
  agreement: string;
  rule: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  amount: string;
  memo: string;
  lines: { account: string; debit: string; credit: string }[];
}
interface Posting {
  posting: string | null;
  period: string;
  asOf: string;
  dryRun: boolean;
  totals: { currency: string; amount: string }[];
  entries: Entry[];
}
interface PostingRow {
  id: string;
  period: string;
  asOf: string;
  postedBy: string;
  entries: number;
}

export function LedgerPage() {
  const { me } = useSession();
  const postings = useLoad(() => api<Page<PostingRow>>('GET', '/accrual-postings?limit=50'), []);
  const [period, setPeriod] = useState(() => new Date().toISOString().slice(0, 7));
  const [result, setResult] = useState<Posting>();
  const [error, setError] = useState<string>();
  const run = async (event: FormEvent | null, dryRun: boolean) => {
    event?.preventDefault();
    setError(undefined);
    try {
      setResult(await api<Posting>('POST', '/accrual-postings', { period, dryRun }));
      if (!dryRun) postings.reload();
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <>
      <h1>Ledger</h1>
      {can.finance(me) ? (
        <form className="toolbar" onSubmit={(e) => run(e, true)} aria-label="Post accruals">
          <label>
            Month
            <input type="month" value={period} onChange={(e) => setPeriod(e.target.value)} required />
          </label>
          <button type="submit">Preview (dry run)</button>
          <button type="button" onClick={() => run(null, false)}>
            Post
          </button>
        </form>
      ) : null}
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      {result ? (
        <section role="status" aria-label="Posting">
          <p>
            {result.dryRun ? 'Dry run, nothing written' : `Posting ${result.posting}`} for {result.period} (as
            of {result.asOf}): {result.entries.length} journal entries
            {result.totals.map((t) => `; accrued rebates change by ${money(t.amount, t.currency)}`).join('')}.
          </p>
          {result.entries.length > 0 ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Agreement</th>
                  <th scope="col">Period</th>
                  <th scope="col">Account</th>
                  <th scope="col" className="num">
                    Debit
                  </th>
                  <th scope="col" className="num">
                    Credit
                  </th>
                </tr>
              </thead>
              <tbody>
                {result.entries.flatMap((e) =>
                  e.lines.map((l) => (
                    <tr key={`${e.agreement}/${e.rule}/${e.periodStart}/${l.account}`}>
                      <td>
                        {e.agreement} · {e.rule}
                      </td>
                      <td>
                        {e.periodStart} – {e.periodEnd}
                      </td>
                      <td>{l.account}</td>
                      <td className="num">
                        {l.debit === '0.00' || l.debit === '0' ? '' : money(l.debit, e.currency)}
                      </td>
                      <td className="num">
                        {l.credit === '0.00' || l.credit === '0' ? '' : money(l.credit, e.currency)}
                      </td>
                    </tr>
                  )),
                )}
              </tbody>
            </table>
          ) : null}
        </section>
      ) : null}
      <h2>Postings</h2>
      {!postings.data ? (
        <Loading error={postings.error} />
      ) : postings.data.items.length === 0 ? (
        <Empty>Nothing posted yet. Post a month to book its accruals.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Month</th>
              <th scope="col">Posted by</th>
              <th scope="col" className="num">
                Entries
              </th>
              <th scope="col">Journal</th>
            </tr>
          </thead>
          <tbody>
            {postings.data.items.map((p) => (
              <tr key={p.id}>
                <td>{p.id}</td>
                <td>{p.period}</td>
                <td>{p.postedBy}</td>
                <td className="num">{p.entries}</td>
                <td>
                  <a href={`/api/v1/journal?posting=${p.id}&format=csv`} download>
                    CSV
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
