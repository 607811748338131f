// The embedded store's database (PGlite, PostgreSQL in WebAssembly) runs on a
// worker thread of its own, not on the main thread. PGlite executes a
// statement synchronously inside WebAssembly: on the main thread, every
// statement stopped everything else — a recalculation of half a minute left the
// web app unable to answer a request, and a real-time batch could not match its
// lines or calculate positions while the database stored them, as it does on a
// server. On a thread of its own the database works while the main thread does.
//
// The messages are the statements and their results: structured clones of
// plain rows (strings, numbers, dates, objects), a few microseconds each.
import { Worker } from 'node:worker_threads';
import type { Results } from '@electric-sql/pglite';

interface WorkerError {
  message: string;
  name: string;
  stack: string;
  [field: string]: string | number | boolean;
}

type Reply = { id: number; result?: Results; error?: WorkerError };

/** The error as the database reported it, with its fields (code, detail, constraint, …) and this thread's stack. */
function rebuild(error: WorkerError): Error {
  const rebuilt = new Error(error.message);
  const { stack: _stack, ...fields } = error;
  return Object.assign(rebuilt, fields);
}

export class PGliteThread {
  private readonly waiting = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (e: Error) => void }
  >();
  private next = 1;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => {
      const w = this.waiting.get(reply.id);
      if (w === undefined) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (reply.error) w.reject(rebuild(reply.error));
      else w.resolve(reply);
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const w of this.waiting.values()) w.reject(error);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the embedded database stopped (exit code ${code})`)));
  }

  /** Starts the database in `dataDir` (in memory when undefined), reading `textTypes` as text. */
  static async open(dataDir: string | undefined, textTypes: readonly number[]): Promise<PGliteThread> {
    const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
      workerData: { dataDir, textTypes },
    });
    const thread = new PGliteThread(worker);
    // The database's first message (number 0) says it is ready, or why it could not start.
    await thread.reply(0);
    return thread;
  }

  /**
   * Waits for the reply numbered `id`. The worker is referenced only while a
   * reply is awaited: an idle store does not keep the process alive, and a
   * pending one does.
   */
  private reply(id: number): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Reply>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
    });
  }

  /** Sends a request under the next number and waits for its reply. */
  private ask(request: Record<string, unknown>): Promise<Reply> {
    const id = this.next++;
    const replied = this.reply(id);
    if (this.failure === undefined) this.worker.postMessage({ ...request, id });
    return replied;
  }

  /** One statement with parameters; `blob`, or the contents of `file`, is what `COPY … FROM '/dev/blob'` reads. */
  async query<T = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
    options?: { blob?: string | Uint8Array; file?: string },
  ): Promise<Results<T>> {
    const reply = await this.ask({
      op: 'query',
      sql,
      params,
      blob: options?.blob,
      file: options?.file,
    });
    return reply.result as Results<T>;
  }

  /** The bytes a `COPY … TO '/dev/blob'` statement writes. */
  async copyOut(sql: string): Promise<Uint8Array> {
    const reply = await this.ask({ op: 'query', sql, params: [] });
    const out = (reply.result as { out?: Uint8Array } | undefined)?.out;
    if (out === undefined) throw new Error(`the statement wrote nothing to copy out: ${sql}`);
    return out;
  }

  /** Statements separated by semicolons, without parameters. */
  async exec(sql: string): Promise<void> {
    await this.ask({ op: 'exec', sql });
  }

  async close(): Promise<void> {
    if (this.failure === undefined) await this.ask({ op: 'close' });
    await this.worker.terminate();
  }
}
