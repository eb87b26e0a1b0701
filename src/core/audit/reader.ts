/**
 * Reading the audit log: filtered queries (newest last) and a follow mode
 * that prints new lines as they are appended, driven by file-system events
 * (fs.watch on the state dir; a 1 s fs.watchFile poll only where fs.watch
 * is unavailable). Reading never changes the log and needs no lock: a line
 * being written is simply not complete yet and is picked up next time.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, unwatchFile, watch, watchFile, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { nodeFsPromises } from '../lazy-builtins.js';
import { parseLine, type AuditRecord } from './record.js';
import { assertPrivate, logFiles, logPath, rotatedName, rotatedNumbers } from './files.js';
import type { AuditOutcome } from './types.js';

export interface AuditQuery {
  /** Only events at or after this time. */
  since?: Date;
  /** Actor id or label, exactly (`local:alice`, `token:tok_ab12cd34`, `phone`); a value ending in `:` matches every id with that prefix (`token:`). */
  actor?: string;
  /** Action, exactly or as a dotted prefix: `token` matches `token.create`; `token.*` is the same. */
  action?: string;
  outcome?: AuditOutcome;
  /** Keep only the newest N matches. */
  limit?: number;
}

/** Does a stored event pass the query's filters (limit aside)? */
export function matchesQuery(rec: AuditRecord, q: AuditQuery): boolean {
  if (q.outcome && rec.outcome !== q.outcome) return false;
  if (q.since) {
    const t = Date.parse(rec.time);
    if (!(t >= q.since.getTime())) return false;
  }
  if (q.actor) {
    const a = q.actor;
    const id = rec.actor?.id ?? '';
    if (!(id === a || rec.actor?.label === a || (a.endsWith(':') && id.startsWith(a)))) return false;
  }
  if (q.action) {
    const want = q.action.endsWith('.*') ? q.action.slice(0, -2) : q.action;
    if (!(rec.action === want || rec.action.startsWith(`${want}.`))) return false;
  }
  return true;
}

/** Complete lines of a file's content (an unfinished last line is left out). */
function records(buf: Buffer | string): AuditRecord[] {
  const text = typeof buf === 'string' ? buf : buf.toString('utf8');
  const end = text.lastIndexOf('\n');
  if (end < 0) return [];
  const out: AuditRecord[] = [];
  for (const line of text.slice(0, end).split('\n')) {
    const p = parseLine(line);
    if (p.ok) out.push(p.record);
  }
  return out;
}

/**
 * Collect matches from `files`, newest file first, until `limit` are found
 * (or, with `since`, until a file starts before it). Result oldest first.
 */
