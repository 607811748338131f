// Claims: the queue of claims and deductions, with their outcome against what
// was due; finance resolves disputes and pays approved claims.
import { useState } from 'react';
import { api, type Page, upload } from '../api.ts';
import { Empty, errorText, Loading, Notice, Pager, useAction, useLoad } from '../components.tsx';
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
  onChange,
  footer,
}: {
  claims: Claim[];
  actions?: (c: Claim) => React.ReactNode;
  onChange?: () => void;
  footer?: React.ReactNode;
}) {
  const [open, setOpen] = useState<string>();
  return (
    <>
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
              <td>
                <button
                  type="button"
                  className="link"
                  aria-expanded={open === c.id}
                  onClick={() => setOpen(open === c.id ? undefined : c.id)}
                >
                  {c.id}
                </button>
              </td>
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
      {footer}
      {open ? <ClaimThread id={open} onChange={onChange} /> : null}
    </>
  );
}

interface Attachment {
  id: string;
  fileName: string;
  size: number;
  uploadedBy: string;
}

interface ClaimWithComments extends Claim {
  comments: { author: string; at: string; text: string }[];
}

/** One claim's comment thread; its partner (or finance) disputes an outcome from here. */
export function ClaimThread({ id, onChange }: { id: string; onChange?: (() => void) | undefined }) {
  const { me } = useSession();
  const claim = useLoad(() => api<ClaimWithComments>('GET', `/claims/${id}`), [id]);
  const evidence = useLoad(() => api<{ items: Attachment[] }>('GET', `/claims/${id}/attachments`), [id]);
  const [file, setFile] = useState<File>();
  const [text, setText] = useState('');
  const [reason, setReason] = useState('missing_lines');
  const [error, setError] = useState<string>();
  if (!claim.data) return <Loading error={claim.error} />;
  const c = claim.data;
  const send = async (work: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await work();
      setText('');
      claim.reload();
      onChange?.();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const disputable =
    ['partially_approved', 'rejected'].includes(c.status) && (me.role === 'partner' || can.finance(me));
  return (
    <section className="card wide" aria-label={`Claim ${c.id}`}>
      <h3>
        Claim {c.id}: {c.reference}
      </h3>
      <p>
        Claimed {money(c.claimed, c.currency)}; {money(c.due, c.currency)} was due;{' '}
        {money(c.approved, c.currency)} approved ({c.status.replace('_', ' ')},{' '}
        {c.reasonCode.replaceAll('_', ' ')}).
      </p>
      <ol className="thread">
        {c.comments.map((m) => (
          <li key={`${m.at}${m.author}`}>
            <strong>{m.author}</strong> <span className="muted">{m.at.slice(0, 16).replace('T', ' ')}</span>
            <p>{m.text}</p>
          </li>
        ))}
      </ol>
      <h4>Evidence</h4>
      {evidence.data?.items.length ? (
        <ul>
          {evidence.data.items.map((a) => (
            <li key={a.id}>
              <a href={`/api/v1/claims/${c.id}/attachments/${a.id}`} download>
                {a.fileName}
              </a>{' '}
              <span className="muted">
                {Math.ceil(a.size / 1024)} KB, from {a.uploadedBy}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No evidence attached.</p>
      )}
      {me.role !== 'auditor' ? (
        <div className="toolbar">
          <label>
            Evidence file
            <input type="file" onChange={(e) => setFile(e.target.files?.[0])} />
          </label>
          <button
            type="button"
            disabled={!file}
            onClick={() =>
              send(async () => {
                const form = new FormData();
                form.append('file', file!, file!.name);
                await upload(`/claims/${c.id}/attachments`, form);
                evidence.reload();
              })
            }
          >
            Attach
          </button>
        </div>
      ) : null}
      <label>
        Comment
        <textarea value={text} onChange={(e) => setText(e.target.value)} rows={2} />
      </label>
      <div className="toolbar">
        {me.role !== 'auditor' ? (
          <button
            type="button"
            disabled={!text.trim()}
            onClick={() => send(() => api('POST', `/claims/${c.id}/comments`, { text }))}
          >
            Add comment
          </button>
        ) : null}
        {disputable ? (
          <>
            <label>
              Reason
              <select value={reason} onChange={(e) => setReason(e.target.value)}>
                <option value="missing_lines">missing lines</option>
                <option value="pricing">pricing</option>
                <option value="tier_or_rate">tier or rate</option>
                <option value="returns">returns</option>
                <option value="other">other</option>
              </select>
            </label>
            <button
              type="button"
              disabled={!text.trim()}
              onClick={() =>
                send(() => api('POST', `/claims/${c.id}/dispute`, { reasonCode: reason, comment: text }))
              }
            >
              Dispute with this comment
            </button>
          </>
        ) : null}
      </div>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
    </section>
  );
}

const LIMIT = 50;

export function ClaimsPage() {
  const { me } = useSession();
  const [offset, setOffset] = useState(0);
  const list = useLoad(() => api<Page<Claim>>('GET', `/claims?limit=${LIMIT}&offset=${offset}`), [offset]);
  const action = useAction();
  const { message } = action;
  const run = async (work: () => Promise<string>) => {
    if (await action.run(work)) list.reload();
  };
  const resolve = (c: Claim, resolution: 'uphold' | 'accept', comment: string) =>
    run(async () => {
      const done = await api<Claim>('POST', `/claims/${c.id}/resolution`, { resolution, comment });
      return `Claim ${c.id} is ${done.status.replace('_', ' ')}: ${money(done.approved, done.currency)} approved.`;
    });
  return (
    <>
      <h1>Claims</h1>
      <Notice message={message} />
      {!list.data ? (
        <Loading error={list.error} />
      ) : list.data.items.length === 0 ? (
        <Empty>No claims yet. Partners submit them from the portal; finance records deductions.</Empty>
      ) : (
        <ClaimsTable
          claims={list.data.items}
          onChange={list.reload}
          footer={<Pager total={list.data.total} limit={LIMIT} offset={offset} onChange={setOffset} />}
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
