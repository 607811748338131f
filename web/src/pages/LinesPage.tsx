// Transaction lines: the source of every figure, filtered by partner, product
// and dates, paged on the server. Positions and explanations link here.
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, type Page } from '../api.ts';
import { Empty, Loading, Pager, useLoad } from '../components.tsx';
import { date, money, quantity } from '../format.ts';

interface Line {
  id: string;
  date: string;
  partner: string;
  sku: string;
  quantity: string;
  amount: string;
  currency: string;
  documentType: string | null;
  invoiceNumber: string | null;
}
const LIMIT = 50;

export function LinesPage() {
  const [params, setParams] = useSearchParams();
  const [offset, setOffset] = useState(0);
  const filters = {
    partner: params.get('partner') ?? '',
    sku: params.get('sku') ?? '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
  };
  const query = new URLSearchParams({ limit: String(LIMIT), offset: String(offset) });
  for (const [k, v] of Object.entries(filters)) if (v) query.set(k, v);
  const { data, error } = useLoad(() => api<Page<Line>>('GET', `/transactions?${query}`), [query.toString()]);
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next);
    setOffset(0);
  };
  return (
    <>
      <h1>Transaction lines</h1>
      <div className="toolbar">
        <label>
          Partner
          <input value={filters.partner} onChange={(e) => set('partner', e.target.value)} />
        </label>
        <label>
          Product
          <input value={filters.sku} onChange={(e) => set('sku', e.target.value)} />
        </label>
        <label>
          From
          <input type="date" value={filters.from} onChange={(e) => set('from', e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={filters.to} onChange={(e) => set('to', e.target.value)} />
        </label>
      </div>
      {!data ? (
        <Loading error={error} />
      ) : data.items.length === 0 ? (
        <Empty>No line matches these filters.</Empty>
      ) : (
        <>
          <p className="muted">{data.total} lines</p>
          <table>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Date</th>
                <th scope="col">Partner</th>
                <th scope="col">Product</th>
                <th scope="col" className="num">
                  Quantity
                </th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Document</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((l) => (
                <tr key={l.id}>
                  <td>{l.id}</td>
                  <td>{date(l.date)}</td>
                  <td>{l.partner}</td>
                  <td>{l.sku}</td>
                  <td className="num">{quantity(l.quantity)}</td>
                  <td className="num">{money(l.amount, l.currency)}</td>
                  <td>{[l.documentType, l.invoiceNumber].filter(Boolean).join(' ')}</td>
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
