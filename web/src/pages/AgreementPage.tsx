// One agreement: its terms, where it stands (accrual positions with progress to
// the next tier), its lifecycle actions for the roles that may take them, its
// versions, and the explanation of every figure.
import { type FormEvent, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, type Page } from '../api.ts';
import { Empty, errorText, Loading, Notice, Progress, useAction, useLoad } from '../components.tsx';
import { date, money, quantity, rate } from '../format.ts';
import { can, useSession } from '../session.tsx';

interface Tier {
  from: string;
  rate: string;
}
interface Rule {
  id: string;
  type: string;
  basis: string;
  method: string;
  payout: string;
  tiers: Tier[];
}
interface Agreement {
  id: string;
  name: string;
  partner?: string;
  group?: string;
  currency: string;
  period: { start: string; end: string };
  calendar: string;
  status: string;
  rules: Rule[];
  version: number;
  signOffs: { version: number; signedBy: string; signedAt: string }[];
}
export interface Position {
  agreement: string;
  rule: string;
  version: number;
  periodStart: string;
  periodEnd: string;
  currency: string;
  lineCount: number;
  amount: string;
  measure: string;
  tier: number;
  rebate: string;
  outcome: string;
  nextTierFrom: string | null;
  nextTierRemaining: string | null;
  nextTierRate: string | null;
  basis: string;
  payout: string;
  forecastRebate: string;
  forecastTier: number;
  accrued: string;
}

const ACTIONS: { action: string; label: string; from: string[]; allowed: (role: string) => boolean }[] = [
  {
    action: 'submit',
    label: 'Submit for approval',
    from: ['draft'],
    allowed: (r) => ['admin', 'commercial', 'sales'].includes(r),
  },
  {
    action: 'approve',
    label: 'Approve',
    from: ['submitted'],
    allowed: (r) => ['admin', 'commercial', 'finance'].includes(r),
  },
  {
    action: 'reject',
    label: 'Reject',
    from: ['submitted'],
    allowed: (r) => ['admin', 'commercial', 'finance'].includes(r),
  },
  {
    action: 'activate',
    label: 'Activate',
    from: ['approved'],
    allowed: (r) => ['admin', 'commercial', 'finance'].includes(r),
  },
  {
    action: 'cancel',
    label: 'Cancel',
    from: ['draft', 'submitted', 'approved'],
    allowed: (r) => ['admin', 'commercial'].includes(r),
  },
];

