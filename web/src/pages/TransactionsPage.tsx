// Imports: upload a CSV export (transactions, partners or products), see its
// first rows before sending, follow the upload, and read every bad row in place.
import { type FormEvent, useState } from 'react';
import { readSheet } from 'read-excel-file/browser';
import { api, type Page } from '../api.ts';
import { Empty, errorText, Loading, useLoad } from '../components.tsx';
import { date } from '../format.ts';

interface ImportRecord {
  id: string;
  kind: string;
  fileName: string;
  startedAt: string;
  read: number;
  imported: number;
  duplicates: number;
  rejected: number;
  outcome: string;
}
interface Outcome extends ImportRecord {
  problems: { line: number | null; field: string | null; code: string; message: string }[];
}
interface Refusal {
  code: string;
  message: string;
  details?: { field: string; message: string }[];
}

/** The canonical fields of each kind (mappings/README.md): required first. */
const FIELDS: Record<string, { required: string[]; optional: string[] }> = {
  transactions: {
    required: ['id', 'date', 'partner', 'sku', 'quantity', 'amount', 'currency'],
    optional: [
      'document_type',
      'invoice_number',
      'ship_to',
      'end_customer',
      'unit_price',
      'list_price',
      'cost',
    ],
  },
  partners: { required: ['id', 'name'], optional: ['group', 'region'] },
  products: { required: ['sku', 'name', 'category'], optional: ['list_price'] },
};
/** A field's source: a column of the file, a constant, or nothing. */
type Source = { column: string } | { value: string } | null;

/** Each field from the column of the same name, when the file has one (any case). */
function matchColumns(kind: string, header: string[]): Record<string, Source> {
  const spec = FIELDS[kind]!;
  return Object.fromEntries(
    [...spec.required, ...spec.optional].map((f) => {
      const column = header.find((h) => h.trim().toLowerCase() === f);
      return [f, column ? { column } : null];
    }),
  );
}

/** The mapping to send, or none when the file already has the canonical columns and nothing else. */
function mappingOf(kind: string, header: string[], sources: Record<string, Source>): string | undefined {
  const identity = Object.entries(sources).every(([f, s]) =>
    s === null ? !header.includes(f) : 'column' in s && s.column === f,
  );
  const canonical = new Set([...FIELDS[kind]!.required, ...FIELDS[kind]!.optional]);
  if (identity && header.every((h) => canonical.has(h))) return undefined;
  const fields = Object.fromEntries(
    Object.entries(sources)
      .filter(([, s]) => s !== null)
      .map(([f, s]) => [f, 'column' in s! ? s.column : { value: s!.value }]),
  );
  return JSON.stringify({ kind, fields });
}

/** Sends the form with a progress callback (fetch cannot report upload progress). */
function send(
  form: FormData,
  onProgress: (share: number) => void,
): Promise<{ status: number; body: Outcome | Refusal }> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', '/api/v1/imports');
    request.setRequestHeader('idempotency-key', crypto.randomUUID());
    request.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    request.onload = () => resolve({ status: request.status, body: JSON.parse(request.responseText) });
    request.onerror = () => reject(new Error('the upload failed: check the connection and try again'));
    request.send(form);
  });
}

