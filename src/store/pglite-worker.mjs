// @ts-check
// The embedded store's database, on a worker thread of its own (see
// pglite-thread.ts). Plain JavaScript: a worker starts without the main
// thread's TypeScript loader, and this file needs none.
import { openAsBlob } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

/**
 * @typedef {{ id: number, op: 'query', sql: string, params: unknown[], blob?: string | Uint8Array, file?: string }
 *   | { id: number, op: 'exec', sql: string }
 *   | { id: number, op: 'close' }} Request
 */

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

/** An error as plain data: its message, name and the fields PostgreSQL reports (code, detail, constraint, …). */
function describe(/** @type {unknown} */ error) {
  if (!(error instanceof Error)) return { message: String(error), name: 'Error' };
  /** @type {Record<string, string | number | boolean>} */
  const fields = {};
  for (const [key, value] of Object.entries(error)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      fields[key] = value;
  }
  return { ...fields, message: error.message, name: error.name, stack: error.stack ?? '' };
}

const text = (/** @type {string} */ value) => value;
/** @type {PGlite} */
let pglite;
try {
  pglite = await PGlite.create(workerData.dataDir ?? 'memory://', {
    parsers: Object.fromEntries(workerData.textTypes.map((/** @type {number} */ oid) => [oid, text])),
  });
} catch (error) {
  port.postMessage({ id: 0, error: describe(error) });
  throw error;
}
port.postMessage({ id: 0 });

port.on('message', async (/** @type {Request} */ request) => {
  try {
    if (request.op === 'query') {
      // A file is read here, as a blob backed by the file: not read on the main thread and copied over.
      const blob =
        request.file !== undefined
          ? await openAsBlob(request.file)
          : request.blob !== undefined
            ? new Blob([request.blob])
            : undefined;
      const options = blob === undefined ? undefined : { blob };
      const result = await pglite.query(request.sql, request.params, options);
      // What a `COPY … TO '/dev/blob'` wrote, handed over rather than copied.
      const out = result.blob === undefined ? undefined : new Uint8Array(await result.blob.arrayBuffer());
      port.postMessage(
        {
          id: request.id,
          result: { rows: result.rows, affectedRows: result.affectedRows, fields: result.fields, out },
        },
        out === undefined ? [] : [out.buffer],
      );
    } else if (request.op === 'exec') {
      await pglite.exec(request.sql);
      port.postMessage({ id: request.id });
    } else {
      await pglite.close();
      port.postMessage({ id: request.id });
    }
  } catch (error) {
    port.postMessage({ id: request.id, error: describe(error) });
  }
});
