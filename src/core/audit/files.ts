/**
 * Where the audit log lives in the state dir:
 *
 *   audit.jsonl        the file being appended to
 *   audit.1.jsonl …    rotated files, oldest first (audit.1 is the oldest)
 *   audit.head         the head record: last seq and hash, current file size
 *   audit.jsonl.lock   the cross-process lock every writer holds
 *
 * Rotation renames audit.jsonl to the next free number, so older files are
 * never renamed again and a crash mid-rotation leaves nothing half done.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNotWritableByOthers } from '../paths.js';
import { writeFileAtomic } from '../state/atomic.js';
import { writeFileAtomicAsync } from '../state/atomic-async.js';

export const LOG_FILE = 'audit.jsonl';
export const HEAD_FILE = 'audit.head';
const ROTATED = /^audit\.(\d{1,9})\.jsonl$/;

export function logPath(dir: string): string {
  return join(dir, LOG_FILE);
}

export function headPath(dir: string): string {
  return join(dir, HEAD_FILE);
}

export function rotatedName(n: number): string {
  return `audit.${n}.jsonl`;
}

/** Numbers of the rotated files present, ascending. */
export function rotatedNumbers(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const nums: number[] = [];
  for (const n of names) {
    const m = ROTATED.exec(n);
    if (m) nums.push(Number(m[1]));
  }
  return nums.sort((a, b) => a - b);
}

/** Every log file name in reading order: rotated ones oldest first, then audit.jsonl. */
export function logFiles(dir: string): string[] {
  return [...rotatedNumbers(dir).map(rotatedName), LOG_FILE];
}

/** Refuse a state dir or audit file that others could write to (ConfigError, exit 5). */
export function assertPrivate(dir: string): void {
  assertNotWritableByOthers(dir, 'directory');
  assertNotWritableByOthers(logPath(dir), 'file');
  assertNotWritableByOthers(headPath(dir), 'file');
}

/** The head record: where the chain ends, written after every batch. */
export interface AuditHead {
  v: 1;
  /** seq of the last line written (0: nothing yet). */
  seq: number;
  /** hash of that line (GENESIS when seq is 0). */
  hash: string;
  /** The file being appended to (always audit.jsonl). */
  file: string;
  /** Its size in bytes right after the last batch. */
  size: number;
  /** How many rotations so far: the highest rotated file number. */
  rotations: number;
  /** When the head was written (ISO). */
  time: string;
}

export type HeadRead = { state: 'missing' } | { state: 'malformed'; why: string } | { state: 'ok'; head: AuditHead };

export function readHead(dir: string): HeadRead {
  let text: string;
  try {
    text = readFileSync(headPath(dir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw e;
  }
  let v: unknown;
  try { v = JSON.parse(text); } catch { return { state: 'malformed', why: 'not valid JSON' }; }
  const h = v as Partial<AuditHead> | null;
  if (!h || typeof h !== 'object' || h.v !== 1 || !Number.isSafeInteger(h.seq) || (h.seq as number) < 0
    || typeof h.hash !== 'string' || !/^[0-9a-f]{64}$/.test(h.hash)
    || !Number.isSafeInteger(h.size) || !Number.isSafeInteger(h.rotations) || typeof h.file !== 'string') {
    return { state: 'malformed', why: 'unexpected fields' };
  }
  return { state: 'ok', head: h as AuditHead };
}

/**
 * The head is replaced atomically (temp file, fsync, rename) but the
 * directory is not fsynced after the rename: a crash that loses the rename
 * leaves the previous head, which is exactly a writer that died between its
 * lines and its head — the next append keeps those lines and records it
 * (`audit.recovered`, see writer.ts), as it must after a kill -9 anyway.
 * Leaving it out saves about 1.5 ms of every audited CLI command here.
 */
const HEAD_WRITE = { syncDir: false };

export function writeHead(dir: string, head: AuditHead): void {
  writeFileAtomic(headPath(dir), `${JSON.stringify(head)}\n`, 0o600, HEAD_WRITE);
}

/** writeHead off the event loop (the writer's path: a server must not wait on its fsync). */
export function writeHeadAsync(dir: string, head: AuditHead): Promise<void> {
  return writeFileAtomicAsync(headPath(dir), `${JSON.stringify(head)}\n`, 0o600, HEAD_WRITE);
}
