// Small pieces every page uses: loading and error states, pagination, a
// progress bar, a bar chart (with its figures as a table for screen readers).
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiError } from './api.ts';

/** Loads data for a page; `reload` fetches it again after a change. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): {
  data: T | undefined;
  error: string | undefined;
  reload: () => void;
} {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [version, setVersion] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the load depends on
  useEffect(() => {
    let live = true;
    setError(undefined);
    load()
      .then((d) => live && setData(d))
      .catch((e: unknown) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [...deps, version]);
  return { data, error, reload: useCallback(() => setVersion((v) => v + 1), []) };
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.details
      .filter((d) => d.field)
      .map((d) => `${d.field}: ${d.message}`)
      .join('; ');
    return fields && !error.message.includes(fields) ? `${error.message} (${fields})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function Loading({ error, children }: { error?: string | undefined; children?: ReactNode }) {
  if (error)
    return (
      <p role="alert" className="error">
        {error}
      </p>
    );
  return (
    <p className="muted" aria-live="polite">
      {children ?? 'Loading…'}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function Pager({
  total,
  limit,
  offset,
  onChange,
}: {
  total: number;
  limit: number;
  offset: number;
  onChange: (offset: number) => void;
}) {
  if (total <= limit) return null;
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - limit))}>
        Previous
      </button>
      <span>
        {offset + 1}–{Math.min(total, offset + limit)} of {total}
      </span>
      <button type="button" disabled={offset + limit >= total} onClick={() => onChange(offset + limit)}>
        Next
      </button>
    </nav>
  );
}

/** Progress toward a goal; `value` and `max` are display proportions only. */
export function Progress({ value, max, label }: { value: number; max: number; label: string }) {
  const share = max > 0 ? Math.max(0, Math.min(1, value / max)) : 0;
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(share * 100)}
    >
      <div className="progress-fill" style={{ width: `${share * 100}%` }} />
    </div>
  );
}

/**
 * A bar chart of figures the server computed. Bar lengths are a drawing only;
 * the figures shown are the server's text, formatted.
 */
export function BarChart({
  title,
  bars,
}: {
  title: string;
  bars: { label: string; value: string; text: string }[];
}) {
  const values = bars.map((b) => Math.abs(Number(b.value)));
  const max = Math.max(1, ...values);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 320 ${bars.length * 26 + 4}`} role="img" aria-label={title}>
        {bars.map((b, i) => (
          <g key={b.label} transform={`translate(0 ${i * 26 + 2})`}>
            <text x="0" y="15" className="chart-label">
              {b.label}
            </text>
            <rect
              x="110"
              y="4"
              height="16"
              width={Math.max(1, (values[i]! / max) * 150)}
              className="chart-bar"
            >
              <title>{`${b.label}: ${b.text}`}</title>
            </rect>
            <text x={114 + (values[i]! / max) * 150} y="17" className="chart-value">
              {b.text}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

export interface Message {
  kind: 'ok' | 'error';
  text: string;
}

/** The outcome of the last action: a status when it worked, an alert when it did not. */
export function Notice({ message }: { message: Message | undefined }) {
  if (!message) return null;
  return (
    <p
      role={message.kind === 'error' ? 'alert' : 'status'}
      className={message.kind === 'error' ? 'error' : 'ok'}
    >
      {message.text}
    </p>
  );
}

/**
 * A page's actions: `run` carries one out and shows the sentence it returns (or
 * the message, when an outcome that worked still needs an alert), or the
 * server's error; it answers whether the action worked.
 */
export function useAction(): {
  message: Message | undefined;
  setMessage: (message: Message | undefined) => void;
  run: (work: () => Promise<string | Message>) => Promise<boolean>;
} {
  const [message, setMessage] = useState<Message>();
  const run = useCallback(async (work: () => Promise<string | Message>) => {
    setMessage(undefined);
    try {
      const outcome = await work();
      setMessage(typeof outcome === 'string' ? { kind: 'ok', text: outcome } : outcome);
      return true;
    } catch (e) {
      setMessage({ kind: 'error', text: errorText(e) });
      return false;
    }
  }, []);
  return { message, setMessage, run };
}
