// Settlements: prepare one for a rule and period, approve (someone else's),
// post, and download its payout document.
import { type FormEvent, useState } from 'react';
import { api, type Page } from '../api.ts';
import { Empty, Loading, Notice, Pager, useAction, useLoad } from '../components.tsx';
import { money } from '../format.ts';
import { can, useSession } from '../session.tsx';

interface Settlement {
  id: string;
  agreementId: string;
  ruleId: string;
  periodStart: string;
  periodEnd: string;
  kind: string;
  status: string;
  currency: string;
  earned: string;
  paidBefore: string;
  amount: string;
  preparedBy: string;
  approvedBy: string | null;
  documentNumber: string | null;
}

const LIMIT = 50;

export function SettlementsPage() {
  const { me } = useSession();
  const [status, setStatus] = useState('');
  const [offset, setOffset] = useState(0);
  const list = useLoad(
    () =>
      api<Page<Settlement>>(
        'GET',
        `/settlements?limit=${LIMIT}&offset=${offset}${status ? `&status=${status}` : ''}`,
      ),
    [status, offset],
  );
  const { message, run } = useAction();
  const [draft, setDraft] = useState({ agreement: '', rule: '', periodStart: '', kind: 'final', amount: '' });
  const act = (id: string, action: string) =>
    run(async () => {
      const s = await api<Settlement>('POST', `/settlements/${id}/transitions`, { action });
      list.reload();
      return `Settlement ${id} is ${s.status}${s.documentNumber ? `: ${s.documentNumber}` : ''}.`;
    });
  const prepare = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      const s = await api<Settlement>('POST', '/settlements', {
        agreement: draft.agreement,
        rule: draft.rule,
        periodStart: draft.periodStart,
        kind: draft.kind,
        ...(draft.kind === 'interim' && draft.amount ? { amount: draft.amount } : {}),
      });
      list.reload();
      return `Settlement ${s.id} prepared: ${money(s.amount, s.currency)}.`;
    });
  };
  return (
    <>
      <h1>Settlements</h1>
      {can.finance(me) ? (
        <form className="toolbar" onSubmit={prepare} aria-label="Prepare a settlement">
          <label>
            Agreement
            <input
              value={draft.agreement}
              onChange={(e) => setDraft({ ...draft, agreement: e.target.value })}
              required
            />
          </label>
          <label>
            Rule
            <input
              value={draft.rule}
              onChange={(e) => setDraft({ ...draft, rule: e.target.value })}
              required
            />
          </label>
          <label>
            Period start
            <input
              type="date"
              value={draft.periodStart}
              onChange={(e) => setDraft({ ...draft, periodStart: e.target.value })}
              required
            />
          </label>
          <label>
            Kind
            <select value={draft.kind} onChange={(e) => setDraft({ ...draft, kind: e.target.value })}>
              <option value="final">final</option>
              <option value="interim">interim</option>
            </select>
          </label>
          {draft.kind === 'interim' ? (
            <label>
              Amount
              <input
                inputMode="decimal"
                value={draft.amount}
                onChange={(e) => setDraft({ ...draft, amount: e.target.value })}
              />
            </label>
          ) : null}
          <button type="submit">Prepare</button>
        </form>
      ) : null}
      <div className="toolbar">
        {can.finance(me) || me.role === 'auditor' ? (
          <a href="/api/v1/settlement-payments" download>
            Payments for the ERP (CSV)
          </a>
        ) : null}
        <label>
          Status
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value);
              setOffset(0);
            }}
          >
            <option value="">All</option>
            {['draft', 'approved', 'posted', 'cancelled'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </div>
      <Notice message={message} />
      {!list.data ? (
        <Loading error={list.error} />
      ) : list.data.items.length === 0 ? (
        <Empty>
          No settlement yet. Finance prepares one for an agreement's rule and period once it is earned.
        </Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Agreement</th>
              <th scope="col">Period</th>
              <th scope="col">Kind</th>
              <th scope="col" className="num">
                Earned
              </th>
              <th scope="col" className="num">
                Paid before
              </th>
              <th scope="col" className="num">
                Amount
              </th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((s) => (
              <tr key={s.id}>
                <td>{s.id}</td>
                <td>
                  {s.agreementId} · {s.ruleId}
                </td>
                <td>
                  {s.periodStart} – {s.periodEnd}
                </td>
                <td>{s.kind}</td>
                <td className="num">{money(s.earned, s.currency)}</td>
                <td className="num">{money(s.paidBefore, s.currency)}</td>
                <td className="num">{money(s.amount, s.currency)}</td>
                <td>
                  <span className={`status status-${s.status}`}>{s.status}</span>
                  <div className="muted">prepared by {s.preparedBy}</div>
                </td>
                <td>
                  {can.finance(me) && s.status === 'draft' ? (
                    <button
                      type="button"
                      onClick={() => act(s.id, 'approve')}
                      disabled={s.preparedBy === me.username}
                      title={
                        s.preparedBy === me.username ? 'Someone else approves what you prepared' : undefined
                      }
                    >
                      Approve
                    </button>
                  ) : null}
                  {can.finance(me) && s.status === 'approved' ? (
                    <button type="button" onClick={() => act(s.id, 'post')}>
                      Post
                    </button>
                  ) : null}
                  {s.status === 'posted' ? (
                    <a href={`/api/v1/settlements/${s.id}/document`} download>
                      {s.documentNumber} (PDF)
                    </a>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data ? (
        <Pager total={list.data.total} limit={LIMIT} offset={offset} onChange={setOffset} />
      ) : null}
    </>
  );
}
