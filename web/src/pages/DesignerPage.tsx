// The agreement designer: start from a template, edit the tiers, and see at
// once what the draft would have paid on the stored lines (the server's what-if)
// and its payout curve; then save it as a draft and submit it for approval.
import { type FormEvent, useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, type Page } from '../api.ts';
import { errorText } from '../components.tsx';
import { money, quantity } from '../format.ts';

interface Template {
  id: string;
  name: string;
  calendar: string;
  currency: string;
  rules: {
    id: string;
    type?: string;
    basis?: string;
    method?: string;
    payout?: string;
    tiers: { from: string; rate: string }[];
  }[];
}
interface Preview {
  currency: string;
  total: string;
  results: {
    rule: string;
    periodStart: string;
    periodEnd: string;
    measure: string;
    rebate: string;
    lineCount: number;
  }[];
  curves: { rule: string; points: { measure: string; rebate: string }[] }[];
}

export function DesignerPage() {
  const navigate = useNavigate();
  const [templates, setTemplates] = useState<Template[]>([]);
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [partner, setPartner] = useState('');
  const [start, setStart] = useState('2025-01-01');
  const [end, setEnd] = useState('2025-12-31');
  const [calendar, setCalendar] = useState('quarterly');
  const [currency, setCurrency] = useState('USD');
  const [ruleId, setRuleId] = useState('R1');
  const [method, setMethod] = useState('retroactive');
  const [basis, setBasis] = useState('amount');
  const [payout, setPayout] = useState('percent');
  const [tiers, setTiers] = useState([
    { from: '0', rate: '1' },
    { from: '50000', rate: '2' },
  ]);
  const [preview, setPreview] = useState<Preview>();
  const [previewError, setPreviewError] = useState<string>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    api<Page<Template>>('GET', '/agreement-templates?limit=100')
      .then((p) => setTemplates(p.items))
      .catch(() => setTemplates([]));
  }, []);

  const applyTemplate = (templateId: string) => {
    const t = templates.find((x) => x.id === templateId);
    const rule = t?.rules[0];
    if (!t || !rule) return;
    setCalendar(t.calendar);
    setCurrency(t.currency);
    setRuleId(rule.id);
    setMethod(rule.method ?? 'retroactive');
    setBasis(rule.basis ?? 'amount');
    setPayout(rule.payout ?? 'percent');
    setTiers(rule.tiers.map((x) => ({ ...x })));
  };

  const terms = () => ({
    id: id || 'draft',
    name: name || id || 'draft',
    ...(partner ? { partner } : {}),
    currency,
    period: { start, end },
    calendar,
    rules: [{ id: ruleId, type: 'volume', basis, method, payout, tiers }],
  });

  // The live preview: the server settles the draft on the stored lines, a moment after each edit.
  // biome-ignore lint/correctness/useExhaustiveDependencies: every field of the terms is listed
  useEffect(() => {
    if (!partner) return;
    const timer = setTimeout(() => {
      api<Preview>('POST', '/agreements/preview', terms())
        .then((p) => {
          setPreview(p);
          setPreviewError(undefined);
        })
        .catch((e) => setPreviewError(errorText(e)));
    }, 400);
    return () => clearTimeout(timer);
  }, [partner, start, end, calendar, currency, method, basis, payout, JSON.stringify(tiers)]);

  const save = async (event: FormEvent, submit: boolean) => {
    event.preventDefault();
    setError(undefined);
    try {
      await api('POST', '/agreements', { ...terms(), status: 'draft' });
      if (submit)
        await api('POST', `/agreements/${encodeURIComponent(id)}/transitions`, { action: 'submit' });
      navigate(`/agreements/${encodeURIComponent(id)}`);
    } catch (e) {
      setError(errorText(e));
    }
  };

  const curve = preview?.curves[0]?.points ?? [];
  return (
    <>
      <h1>New agreement</h1>
      <form className="designer" onSubmit={(e) => save(e, false)}>
        <fieldset>
          <legend>Agreement</legend>
          <label>
            Template
            <select defaultValue="" onChange={(e) => applyTemplate(e.target.value)}>
              <option value="">None</option>
              {templates.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Id
            <input name="id" value={id} onChange={(e) => setId(e.target.value)} required />
          </label>
          <label>
            Name
            <input name="name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label>
            Partner
            <input name="partner" value={partner} onChange={(e) => setPartner(e.target.value)} required />
          </label>
          <label>
            From
            <input type="date" value={start} onChange={(e) => setStart(e.target.value)} required />
          </label>
          <label>
            To
            <input type="date" value={end} onChange={(e) => setEnd(e.target.value)} required />
          </label>
          <label>
            Calendar
            <select value={calendar} onChange={(e) => setCalendar(e.target.value)}>
              {['none', 'monthly', 'quarterly', 'yearly'].map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </label>
          <label>
            Currency
            <input
              value={currency}
              onChange={(e) => setCurrency(e.target.value.toUpperCase())}
              maxLength={3}
            />
          </label>
        </fieldset>
        <fieldset>
          <legend>Tiers</legend>
          <label>
            Method
            <select value={method} onChange={(e) => setMethod(e.target.value)}>
              {['retroactive', 'incremental', 'rolling', 'total'].map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </label>
          <label>
            Measured on
            <select value={basis} onChange={(e) => setBasis(e.target.value)}>
              <option value="amount">amount</option>
              <option value="quantity">quantity</option>
            </select>
          </label>
          <label>
            Pays
            <select value={payout} onChange={(e) => setPayout(e.target.value)}>
              <option value="percent">percent</option>
              <option value="per_unit">per unit</option>
              <option value="lump_sum">lump sum</option>
            </select>
          </label>
          <table className="narrow">
            <thead>
              <tr>
                <th scope="col">From</th>
                <th scope="col">Rate</th>
                <th scope="col">
                  <span className="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tiers.map((t, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: tiers are edited in place by position
                <tr key={i}>
                  <td>
                    <input
                      aria-label={`Tier ${i + 1} from`}
                      value={t.from}
                      inputMode="decimal"
                      onChange={(e) =>
                        setTiers(tiers.map((x, j) => (j === i ? { ...x, from: e.target.value } : x)))
                      }
                    />
                  </td>
                  <td>
                    <input
                      aria-label={`Tier ${i + 1} rate`}
                      value={t.rate}
                      inputMode="decimal"
                      onChange={(e) =>
                        setTiers(tiers.map((x, j) => (j === i ? { ...x, rate: e.target.value } : x)))
                      }
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      onClick={() => setTiers(tiers.filter((_, j) => j !== i))}
                      disabled={tiers.length === 1}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" onClick={() => setTiers([...tiers, { from: '', rate: '' }])}>
            Add tier
          </button>
        </fieldset>
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
        <div className="toolbar">
          <button type="submit">Save draft</button>
          <button type="button" onClick={(e) => save(e, true)}>
            Save and submit for approval
          </button>
        </div>
      </form>
      <section aria-label="Preview" aria-live="polite">
        <h2>What it would have paid</h2>
        {!partner ? (
          <p className="empty">Name a partner to preview the draft on its stored sales.</p>
        ) : previewError ? (
          <p className="error">{previewError}</p>
        ) : preview ? (
          <>
            <p className="figure" data-testid="preview-total">
              {money(preview.total, preview.currency)}
            </p>
            <table>
              <thead>
                <tr>
                  <th scope="col">Period</th>
                  <th scope="col" className="num">
                    Lines
                  </th>
                  <th scope="col" className="num">
                    Measure
                  </th>
                  <th scope="col" className="num">
                    Rebate
                  </th>
                </tr>
              </thead>
              <tbody>
                {preview.results.map((r) => (
                  <tr key={`${r.rule}/${r.periodStart}`}>
                    <td>
                      {r.periodStart} – {r.periodEnd}
                    </td>
                    <td className="num">{r.lineCount}</td>
                    <td className="num">
                      {basis === 'amount' ? money(r.measure, preview.currency) : quantity(r.measure)}
                    </td>
                    <td className="num">{money(r.rebate, preview.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {curve.length > 1 ? <Curve points={curve} currency={preview.currency} /> : null}
          </>
        ) : (
          <p className="muted">Calculating…</p>
        )}
      </section>
    </>
  );
}

/** The payout curve the server computed: rebate for one period against the measure. A drawing only. */
function Curve({ points, currency }: { points: { measure: string; rebate: string }[]; currency: string }) {
  const xs = points.map((p) => Number(p.measure));
  const ys = points.map((p) => Number(p.rebate));
  const [w, h] = [480, 200];
  const maxX = Math.max(1, ...xs);
  const maxY = Math.max(1, ...ys);
  const path = points
    .map((_, i) => `${i === 0 ? 'M' : 'L'}${(xs[i]! / maxX) * w},${h - (ys[i]! / maxY) * h}`)
    .join(' ');
  const last = points.at(-1)!;
  return (
    <figure className="chart">
      <figcaption>
        Payout curve: one period pays {money(last.rebate, currency)} at {quantity(last.measure)}
      </figcaption>
      <svg viewBox={`-4 -4 ${w + 8} ${h + 8}`} role="img" aria-label="Payout curve">
        <path d={path} className="curve" />
      </svg>
    </figure>
  );
}
