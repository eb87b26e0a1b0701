import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, linkSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { unwritable } from './fs-errors.js';

export interface LockOptions {
  /** Give up after this long, ms (default 5000). */
  timeoutMs?: number;
}

/** Whether a process with this pid runs (one we may not signal counts as running). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An empty lock file older than this was left by an owner that died (or hit
 * a full disk) between creating it and writing its pid — a window of
 * microseconds for a live owner.
 */
export const EMPTY_LOCK_STALE_MS = 2000;

/**
 * Try to remove a lock left by a process that died (kill -9). The lock file
 * holds "pid nonce"; we move it aside atomically and only delete it if it is
 * still the same dead owner's file, else put it back.
 */
function randomHex(bytes: number): string {
  // node:crypto loaded on first use (it costs ~3 ms of CLI cold start at import).
  return process.getBuiltinModule('node:crypto').randomBytes(bytes).toString('hex');
}

function breakIfStale(lockPath: string): void {
  let content: string;
  let mtimeMs: number;
  let ino: number;
  try {
    ({ mtimeMs, ino } = statSync(lockPath));
    content = readFileSync(lockPath, 'utf8');
  } catch { return; }
  const pid = Number(content.split(' ')[0]);
  if (content === '' ? Date.now() - mtimeMs < EMPTY_LOCK_STALE_MS : pidAlive(pid)) return; // a fresh empty one: its owner is between open and write
  const aside = `${lockPath}.stale-${process.pid}-${randomHex(4)}`;
  try { renameSync(lockPath, aside); } catch { return; }
  let moved = '';
  let movedIno = -1;
  try { moved = readFileSync(aside, 'utf8'); movedIno = statSync(aside).ino; } catch { /* gone */ }
  // Same content AND the same file: an empty content alone would not tell a fresh lock from the stale one.
  if (moved === content && movedIno === ino) {
    try { unlinkSync(aside); } catch { /* gone */ }
  } else {
    // We moved a fresh lock by mistake: put it back unless someone took the name meanwhile.
    try { linkSync(aside, lockPath); } catch { /* taken */ }
    try { unlinkSync(aside); } catch { /* gone */ }
  }
}

/**
 * Run `fn` while holding an exclusive cross-process lock on `target`
 * (a `target.lock` file created with O_EXCL). Locks of dead processes are
 * broken. Throws a ConfigError if the lock cannot be had in time.
 */
export async function withLock<T>(target: string, fn: () => Promise<T> | T, opts: LockOptions = {}): Promise<T> {
  const lockPath = `${target}.lock`;
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  const nonce = `${process.pid} ${randomHex(8)}`;
  let attempt = 0;
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      try {
        writeSync(fd, nonce);
      } catch (e) {
        // No room for our pid (a full disk): take the empty lock file away again, or it blocks everyone.
        closeSync(fd);
        try { unlinkSync(lockPath); } catch { /* already gone */ }
        throw e;
      }
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw unwritable(lockPath, e);
    }
    if (attempt % 10 === 5) breakIfStale(lockPath);
    if (Date.now() > deadline) {
      throw new ConfigError(`could not lock ${target} in time`, `if no other mediagate is running, remove ${lockPath}`, 'state.locked');
    }
    attempt++;
    await sleep(2 + Math.floor(Math.random() * Math.min(20, attempt * 2)));
  }
  try {
    return await fn();
  } finally {
    try {
      if (readFileSync(lockPath, 'utf8') === nonce) unlinkSync(lockPath);
    } catch { /* already gone */ }
  }
}
