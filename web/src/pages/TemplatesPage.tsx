// Agreement templates the commercial team keeps: the list, and a form to write
// a new one (one rule with its tiers) or replace one.
import { type FormEvent, useState } from 'react';
import { api, type Page } from '../api.ts';
import { Empty, Loading, Notice, useAction, useLoad } from '../components.tsx';
import { rate } from '../format.ts';
import { can, useSession } from '../session.tsx';

interface Template {
  id: string;
  name: string;
  description: string | null;
  calendar: string;
  currency: string;
  rules: {
    id: string;
    basis?: string;
    method?: string;
    payout?: string;
    tiers: { from: string; rate: string }[];
  }[];
  updatedBy: string;
}

export function TemplatesPage() {
  const { me } = useSession();
  const list = useLoad(() => api<Page<Template>>('GET', '/agreement-templates?limit=200&sort=name'), []);
  const [draft, setDraft] = useState({
    id: '',
    name: '',
    description: '',
    calendar: 'quarterly',
    currency: 'USD',
    tiers: '0:1, 50000:2',
  });
  const { message, run } = useAction();
  const save = async (event: FormEvent) => {
    event.preventDefault();
    // Tiers written as "from:rate" pairs, e.g. "0:1, 50000:2"; the server checks them.
    const tiers = draft.tiers
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean)
      .map((t) => {
        const [from = '', r = ''] = t.split(':').map((x) => x.trim());
        return { from, rate: r };
      });
    const body = {
      name: draft.name,
      ...(draft.description ? { description: draft.description } : {}),
      calendar: draft.calendar,
      currency: draft.currency,
      rules: [{ id: 'volume', tiers }],
    };
    await run(async () => {
      const exists = list.data?.items.some((t) => t.id === draft.id);
      if (exists) await api('PUT', `/agreement-templates/${encodeURIComponent(draft.id)}`, body);
      else await api('POST', '/agreement-templates', { id: draft.id, ...body });
      list.reload();
      return `Template ${draft.id} ${exists ? 'replaced' : 'saved'}.`;
    });
  };
  return (
    <>
      <h1>Agreement templates</h1>
      {!list.data ? (
        <Loading error={list.error} />
      ) : list.data.items.length === 0 ? (
        <Empty>No templates yet.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Template</th>
              <th scope="col">Calendar</th>
              <th scope="col">Tiers</th>
              <th scope="col">Last changed by</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((t) => (
              <tr key={t.id}>
                <td>
                  {t.name} <span className="muted">{t.id}</span>
                  {t.description ? <div className="muted">{t.description}</div> : null}
                </td>
                <td>{t.calendar}</td>
                <td>
                  {t.rules.map((r) => (
                    <div key={r.id}>
                      {r.tiers
                        .map((x) => `from ${x.from}: ${rate(x.rate, r.payout ?? 'percent', t.currency)}`)
                        .join(' · ')}
                    </div>
                  ))}
                </td>
                <td>{t.updatedBy}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {can.writeAgreements(me) ? (
        <form className="designer" onSubmit={save} aria-label="Write a template">
          <fieldset>
            <legend>Write or replace a template</legend>
            <label>
              Id
              <input value={draft.id} onChange={(e) => setDraft({ ...draft, id: e.target.value })} required />
            </label>
            <label>
              Name
              <input
                value={draft.name}
                onChange={(e) => setDraft({ ...draft, name: e.target.value })}
                required
              />
            </label>
            <label>
              Description
              <input
                value={draft.description}
                onChange={(e) => setDraft({ ...draft, description: e.target.value })}
              />
            </label>
            <label>
              Calendar
              <select
                value={draft.calendar}
                onChange={(e) => setDraft({ ...draft, calendar: e.target.value })}
              >
                {['none', 'monthly', 'quarterly', 'yearly'].map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            </label>
            <label>
              Currency
              <input
                value={draft.currency}
                maxLength={3}
                onChange={(e) => setDraft({ ...draft, currency: e.target.value.toUpperCase() })}
              />
            </label>
            <label>
              Tiers (from:rate %, …)
              <input value={draft.tiers} onChange={(e) => setDraft({ ...draft, tiers: e.target.value })} />
            </label>
            <button type="submit">Save template</button>
          </fieldset>
        </form>
      ) : null}
      <Notice message={message} />
    </>
  );
}
