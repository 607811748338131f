// The partner portal: a partner user's own agreements, how far each period is
// from the next tier ("sell X more to earn Y"), the forecast payout, sign-off,
// statements to download, and claims to submit and follow.
import { type FormEvent, useState } from 'react';
import { api, type Page, upload } from '../api.ts';
import { Empty, errorText, Loading, Notice, Progress, useAction, useLoad } from '../components.tsx';
import { date, money, quantity, rate } from '../format.ts';
import { useSession } from '../session.tsx';
import type { Position } from './AgreementPage.tsx';
import { type Claim, ClaimsTable } from './ClaimsPage.tsx';

interface Summary {
  id: string;
  name: string;
  currency: string;
  start: string;
  end: string;
  status: string;
}

export function PortalPage() {
  const { me } = useSession();
  const agreements = useLoad(() => api<Page<Summary>>('GET', '/agreements?limit=200'), []);
  const positions = useLoad(() => api<Page<Position>>('GET', '/accruals?limit=1000'), []);
  const claims = useLoad(() => api<Page<Claim>>('GET', '/claims?limit=200'), []);
  const { message, run } = useAction();
  const [claim, setClaim] = useState({ agreement: '', periodStart: '', reference: '', claimed: '' });
  const partner = me.partner;
  const year = new Date().getUTCFullYear();

  const signOff = (id: string) =>
    run(async () => {
      const s = await api<{ version: number }>('POST', `/agreements/${encodeURIComponent(id)}/sign-offs`, {});
      return `You signed off version ${s.version} of ${id}.`;
    });
  const submitClaim = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      const c = await api<Claim>('POST', '/claims', claim);
      setClaim({ agreement: '', periodStart: '', reference: '', claimed: '' });
      claims.reload();
      const text = `Claim ${c.id} is ${c.status.replace('_', ' ')}: ${money(c.approved, c.currency)} of ${money(c.claimed, c.currency)} approved.`;
      // A rejected claim is news the partner must not miss: an alert, not a status.
      return { kind: c.status === 'rejected' ? ('error' as const) : ('ok' as const), text };
    });
  };

  return (
    <>
      <h1>My agreements</h1>
      <Notice message={message} />
      {!agreements.data || !positions.data ? (
        <Loading error={agreements.error ?? positions.error} />
      ) : agreements.data.items.length === 0 ? (
        <Empty>You have no agreement yet. Your account manager will publish one here.</Empty>
      ) : (
        agreements.data.items.map((a) => {
          const mine = positions.data!.items.filter((p) => p.agreement === a.id);
          return (
            <section key={a.id} className="card wide" aria-label={`Agreement ${a.id}`}>
              <h2>
                {a.name} <span className={`status status-${a.status}`}>{a.status}</span>
              </h2>
              <p className="muted">
                {a.id} · {date(a.start)} – {date(a.end)}
              </p>
              {mine.length === 0 ? <Empty>Nothing earned yet.</Empty> : null}
              {mine.map((p) => (
                <div key={`${p.rule}/${p.version}/${p.periodStart}`} className="position">
                  <strong>
                    {date(p.periodStart)} – {date(p.periodEnd)}
                  </strong>{' '}
                  earned {money(p.rebate, p.currency)}, forecast {money(p.forecastRebate, p.currency)}
                  {p.nextTierFrom && p.nextTierRemaining && p.nextTierRate ? (
                    <>
                      <Progress
                        value={Number(p.measure)}
                        max={Number(p.nextTierFrom)}
                        label={`Progress to the next tier, ${p.periodStart}`}
                      />
                      <span>
                        Sell{' '}
                        {p.basis === 'amount'
                          ? money(p.nextTierRemaining, p.currency)
                          : `${quantity(p.nextTierRemaining)} units`}{' '}
                        more to earn {rate(p.nextTierRate, p.payout, p.currency)}.
                      </span>
                    </>
                  ) : (
                    <span className="muted"> · top tier reached</span>
                  )}
                </div>
              ))}
              {['approved', 'active'].includes(a.status) ? (
                <button type="button" onClick={() => signOff(a.id)}>
                  Sign off these terms
                </button>
              ) : null}
            </section>
          );
        })
      )}
      {partner ? (
        <section>
          <h2>Statements</h2>
          <p>
            {[year - 1, year].map((y) => (
              <span key={y}>
                {y}:{' '}
                <a
                  href={`/api/v1/partners/${encodeURIComponent(partner)}/statement?from=${y}-01-01&to=${y}-12-31&format=pdf`}
                  download
                >
                  PDF
                </a>{' '}
                ·{' '}
                <a
                  href={`/api/v1/partners/${encodeURIComponent(partner)}/statement?from=${y}-01-01&to=${y}-12-31&format=csv`}
                  download
                >
                  CSV
                </a>{' '}
              </span>
            ))}
          </p>
        </section>
      ) : null}
      <SalesReport />
      <section>
        <h2>Claims</h2>
        <form className="toolbar" onSubmit={submitClaim} aria-label="Submit a claim">
          <label>
            Agreement
            <select
              value={claim.agreement}
              onChange={(e) => setClaim({ ...claim, agreement: e.target.value })}
              required
            >
              <option value="">Choose…</option>
              {agreements.data?.items.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.id}
                </option>
              ))}
            </select>
          </label>
          <label>
            Period start
            <input
              type="date"
              value={claim.periodStart}
              onChange={(e) => setClaim({ ...claim, periodStart: e.target.value })}
              required
            />
          </label>
          <label>
            Your reference
            <input
              value={claim.reference}
              onChange={(e) => setClaim({ ...claim, reference: e.target.value })}
              required
            />
          </label>
          <label>
            Amount
            <input
              inputMode="decimal"
              value={claim.claimed}
              onChange={(e) => setClaim({ ...claim, claimed: e.target.value })}
              required
            />
          </label>
          <button type="submit">Submit claim</button>
        </form>
        {!claims.data ? (
          <Loading error={claims.error} />
        ) : claims.data.items.length === 0 ? (
          <Empty>No claims yet.</Empty>
        ) : (
          <ClaimsTable claims={claims.data.items} onChange={claims.reload} />
        )}
      </section>
    </>
  );
}

interface ImportOutcome {
  fileName: string;
  read: number;
  imported: number;
  duplicates: number;
  rejected: number;
  problems: { line: number | null; field: string | null; message: string }[];
}

/** A partner's own sales report (CSV in the canonical columns): lines of its own partner only. */
function SalesReport() {
  const [file, setFile] = useState<File>();
  const [result, setResult] = useState<ImportOutcome>();
  const [error, setError] = useState<string>();
  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    setError(undefined);
    setResult(undefined);
    const form = new FormData();
    form.append('kind', 'transactions');
    form.append('skipInvalid', 'true');
    form.append('file', file, file.name);
    try {
      setResult(await upload<ImportOutcome>('/imports', form));
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <section>
      <h2>Send a sales report</h2>
      <form className="toolbar" onSubmit={send} aria-label="Send a sales report">
        <label>
          CSV file (id, date, partner, sku, quantity, amount, currency)
          <input type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0])} />
        </label>
        <button type="submit" disabled={!file}>
          Send
        </button>
      </form>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      {result ? (
        <div role="status" className="ok-box">
          <p>
            {result.fileName}: {result.imported} lines recorded, {result.duplicates} already there,{' '}
            {result.rejected} refused.
          </p>
          {result.problems.length > 0 ? (
            <ul>
              {result.problems.map((p) => (
                <li key={`${p.line}/${p.field}`}>
                  line {p.line}, {p.field}: {p.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
