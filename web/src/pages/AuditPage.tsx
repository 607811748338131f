// The audit trail: every change, newest first, and whether the hash chain holds.
import { api, type Page } from '../api.ts';
import { Loading, useLoad } from '../components.tsx';

interface Entry {
  seq: string;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entityId: string | null;
  comment: string | null;
}
interface Verification {
  entries: number;
  broken?: { seq: string; reason: string };
}

export function AuditPage() {
  const entries = useLoad(() => api<Page<Entry>>('GET', '/audit?limit=200'), []);
  const verify = useLoad(() => api<Verification & { ok?: boolean }>('GET', '/audit/verify'), []);
  return (
    <>
      <h1>Audit trail</h1>
      {verify.data ? (
        verify.data.broken ? (
          <p role="alert" className="error">
            The chain is BROKEN at entry {verify.data.broken.seq}: {verify.data.broken.reason}
          </p>
        ) : (
          <p role="status" className="ok">
            The chain holds: {verify.data.entries} entries, every link verified.
          </p>
        )
      ) : (
        <Loading error={verify.error}>Verifying the chain…</Loading>
      )}
      {!entries.data ? (
        <Loading error={entries.error} />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {entries.data.items.map((e) => (
              <tr key={e.seq}>
                <td>{e.seq}</td>
                <td>{e.at}</td>
                <td>{e.actor}</td>
                <td>
                  {e.action} {e.entity} {e.entityId ?? ''}
                </td>
                <td>{e.comment ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
