// A worker thread of parallel-check.ts. The project runs its TypeScript through
// tsx (docs/decisions/0003-run-typescript-with-tsx.md), and a worker starts
// without the main thread's loader, so it registers tsx before loading the checker.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
