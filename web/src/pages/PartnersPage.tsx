// Partners: search, buying groups, and each partner's agreements.
import { useState } from 'react';
import { Link } from 'react-router';
import { api, type Page } from '../api.ts';
import { Empty, Loading, Pager, useLoad } from '../components.tsx';

interface Partner {
  id: string;
  name: string;
  group: string | null;
  region: string | null;
}
interface Summary {
  id: string;
  name: string;
  status: string;
}
const LIMIT = 25;

export function PartnersPage() {
  const [q, setQ] = useState('');
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<string>();
  const query = new URLSearchParams({ limit: String(LIMIT), offset: String(offset), ...(q ? { q } : {}) });
  const { data, error } = useLoad(() => api<Page<Partner>>('GET', `/partners?${query}`), [q, offset]);
  const agreements = useLoad(
    () =>
      open
        ? api<Page<Summary>>('GET', `/agreements?partner=${encodeURIComponent(open)}&limit=100`)
        : Promise.resolve(undefined),
    [open],
  );
  return (
    <>
      <h1>Partners</h1>
      <div className="toolbar">
        <label>
          Search
          <input
            type="search"
            value={q}
            placeholder="Id or name"
            onChange={(e) => {
              setQ(e.target.value);
              setOffset(0);
            }}
          />
        </label>
      </div>
      {!data ? (
        <Loading error={error} />
      ) : data.items.length === 0 ? (
        <Empty>No partner matches; partners arrive by import (Imports) or the API.</Empty>
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">Partner</th>
                <th scope="col">Buying group</th>
                <th scope="col">Region</th>
                <th scope="col">Agreements</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((p) => (
                <tr key={p.id}>
                  <td>
                    <Link to={`/partners/${encodeURIComponent(p.id)}`}>{p.id}</Link>{' '}
                    <span className="muted">{p.name}</span>
                  </td>
                  <td>{p.group ?? ''}</td>
                  <td>{p.region ?? ''}</td>
                  <td>
                    {open === p.id && agreements.data ? (
                      agreements.data.items.length === 0 ? (
                        <span className="muted">none of its own</span>
                      ) : (
                        agreements.data.items.map((a) => (
                          <div key={a.id}>
                            <Link to={`/agreements/${encodeURIComponent(a.id)}`}>{a.id}</Link>{' '}
                            <span className="muted">{a.status}</span>
                          </div>
                        ))
                      )
                    ) : (
                      <button type="button" onClick={() => setOpen(p.id)}>
                        Show
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager total={data.total} limit={LIMIT} offset={offset} onChange={setOffset} />
        </>
      )}
    </>
  );
}
