// Agreements: the list, filtered by status and text, paged on the server.
import { useState } from 'react';
import { Link } from 'react-router';
import { api, type Page } from '../api.ts';
import { Empty, Loading, Pager, useLoad } from '../components.tsx';
import { date } from '../format.ts';
import { can, useSession } from '../session.tsx';

interface Summary {
  id: string;
  name: string;
  partner: string | null;
  group: string | null;
  currency: string;
  start: string;
  end: string;
  calendar: string;
  status: string;
}

const STATUSES = ['draft', 'submitted', 'approved', 'active', 'expired', 'closed', 'rejected', 'cancelled'];
const LIMIT = 25;

export function AgreementsPage() {
  const { me } = useSession();
  const [status, setStatus] = useState('');
  const [q, setQ] = useState('');
  const [offset, setOffset] = useState(0);
  const query = new URLSearchParams({ limit: String(LIMIT), offset: String(offset) });
  if (status) query.set('status', status);
  if (q) query.set('q', q);
  const { data, error } = useLoad(
    () => api<Page<Summary>>('GET', `/agreements?${query}`),
    [status, q, offset],
  );
  return (
    <>
      <h1>Agreements</h1>
      <div className="toolbar">
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
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
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
        {can.writeAgreements(me) ? (
          <Link className="button" to="/agreements/new">
            New agreement
          </Link>
        ) : null}
      </div>
      {!data ? (
        <Loading error={error} />
      ) : data.items.length === 0 ? (
        <Empty>No agreement matches. Clear the filters, or write a new agreement.</Empty>
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">Agreement</th>
                <th scope="col">Partner or group</th>
                <th scope="col">Dates</th>
                <th scope="col">Calendar</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((a) => (
                <tr key={a.id}>
                  <td>
                    <Link to={`/agreements/${encodeURIComponent(a.id)}`}>{a.id}</Link>
                    <div className="muted">{a.name}</div>
                  </td>
                  <td>{a.partner ?? `group ${a.group}`}</td>
                  <td>
                    {date(a.start)} – {date(a.end)}
                  </td>
                  <td>{a.calendar}</td>
                  <td>
                    <span className={`status status-${a.status}`}>{a.status}</span>
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
