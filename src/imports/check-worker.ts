// The checking side of a worker thread (see parallel-check.ts): an import's
// context, then pieces of its file in; their checked rows as COPY text and
// their bad rows out.
import { parentPort } from 'node:worker_threads';
import { PieceChecker, type PieceContext } from './parallel-check.ts';

let current: { token: number; checker: PieceChecker } | undefined;
parentPort!.on(
  'message',
  (m: { token: number; context: PieceContext } | { token: number; id: number; bytes: Uint8Array }) => {
    if ('context' in m) {
      current = { token: m.token, checker: new PieceChecker(m.context) };
      return;
    }
    try {
      if (current?.token !== m.token) throw new Error(`piece ${m.id} of an import that has not begun`);
      parentPort!.postMessage({ token: m.token, id: m.id, checked: current.checker.check(m.bytes) });
    } catch (error) {
      parentPort!.postMessage({ token: m.token, id: m.id, error: (error as Error).stack ?? String(error) });
    }
  },
);
