// Products: search by sku or name, filter by category, paged on the server.
import { useState } from 'react';
import { api, type Page } from '../api.ts';
import { Empty, Loading, Pager, useLoad } from '../components.tsx';
import { money } from '../format.ts';

interface Product {
  sku: string;
  name: string;
  category: string;
  listPrice: string | null;
  attributes: Record<string, string>;
}
const LIMIT = 50;

export function ProductsPage() {
  const [q, setQ] = useState('');
  const [category, setCategory] = useState('');
  const [offset, setOffset] = useState(0);
  const query = new URLSearchParams({
    limit: String(LIMIT),
    offset: String(offset),
    ...(q ? { q } : {}),
    ...(category ? { category } : {}),
  });
  const { data, error } = useLoad(
    () => api<Page<Product>>('GET', `/products?${query}`),
    [q, category, offset],
  );
  return (
    <>
      <h1>Products</h1>
      <div className="toolbar">
        <label>
          Search
          <input
            type="search"
            value={q}
            placeholder="Sku or name"
            onChange={(e) => {
              setQ(e.target.value);
              setOffset(0);
            }}
          />
        </label>
        <label>
          Category
          <input
            value={category}
            onChange={(e) => {
              setCategory(e.target.value);
              setOffset(0);
            }}
          />
        </label>
      </div>
      {!data ? (
        <Loading error={error} />
      ) : data.items.length === 0 ? (
        <Empty>No product matches; products arrive by import (Imports) or the API.</Empty>
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">Sku</th>
                <th scope="col">Name</th>
                <th scope="col">Category</th>
                <th scope="col" className="num">
                  List price
                </th>
                <th scope="col">Attributes</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((p) => (
                <tr key={p.sku}>
                  <td>{p.sku}</td>
                  <td>{p.name}</td>
                  <td>{p.category}</td>
                  <td className="num">{p.listPrice ? money(p.listPrice, 'USD') : ''}</td>
                  <td className="muted">
                    {Object.entries(p.attributes)
                      .map(([k, v]) => `${k}: ${v}`)
                      .join(', ')}
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
