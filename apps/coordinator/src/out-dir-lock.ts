// One coordinator per output directory: two on the same --out-dir would interleave their checkpoints and
// records, and a second one's --fresh would delete the first one's files.
//
// proper-lockfile holds the lock (an atomic mkdir whose mtime it refreshes); next to it we record the holder's
// pid and host, so a refusal can name the process, and a lock left by a process that died (kill -9, power loss)
// on this host is taken over at once instead of after the staleness timeout.
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as lockfile from 'proper-lockfile';
import { FedtlError, createLogger, processAlive } from '@fedtl/util';

/** The lock itself (a directory made by proper-lockfile) and the file naming its holder, inside the out-dir. */
export const LOCK_NAME = 'coordinator.lock';
export const HOLDER_NAME = 'coordinator.lock.holder.json';

/** A lock on another host whose mtime has not been refreshed for this long is considered abandoned. */
const STALE_MS = 30_000;
const UPDATE_MS = 5_000;

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

export interface OutDirLock {
  /** Releases the lock; safe to call more than once. */
  release(): Promise<void>;
}

const log = createLogger('out-dir-lock');

/**
 * Takes the lock on `dir` (which must exist) for this process's life. A lock held by a live process, or by any
 * process on another host within the staleness timeout, is refused with FEDTL_ERR_OUT_DIR_LOCKED naming the
 * holder's pid and host; a lock whose holder on this host is dead is taken over with a warning.
 */
export async function lockOutDir(dir: string): Promise<OutDirLock> {
  const lockPath = join(dir, LOCK_NAME);
  const holderPath = join(dir, HOLDER_NAME);
  let releaseLock: () => Promise<void>;
  try {
    releaseLock = await acquire(dir, lockPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    const holder = readHolder(holderPath);
    if (!holder || holder.host !== hostname() || processAlive(holder.pid)) throw lockedError(dir, lockPath, holderPath, holder);
    log.warn('taking over the lock of a coordinator that is no longer running', { dir, pid: holder.pid, startedAt: holder.startedAt });
    await rm(lockPath, { recursive: true, force: true });
    try {
      releaseLock = await acquire(dir, lockPath);
    } catch (again) {
      // Another coordinator took it over between our removal and our retry.
      if ((again as NodeJS.ErrnoException).code === 'ELOCKED') throw lockedError(dir, lockPath, holderPath, readHolder(holderPath));
      throw again;
    }
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  await writeFile(holderPath, JSON.stringify(holder) + '\n');
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await rm(holderPath, { force: true });
      await releaseLock();
    },
  };
}

function acquire(dir: string, lockPath: string): Promise<() => Promise<void>> {
  return lockfile.lock(dir, {
    lockfilePath: lockPath,
    stale: STALE_MS,
    update: UPDATE_MS,
    realpath: false,
    // The default throws from a timer, killing the process mid-round; a warning lets the run finish.
    onCompromised: (err) => log.error('the out-dir lock was compromised; another coordinator may use this directory', { dir, error: err.message }),
  });
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') return { pid: parsed.pid, host: parsed.host, startedAt: String(parsed.startedAt ?? '') };
  } catch {
    // Missing or half-written: the holder is unknown, which is reported as such.
  }
  return undefined;
}


function lockedError(dir: string, lockPath: string, holderPath: string, holder: LockHolder | undefined): FedtlError {
  const who = holder ? `pid ${holder.pid} on host ${holder.host}, since ${holder.startedAt}` : `an unknown process (${holderPath} is missing)`;
  return new FedtlError(
    'FEDTL_ERR_OUT_DIR_LOCKED',
    `expected the output directory ${dir} to be free, but another coordinator holds it: ${who}. ` +
      `Stop that coordinator or choose another --out-dir; if it is gone for good, delete ${lockPath}`,
    { dir, pid: holder?.pid, host: holder?.host },
  );
}