export function PositionsTable({
  positions,
  partner,
}: {
  positions: Position[];
  partner?: string | undefined;
}) {
  if (positions.length === 0)
    return <Empty>No accrual yet: the agreement accrues once it is approved.</Empty>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Rule</th>
          <th scope="col">Period</th>
          <th scope="col" className="num">
            Measure
          </th>
          <th scope="col" className="num">
            Earned
          </th>
          <th scope="col" className="num">
            Forecast
          </th>
          <th scope="col">Next tier</th>
          {partner ? <th scope="col">Lines</th> : null}
        </tr>
      </thead>
      <tbody>
        {positions.map((p) => (
          <tr key={`${p.rule}/${p.version}/${p.periodStart}`}>
            <td>
              {p.rule}
              {p.version > 1 ? <span className="muted"> v{p.version}</span> : null}
            </td>
            <td>
              {date(p.periodStart)} – {date(p.periodEnd)}
            </td>
            <td className="num">
              {p.basis === 'amount' ? money(p.measure, p.currency) : quantity(p.measure)}
            </td>
            <td className="num">{money(p.rebate, p.currency)}</td>
            <td className="num">{money(p.forecastRebate, p.currency)}</td>
            <td>
              {p.nextTierFrom && p.nextTierRemaining && p.nextTierRate ? (
                <>
                  <Progress
                    value={Number(p.measure)}
                    max={Number(p.nextTierFrom)}
                    label={`${p.rule} ${p.periodStart}: progress to the next tier`}
                  />
                  <span className="muted">
                    {p.basis === 'amount'
                      ? money(p.nextTierRemaining, p.currency)
                      : `${quantity(p.nextTierRemaining)} units`}{' '}
                    more for {rate(p.nextTierRate, p.payout, p.currency)}
                  </span>
                </>
              ) : (
                <span className="muted">top tier</span>
              )}
            </td>
            {partner ? (
              <td>
                <Link
                  to={`/lines?partner=${encodeURIComponent(partner)}&from=${p.periodStart}&to=${p.periodEnd}`}
                >
                  {p.lineCount} lines
                </Link>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AgreementPage() {
  const { id = '' } = useParams();
  const { me } = useSession();
  const agreement = useLoad(() => api<Agreement>('GET', `/agreements/${encodeURIComponent(id)}`), [id]);
  const positions = useLoad(
    () => api<Page<Position>>('GET', `/accruals?agreement=${encodeURIComponent(id)}&limit=1000`),
    [id],
  );
  const { message, setMessage, run } = useAction();
  const [explanation, setExplanation] = useState<string>();
  const [comment, setComment] = useState('');
  const versions = useLoad(
    () => api<{ items: Version[] }>('GET', `/agreements/${encodeURIComponent(id)}/versions`),
    [id],
  );
  if (!agreement.data) return <Loading error={agreement.error} />;
  const a = agreement.data;
  const act = (action: string) =>
    run(async () => {
      const done = await api<{ status: string }>(
        'POST',
        `/agreements/${encodeURIComponent(id)}/transitions`,
        {
          action,
          ...(comment ? { comment } : {}),
        },
      );
      setComment('');
      agreement.reload();
      positions.reload();
      return `The agreement is ${done.status}.`;
    });
  const explain = async () => {
    try {
      setExplanation(
        (await api<{ text: string }>('GET', `/agreements/${encodeURIComponent(id)}/explanation`)).text,
      );
    } catch (e) {
      setExplanation(errorText(e));
    }
  };
  const actions = ACTIONS.filter((x) => x.from.includes(a.status) && x.allowed(me.role));
  return (
    <>
      <p>
        <Link to="/agreements">Agreements</Link>
      </p>
      <h1>
        {a.id} <span className={`status status-${a.status}`}>{a.status}</span>
      </h1>
      <p>
        {a.name} · {a.partner ? `partner ${a.partner}` : `buying group ${a.group}`} · {date(a.period.start)} –{' '}
        {date(a.period.end)} · {a.calendar === 'none' ? 'one period' : `${a.calendar} periods`} · {a.currency}{' '}
        · version {a.version}
      </p>
      {actions.length > 0 ? (
        <section className="actions" aria-label="Lifecycle">
          <label>
            Comment (optional)
            <input value={comment} onChange={(e) => setComment(e.target.value)} />
          </label>
          {actions.map((x) => (
            <button type="button" key={x.action} onClick={() => act(x.action)}>
              {x.label}
            </button>
          ))}
        </section>
      ) : null}
      <Notice message={message} />
      <h2>Rules</h2>
      {a.rules.map((r) => (
        <section key={r.id} className="rule">
          <h3>
            {r.id}{' '}
            <span className="muted">
              ({r.type}, {r.method}, on {r.basis})
            </span>
          </h3>
          <table className="narrow">
            <thead>
              <tr>
                <th scope="col" className="num">
                  From
                </th>
                <th scope="col">Rate</th>
              </tr>
            </thead>
            <tbody>
              {r.tiers.map((t) => (
                <tr key={t.from}>
                  <td className="num">
                    {r.basis === 'amount' ? money(t.from, a.currency) : quantity(t.from)}
                  </td>
                  <td>{rate(t.rate, r.payout, a.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
      <h2>Where it stands</h2>
      {positions.data ? (
        <PositionsTable positions={positions.data.items} partner={a.partner} />
      ) : (
        <Loading error={positions.error} />
      )}
      {a.signOffs.length > 0 ? (
        <p className="muted">
          Signed off by{' '}
          {a.signOffs.map((s) => `${s.signedBy} (version ${s.version}, ${date(s.signedAt)})`).join(', ')}
        </p>
      ) : null}
      <h2>Versions</h2>
      {versions.data ? (
        <VersionsTable
          versions={versions.data.items}
          agreementId={a.id}
          onChange={(text, kind) => {
            setMessage({ kind, text });
            agreement.reload();
            versions.reload();
            positions.reload();
          }}
        />
      ) : (
        <Loading error={versions.error} />
      )}
      {can.writeAgreements(me) && ['approved', 'active'].includes(a.status) ? (
        <AmendForm
          agreement={a}
          onDone={(text, kind) => {
            setMessage({ kind, text });
            versions.reload();
          }}
        />
      ) : null}
      <h2>Explanation</h2>
      {explanation ? <pre className="explain">{explanation}</pre> : null}
      <button type="button" onClick={explain}>
        {explanation ? 'Explain again' : 'Explain every figure'}
      </button>
    </>
  );
}

interface Version {
  version: number;
  status: string;
  effectiveFrom: string;
  createdBy: string;
  decidedBy: string | null;
  comment: string | null;
}

function VersionsTable({
  versions,
  agreementId,
  onChange,
}: {
  versions: Version[];
  agreementId: string;
  onChange: (text: string, kind: 'ok' | 'error') => void;
}) {
  const { me } = useSession();
  const decide = async (version: number, action: 'approve' | 'reject') => {
    try {
      const v = await api<Version>(
        'POST',
        `/agreements/${encodeURIComponent(agreementId)}/amendments/${version}/transitions`,
        {
          action,
        },
      );
      onChange(`Version ${v.version} is ${v.status}.`, 'ok');
    } catch (e) {
      onChange(errorText(e), 'error');
    }
  };
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">In force from</th>
          <th scope="col">Written by</th>
          <th scope="col">Status</th>
          <th scope="col">Decision</th>
        </tr>
      </thead>
      <tbody>
        {versions.map((v) => (
          <tr key={v.version}>
            <td>{v.version}</td>
            <td>{date(v.effectiveFrom)}</td>
            <td>
              {v.createdBy}
              {v.comment ? <div className="muted">{v.comment}</div> : null}
            </td>
            <td>
              <span className={`status status-${v.status}`}>{v.status}</span>
            </td>
            <td>
              {v.version > 1 && v.status === 'submitted' && can.decide(me) ? (
                <>
                  <button type="button" onClick={() => decide(v.version, 'approve')}>
                    Approve version {v.version}
                  </button>{' '}
                  <button type="button" onClick={() => decide(v.version, 'reject')}>
                    Reject
                  </button>
                </>
              ) : (
                (v.decidedBy ?? '')
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Amends one rule's tiers from a date: a new version, approved by someone else before it counts. */
function AmendForm({
  agreement,
  onDone,
}: {
  agreement: Agreement;
  onDone: (text: string, kind: 'ok' | 'error') => void;
}) {
  const [ruleId, setRuleId] = useState(agreement.rules[0]?.id ?? '');
  const rule = agreement.rules.find((r) => r.id === ruleId) ?? agreement.rules[0]!;
  const [tiers, setTiers] = useState<Tier[]>(rule.tiers.map((t) => ({ ...t })));
  const [effectiveFrom, setEffectiveFrom] = useState(agreement.period.start);
  const [comment, setComment] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const rules = agreement.rules.map((r) => (r.id === rule.id ? { ...r, tiers } : r));
      const v = await api<Version>('POST', `/agreements/${encodeURIComponent(agreement.id)}/amendments`, {
        effectiveFrom,
        rules,
        ...(comment ? { comment } : {}),
      });
      onDone(
        `Version ${v.version} is submitted: it counts from ${effectiveFrom} once another user approves it.`,
        'ok',
      );
    } catch (e) {
      onDone(errorText(e), 'error');
    }
  };
  return (
    <form className="designer" onSubmit={submit} aria-label="Amend">
      <fieldset>
        <legend>Amend the terms</legend>
        <label>
          Rule
          <select
            value={rule.id}
            onChange={(e) => {
              setRuleId(e.target.value);
              setTiers(
                (agreement.rules.find((r) => r.id === e.target.value)?.tiers ?? []).map((t) => ({ ...t })),
              );
            }}
          >
            {agreement.rules.map((r) => (
              <option key={r.id}>{r.id}</option>
            ))}
          </select>
        </label>
        <label>
          In force from
          <input
            type="date"
            value={effectiveFrom}
            onChange={(e) => setEffectiveFrom(e.target.value)}
            required
          />
        </label>
        <label>
          Why
          <input value={comment} onChange={(e) => setComment(e.target.value)} />
        </label>
        {tiers.map((t, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: tiers are edited in place by position
          <span key={i} className="toolbar">
            <label>
              Tier {i + 1} from
              <input
                value={t.from}
                onChange={(e) =>
                  setTiers(tiers.map((x, j) => (j === i ? { ...x, from: e.target.value } : x)))
                }
              />
            </label>
            <label>
              Tier {i + 1} new rate
              <input
                value={t.rate}
                onChange={(e) =>
                  setTiers(tiers.map((x, j) => (j === i ? { ...x, rate: e.target.value } : x)))
                }
              />
            </label>
          </span>
        ))}
        <button type="submit">Submit amendment</button>
      </fieldset>
    </form>
  );
}