export function TransactionsPage() {
  const history = useLoad(() => api<Page<ImportRecord>>('GET', '/imports?limit=20'), []);
  const [kind, setKind] = useState('transactions');
  const [file, setFile] = useState<File>();
  const [preview, setPreview] = useState<string[][]>([]);
  const [skipInvalid, setSkipInvalid] = useState(false);
  const [progress, setProgress] = useState<number>();
  const [sources, setSources] = useState<Record<string, Source>>({});
  const [result, setResult] = useState<Outcome>();
  const [refusal, setRefusal] = useState<Refusal>();

  const choose = async (chosen: File | undefined) => {
    setFile(chosen);
    setResult(undefined);
    setRefusal(undefined);
    if (!chosen) return setPreview([]);
    // The first rows, to see the layout and choose the columns: a spreadsheet's first sheet, or a
    // CSV's first lines split on commas (a look, not the import's parse).
    const rows = /\.xlsx$/i.test(chosen.name)
      ? ((await readSheet(chosen, { parseNumber: (text: string) => text })) as unknown[][])
          .slice(0, 6)
          .map((r) =>
            r.map((c) => (c instanceof Date ? c.toISOString().slice(0, 10) : c === null ? '' : String(c))),
          )
      : (await chosen.slice(0, 64 * 1024).text())
          .replace(/^\uFEFF/, '')
          .split(/\r?\n/)
          .filter((l) => l.trim() !== '')
          .slice(0, 6)
          .map((l) => l.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1')));
    setPreview(rows);
    setSources(matchColumns(kind, rows[0] ?? []));
  };
  const header = preview[0] ?? [];
  const missing = FIELDS[kind]!.required.filter((f) => !sources[f]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    const form = new FormData();
    form.append('kind', kind);
    form.append('skipInvalid', String(skipInvalid));
    const mapping = mappingOf(kind, header, sources);
    if (mapping) form.append('mapping', mapping);
    form.append('file', file, file.name);
    setProgress(0);
    setResult(undefined);
    setRefusal(undefined);
    try {
      const { status, body } = await send(form, setProgress);
      if (status === 201) setResult(body as Outcome);
      else setRefusal(body as Refusal);
      history.reload();
    } catch (e) {
      setRefusal({ code: 'network', message: errorText(e) });
    } finally {
      setProgress(undefined);
    }
  };

  return (
    <>
      <h1>Imports</h1>
      <form onSubmit={submit} className="upload" aria-label="Upload a file">
        <label>
          Kind
          <select
            value={kind}
            onChange={(e) => {
              setKind(e.target.value);
              setSources(matchColumns(e.target.value, header));
            }}
          >
            <option value="transactions">transactions</option>
            <option value="partners">partners</option>
            <option value="products">products</option>
          </select>
        </label>
        <label>
          CSV or XLSX file
          <input
            type="file"
            name="file"
            accept=".csv,text/csv,.xlsx"
            onChange={(e) => choose(e.target.files?.[0])}
          />
        </label>
        <label className="inline">
          <input type="checkbox" checked={skipInvalid} onChange={(e) => setSkipInvalid(e.target.checked)} />{' '}
          Keep the good rows when some are bad
        </label>
        <button type="submit" disabled={!file || progress !== undefined || missing.length > 0}>
          Upload
        </button>
        {file && missing.length > 0 ? (
          <p className="error">Choose a column for {missing.join(', ')}.</p>
        ) : null}
        {progress !== undefined ? (
          <progress max={1} value={progress} aria-label="Upload progress">
            {Math.round(progress * 100)}%
          </progress>
        ) : null}
      </form>
      {preview.length > 0 ? (
        <section aria-label="First rows">
          <h2>First rows of {file?.name}</h2>
          <table>
            <thead>
              <tr>
                {preview[0]!.map((h, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: columns are positions
                  <th scope="col" key={i}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {preview.slice(1).map((row, r) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in the file
                <tr key={r}>
                  {row.map((c, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: columns are positions
                    <td key={i}>{c}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
      {preview.length > 0 ? (
        <section aria-label="Column mapping">
          <h2>Columns</h2>
          <p className="muted">Where each field comes from. Columns of the same name are matched already.</p>
          <table className="narrow">
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {[...FIELDS[kind]!.required, ...FIELDS[kind]!.optional].map((f) => {
                const source = sources[f] ?? null;
                const selected =
                  source === null ? '' : 'column' in source ? `column:${source.column}` : 'value';
                return (
                  <tr key={f}>
                    <td>
                      {f}
                      {FIELDS[kind]!.required.includes(f) ? ' *' : ''}
                    </td>
                    <td>
                      <select
                        aria-label={`Source of ${f}`}
                        value={selected}
                        onChange={(e) => {
                          const v = e.target.value;
                          const next: Source =
                            v === ''
                              ? null
                              : v === 'value'
                                ? { value: '' }
                                : { column: v.slice('column:'.length) };
                          setSources({ ...sources, [f]: next });
                        }}
                      >
                        <option value="">— not in the file —</option>
                        {header.map((h) => (
                          <option key={h} value={`column:${h}`}>
                            column {h}
                          </option>
                        ))}
                        <option value="value">the same value on every row…</option>
                      </select>
                      {source !== null && 'value' in source ? (
                        <input
                          aria-label={`Value of ${f}`}
                          value={source.value}
                          onChange={(e) => setSources({ ...sources, [f]: { value: e.target.value } })}
                        />
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      ) : null}
      {refusal ? (
        <section role="alert" className="error-box">
          <p>{refusal.message}</p>
          {refusal.details?.length ? (
            <ul>
              {refusal.details.map((d) => (
                <li key={`${d.field}${d.message}`}>
                  {d.field}: {d.message}
                </li>
              ))}
            </ul>
          ) : null}
        </section>
      ) : null}
      {result ? (
        <section role="status" className="ok-box">
          <p>
            {result.fileName}: {result.imported} imported, {result.duplicates} already there,{' '}
            {result.rejected} rejected of {result.read} rows.
          </p>
          {result.problems.length > 0 ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Line</th>
                  <th scope="col">Field</th>
                  <th scope="col">Problem</th>
                </tr>
              </thead>
              <tbody>
                {result.problems.map((p) => (
                  <tr key={`${p.line}/${p.field}/${p.code}`}>
                    <td>{p.line}</td>
                    <td>{p.field}</td>
                    <td>{p.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </section>
      ) : null}
      <h2>Import history</h2>
      {!history.data ? (
        <Loading error={history.error} />
      ) : history.data.items.length === 0 ? (
        <Empty>Nothing imported yet.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Kind</th>
              <th scope="col">When</th>
              <th scope="col" className="num">
                Imported
              </th>
              <th scope="col" className="num">
                Rejected
              </th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {history.data.items.map((i) => (
              <tr key={i.id}>
                <td>{i.fileName}</td>
                <td>{i.kind}</td>
                <td>{date(i.startedAt)}</td>
                <td className="num">{i.imported}</td>
                <td className="num">{i.rejected}</td>
                <td>{i.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
