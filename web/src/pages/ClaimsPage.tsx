// Claims: the queue of claims and deductions, with their outcome against what
// was due; finance resolves disputes and pays approved claims.
import { useState } from 'react';
import { api, type Page } from '../api.ts';
import { Empty, errorText, Loading, useLoad } from '../components.tsx';
import { money } from '../format.ts';
import { can, useSession } from '../session.tsx';

export interface Claim {
  id: string;
  source: string;
  agreementId: string | null;
  periodStart: string | null;
  partnerId: string;
  reference: string;
  currency: string;
  claimed: string;
  due: string;
  approved: string;
  difference: string;
  status: string;
  reasonCode: string;
  settlement: { id: string; status: string; documentNumber: string | null } | null;
}

export function ClaimsTable({
  claims,
  actions,
}: {
  claims: Claim[];
  actions?: (c: Claim) => React.ReactNode;
}) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Partner</th>
          <th scope="col">Agreement</th>
          <th scope="col">Reference</th>
          <th scope="col" className="num">
            Claimed
          </th>
          <th scope="col" className="num">
            Approved
          </th>
          <th scope="col">Status</th>
          {actions ? <th scope="col">Actions</th> : null}
        </tr>
      </thead>
      <tbody>
        {claims.map((c) => (
          <tr key={c.id}>
            <td>{c.id}</td>
            <td>{c.partnerId}</td>
            <td>
              {c.agreementId ?? 'unmatched'}{' '}
              {c.periodStart ? <span className="muted">from {c.periodStart}</span> : null}
            </td>
            <td>
              {c.reference} {c.source === 'deduction' ? <span className="muted">(deduction)</span> : null}
            </td>
            <td className="num">{money(c.claimed, c.currency)}</td>
            <td className="num">{money(c.approved, c.currency)}</td>
            <td>
              <span className={`status status-${c.status}`}>{c.status.replace('_', ' ')}</span>
              <div className="muted">
                {c.reasonCode.replaceAll('_', ' ')}
                {c.settlement ? ` · settlement ${c.settlement.id} ${c.settlement.status}` : ''}
              </div>
            </td>
            {actions ? <td>{actions(c)}</td> : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ClaimsPage() {
  const { me } = useSession();
  const list = useLoad(() => api<Page<Claim>>('GET', '/claims?limit=500'), []);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string }>();
  const run = async (work: () => Promise<string>) => {
    setMessage(undefined);
    try {
      setMessage({ kind: 'ok', text: await work() });
      list.reload();
    } catch (e) {
      setMessage({ kind: 'error', text: errorText(e) });
    }
  };
  const resolve = (c: Claim, resolution: 'uphold' | 'accept', comment: string) =>
    run(async () => {
      const done = await api<Claim>('POST', `/claims/${c.id}/resolution`, { resolution, comment });
      return `Claim ${c.id} is ${done.status.replace('_', ' ')}: ${money(done.approved, done.currency)} approved.`;
    });
  return (
    <>
      <h1>Claims</h1>
      {message ? (
        <p
          role={message.kind === 'error' ? 'alert' : 'status'}
          className={message.kind === 'error' ? 'error' : 'ok'}
        >
          {message.text}
        </p>
      ) : null}
      {!list.data ? (
        <Loading error={list.error} />
      ) : list.data.items.length === 0 ? (
        <Empty>No claims yet. Partners submit them from the portal; finance records deductions.</Empty>
      ) : (
        <ClaimsTable
          claims={list.data.items}
          actions={(c) =>
            can.finance(me) ? (
              <>
                {c.status === 'disputed' && c.agreementId ? (
                  <>
                    <button type="button" onClick={() => resolve(c, 'uphold', 'The calculation stands.')}>
                      Uphold
                    </button>
                    <button type="button" onClick={() => resolve(c, 'accept', 'Accepted as claimed.')}>
                      Accept
                    </button>
                  </>
                ) : null}
                {['approved', 'partially_approved'].includes(c.status) &&
                !c.settlement &&
                c.approved !== '0' &&
                c.approved !== '0.00' ? (
                  <button
                    type="button"
                    onClick={() =>
                      run(
                        async () =>
                          `Settlement ${(await api<{ id: string }>('POST', `/claims/${c.id}/settlement`, {})).id} prepared for claim ${c.id}.`,
                      )
                    }
                  >
                    Pay
                  </button>
                ) : null}
              </>
            ) : null
          }
        />
      )}
    </>
  );
}
