// One partner: its buying group and the group's members, its agreements with
// where each period stands (progress to the next tier), and its recent lines.
import { Link, useParams } from 'react-router';
import { api, type Page } from '../api.ts';
import { Empty, Loading, useLoad } from '../components.tsx';
import { date, money } from '../format.ts';
import { type Position, PositionsTable } from './AgreementPage.tsx';

interface Partner {
  id: string;
  name: string;
  group: string | null;
  region: string | null;
  attributes: Record<string, string>;
}
interface Summary {
  id: string;
  name: string;
  status: string;
  start: string;
  end: string;
}
interface Line {
  id: string;
  date: string;
  sku: string;
  amount: string;
  currency: string;
}

export function PartnerPage() {
  const { id = '' } = useParams();
  const partner = useLoad(() => api<Partner>('GET', `/partners/${encodeURIComponent(id)}`), [id]);
  const group = partner.data?.group ?? null;
  const members = useLoad(
    () =>
      group
        ? api<Page<Partner>>('GET', `/partners?group=${encodeURIComponent(group)}&limit=200`)
        : Promise.resolve(undefined),
    [group],
  );
  const agreements = useLoad(
    () => api<Page<Summary>>('GET', `/agreements?partner=${encodeURIComponent(id)}&limit=200`),
    [id],
  );
  const positions = useLoad(() => api<Page<Position>>('GET', '/accruals?limit=1000'), []);
  const lines = useLoad(
    () => api<Page<Line>>('GET', `/transactions?partner=${encodeURIComponent(id)}&sort=-date&limit=10`),
    [id],
  );
  if (!partner.data) return <Loading error={partner.error} />;
  const p = partner.data;
  const own = new Set(agreements.data?.items.map((a) => a.id) ?? []);
  return (
    <>
      <p>
        <Link to="/partners">Partners</Link>
      </p>
      <h1>
        {p.name} <span className="muted">{p.id}</span>
      </h1>
      <p>
        {p.region ? `Region ${p.region}. ` : ''}
        {group ? `Member of buying group ${group}` : 'Not in a buying group.'}
        {members.data
          ? `, with ${
              members.data.items
                .filter((m) => m.id !== p.id)
                .map((m) => m.id)
                .join(', ') || 'no other members'
            }.`
          : ''}
      </p>
      <h2>Agreements</h2>
      {!agreements.data ? (
        <Loading error={agreements.error} />
      ) : agreements.data.items.length === 0 ? (
        <Empty>No agreement of its own{group ? `; see the group's (${group})` : ''}.</Empty>
      ) : (
        agreements.data.items.map((a) => (
          <section key={a.id} className="card wide">
            <h3>
              <Link to={`/agreements/${encodeURIComponent(a.id)}`}>{a.id}</Link> {a.name}{' '}
              <span className={`status status-${a.status}`}>{a.status}</span>
            </h3>
            <p className="muted">
              {date(a.start)} – {date(a.end)}
            </p>
            {positions.data ? (
              <PositionsTable
                positions={positions.data.items.filter((x) => x.agreement === a.id && own.has(a.id))}
                partner={p.id}
              />
            ) : null}
          </section>
        ))
      )}
      <h2>Latest lines</h2>
      {!lines.data ? (
        <Loading error={lines.error} />
      ) : lines.data.items.length === 0 ? (
        <Empty>No lines yet.</Empty>
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Date</th>
                <th scope="col">Product</th>
                <th scope="col" className="num">
                  Amount
                </th>
              </tr>
            </thead>
            <tbody>
              {lines.data.items.map((l) => (
                <tr key={l.id}>
                  <td>{l.id}</td>
                  <td>{date(l.date)}</td>
                  <td>{l.sku}</td>
                  <td className="num">{money(l.amount, l.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Link to={`/lines?partner=${encodeURIComponent(p.id)}`}>All {lines.data.total} lines</Link>
        </>
      )}
    </>
  );
}
