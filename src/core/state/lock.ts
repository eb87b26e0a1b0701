import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, linkSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { unwritable } from './fs-errors.js';
import { uniqueHex } from './unique.js';

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
 * Tests only: MEDIAGATE_TEST_LOCK_BREAK_PAUSE_MS widens the moments between
 * deciding a lock is stale, moving it aside and checking what was moved, so a test with real processes can show that breaking a
 * stale lock never lets two processes hold it (the moment is microseconds).
 */
function testPause(): void {
  const ms = Number(process.env.MEDIAGATE_TEST_LOCK_BREAK_PAUSE_MS);
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

interface Holder { content: string; ino: number; mtimeMs: number }

function holder(path: string): Holder | undefined {
  try {
    const { ino, mtimeMs } = statSync(path);
    return { content: readFileSync(path, 'utf8'), ino, mtimeMs };
  } catch { return undefined; }
}

/** Left by a process that died: its pid no longer runs, or it is empty (never written) and old. */
function dead(h: Holder): boolean {
  if (h.content === '') return Date.now() - h.mtimeMs >= EMPTY_LOCK_STALE_MS; // a fresh empty one: its owner is between open and write
  return !pidAlive(Number(h.content.split(' ')[0]));
}

/**
 * Remove `path` if it is still the file `seen`: move it aside atomically,
 * delete it if it is the same file (inode and content), else put it back.
 */
function removeIfSame(path: string, seen: Holder): void {
  testPause();
  const aside = `${path}.stale-${process.pid}-${uniqueHex()}`;
  try { renameSync(path, aside); } catch { return; }
  testPause();
  const moved = holder(aside);
  if (moved && moved.content === seen.content && moved.ino === seen.ino) {
    try { unlinkSync(aside); } catch { /* gone */ }
  } else {
    try { linkSync(aside, path); } catch { /* taken */ }
    try { unlinkSync(aside); } catch { /* gone */ }
  }
}

/**
 * Remove a lock left by a process that died (kill -9). Breaking is
 * serialised: only the process holding the breaker guard (`<lock>.break`,
 * created with O_EXCL) may remove the lock, after checking again that it is
 * the dead owner's. Without the guard, two contenders that both saw the stale
 * lock could each remove a lock file — the second one a live owner's, freshly
 * taken — and two processes would hold the lock at once. The guard is held
 * for microseconds; one left by a breaker that died is itself removed when
 * its pid no longer runs (or it stayed empty).
 */
function breakIfStale(lockPath: string): void {
  const first = holder(lockPath);
  if (!first || !dead(first)) return;
  const guard = `${lockPath}.break`;
  let fd: number;
  try {
    fd = openSync(guard, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      const g = holder(guard);
      if (g && dead(g)) removeIfSame(guard, g);
    }
    return;
  }
  const mine = `${process.pid} ${uniqueHex()}`;
  try {
    try {
      writeSync(fd, mine);
    } catch {
      closeSync(fd); // no room for our pid (a full disk): take the guard away again
      try { unlinkSync(guard); } catch { /* gone */ }
      return;
    }
    closeSync(fd);
    // Holding the guard: nobody else removes the lock file, so what we check is what we remove.
    const h = holder(lockPath);
    if (h && dead(h)) removeIfSame(lockPath, h);
  } catch { /* a full disk: the next attempt tries again */ } finally {
    try { if (readFileSync(guard, 'utf8') === mine) unlinkSync(guard); } catch { /* gone */ }
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
  const nonce = `${process.pid} ${uniqueHex()}`;
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
