// The checking side of a worker thread (see parallel-check.ts): an import's
// context, then pieces of its file in; their checked rows as COPY text and
// their bad rows out. Imports running at the same time each have their own
// token, so their pieces never meet another import's context.
import { parentPort } from 'node:worker_threads';
import { PieceChecker, type PieceContext } from './parallel-check.ts';

type Message =
  | { token: number; context: PieceContext }
  | { token: number; id: number; bytes: Uint8Array }
  | { token: number; done: true };

const checkers = new Map<number, PieceChecker | Error>();
parentPort!.on('message', (m: Message) => {
  if ('context' in m) {
    try {
      checkers.set(m.token, new PieceChecker(m.context));
    } catch (error) {
      checkers.set(m.token, error as Error);
    }
    return;
  }
  if ('done' in m) {
    checkers.delete(m.token);
    return;
  }
  try {
    const checker = checkers.get(m.token);
    if (checker === undefined) throw new Error(`piece ${m.id} of an import that has not begun`);
    if (checker instanceof Error) throw checker;
    const checked = checker.check(m.bytes);
    // The lines' columns are handed over rather than copied.
    const c = checked.columns;
    const transfer = c
      ? [c.partner, c.product, c.day, c.currency, c.scales, c.quantity, c.amount].map(
          (a) => a.buffer as ArrayBuffer,
        )
      : [];
    parentPort!.postMessage({ token: m.token, id: m.id, checked }, transfer);
  } catch (error) {
    parentPort!.postMessage({ token: m.token, id: m.id, error: (error as Error).stack ?? String(error) });
  }
});
