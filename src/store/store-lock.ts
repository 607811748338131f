// An embedded store belongs to one process: PGlite keeps the database in memory
// and writes its data directory as it goes, so two processes opening one
// directory would overwrite each other's changes. The first to open it writes
// its process id into a lock file; another process is refused with a message
// naming that process, and a lock left by a process that no longer runs is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError } from '../shared/errors.ts';

export const LOCK_FILE = 'rebates.lock';

export interface StoreLock {
  release(): void;
}

interface LockContent {
  pid: number;
  command: string;
  since: string;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockContent | undefined {
  try {
    const content = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    return typeof content.pid === 'number'
      ? { pid: content.pid, command: String(content.command ?? ''), since: String(content.since ?? '') }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the data directory's lock for this process, or throws `store_locked` naming the holder. */
export function lockStore(dataDir: string, command: string): StoreLock {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      const content: LockContent = { pid: process.pid, command, since: new Date().toISOString() };
      writeSync(fd, `${JSON.stringify(content)}\n`);
      closeSync(fd);
      return {
        release() {
          if (readLock(path)?.pid === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(path);
      if (holder && holder.pid !== process.pid && running(holder.pid)) {
        throw new DomainError(
          'store_locked',
          `the store in ${dataDir} is in use by process ${holder.pid} (${holder.command || 'rebates'}, since ${holder.since}); ` +
            'stop that process first, or, while it is the server (rebates serve), work through its API under /api/v1',
        );
      }
      // Left by a process that has ended (or unreadable): take it over.
      rmSync(path, { force: true });
    }
  }
  throw new DomainError('store_locked', `the lock file ${path} could not be taken`);
}