async function collect(dir: string, files: string[], q: AuditQuery, limit: number, skip?: (name: string) => boolean): Promise<AuditRecord[]> {
  const found: AuditRecord[] = [];
  for (const name of [...files].reverse()) {
    if (found.length >= limit) break;
    if (skip?.(name)) continue;
    let text: string;
    try {
      text = await nodeFsPromises().readFile(join(dir, name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const recs = records(text);
    for (let i = recs.length - 1; i >= 0 && found.length < limit; i--) {
      if (matchesQuery(recs[i]!, q)) found.push(recs[i]!);
    }
    if (q.since && recs.length && Date.parse(recs[0]!.time) < q.since.getTime()) break;
  }
  return found.reverse();
}

function limitOf(q: AuditQuery): number {
  return q.limit !== undefined && q.limit >= 0 ? q.limit : Number.POSITIVE_INFINITY;
}

/**
 * Events in `dir` (the state dir) that match `q`, oldest first; with
 * `limit`, the newest N. A missing log reads as empty. Refuses (ConfigError)
 * a state dir or log file that others can write to.
 */
export async function readAudit(dir: string, q: AuditQuery = {}): Promise<AuditRecord[]> {
  assertPrivate(dir);
  return collect(dir, logFiles(dir), q, limitOf(q));
}

export interface FollowOptions {
  /** How many matching events already in the log to deliver first (default: q.limit, else all). */
  backlog?: number;
  /** Errors while following (the follower keeps going). Default: ignored. */
  onError?: (err: Error) => void;
}

export interface AuditFollower {
  /** Stop watching and release the file. */
  close(): void;
}

/**
 * Deliver the matching events already in the log (see `backlog`), then
 * every new matching event as it is appended, across rotations, until
 * close(). Filters other than `limit` apply to new events too.
 */
export async function followAudit(dir: string, q: AuditQuery, onEvent: (rec: AuditRecord) => void, opts: FollowOptions = {}): Promise<AuditFollower> {
  assertPrivate(dir);
  const path = logPath(dir);
  const onError = opts.onError ?? (() => undefined);
  let fd: number | undefined;
  let ino = -1;
  let offset = 0;
  let partial: Buffer = Buffer.alloc(0);
  let closed = false;
  const chunk = Buffer.alloc(64 * 1024);

  const openCurrent = (): void => {
    try {
      fd = openSync(path, 'r');
      ino = fstatSync(fd).ino;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      fd = undefined;
      ino = -1;
    }
    offset = 0;
    partial = Buffer.alloc(0);
  };

  /** Read what was appended since last time; complete lines become records. */
  const readNew = (): AuditRecord[] => {
    if (fd === undefined) return [];
    const bufs: Buffer[] = partial.length ? [partial] : [];
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, offset);
      if (n <= 0) break;
      bufs.push(Buffer.from(chunk.subarray(0, n)));
      offset += n;
    }
    const all = Buffer.concat(bufs);
    const end = all.lastIndexOf(0x0a);
    partial = end < 0 ? all : all.subarray(end + 1);
    return end < 0 ? [] : records(all.subarray(0, end + 1));
  };

  const emit = (recs: AuditRecord[]): void => {
    for (const r of recs) {
      if (closed) return;
      if (matchesQuery(r, q)) onEvent(r);
    }
  };

  const pump = (): void => {
    if (closed) return;
    try {
      if (fd === undefined) openCurrent();
      if (fd === undefined) return;
      emit(readNew());
      let st;
      try { st = statSync(path); } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // rotated, the new file is not there yet
        throw e;
      }
      if (st.ino !== ino) {
        // Rotated: finish the old file (nobody appends to it any more), then start on the new one.
        emit(readNew());
        closeSync(fd);
        openCurrent();
        emit(readNew());
      } else if (st.size < offset) {
        // Cut back (a torn line removed by the next writer): continue from the new end.
        offset = st.size;
        partial = Buffer.alloc(0);
      }
    } catch (e) {
      onError(e as Error);
    }
  };

  // Backlog: the current file (opened first, so nothing appended meanwhile is missed), then older files if needed.
  openCurrent();
  const want = opts.backlog ?? limitOf(q);
  const current = readNew().filter((r) => matchesQuery(r, q));
  let backlog = current;
  if (current.length < want) {
    const older = rotatedNumbers(dir).map(rotatedName);
    const same = (name: string) => { try { return statSync(join(dir, name)).ino === ino; } catch { return true; } };
    backlog = [...await collect(dir, older, q, want - current.length, same), ...current];
  }
  for (const r of backlog.slice(Math.max(0, backlog.length - want))) onEvent(r);

  let scheduled = false;
  const schedulePump = (): void => {
    if (scheduled || closed) return;
    scheduled = true;
    setImmediate(() => { scheduled = false; pump(); });
  };
  let watcher: FSWatcher | undefined;
  let polling = false;
  try {
    watcher = watch(dir, { persistent: true }, (_event, name) => {
      if (!name || String(name).startsWith('audit.')) schedulePump();
    });
    watcher.on('error', (e) => {
      onError(e);
      watcher?.close();
      watcher = undefined;
      if (!closed && !polling) { polling = true; watchFile(path, { interval: 1000 }, schedulePump); }
    });
  } catch {
    polling = true;
    watchFile(path, { interval: 1000 }, schedulePump);
  }
  // Anything appended between the backlog read and the watch starting.
  schedulePump();

  return {
    close(): void {
      if (closed) return;
      closed = true;
      watcher?.close();
      if (polling) unwatchFile(path);
      if (fd !== undefined) { try { closeSync(fd); } catch { /* already closed */ } fd = undefined; }
    },
  };
}

