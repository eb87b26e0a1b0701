import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.js';
import { assertNotWritableByOthers, ensurePrivateDir } from '../paths.js';
import { withLock } from './lock.js';
import { writeFileAtomic } from './atomic.js';
import { unwritable } from './fs-errors.js';

export interface JsonStateFileOptions<T> {
  path: string;
  /** The document when the file does not exist yet. */
  empty: () => T;
  /** Check a parsed document; throw (any error) when it is not valid. */
  validate: (raw: unknown) => T;
  /** Lock target (default: path). Several files may share one lock. */
  lockTarget?: string;
  /** Re-check the file's identity at most this often in read() (ms, default 250). */
  checkIntervalMs?: number;
}

/**
 * A JSON document in a 0600 file in a private dir, shared between processes.
 *
 * - read() returns the cached document and re-reads it when the file changed
 *   (inode, size, mtime or ctime differ) — a cheap stat at most every
 *   `checkIntervalMs`, so another process's change is seen within that time.
 * - mutate() takes the cross-process lock, re-reads the file fresh, lets `fn`
 *   change the document in place and writes it back atomically (temp +
 *   rename) only if it changed. Two processes mutating at once lose nothing.
 * - Group/world-writable files or dirs are refused with a fix hint — also by
 *   a running process, at its next stat check (the file's and the dir's mode).
 */
export class JsonStateFile<T> {
  readonly path: string;
  private readonly opts: JsonStateFileOptions<T>;
  private cache: T | null = null;
  private signature = '';
  private lastCheck = -Infinity;
  /** Bumped on every (re)load, so callers can rebuild derived indexes. */
  generation = 0;

  constructor(opts: JsonStateFileOptions<T>) {
    this.opts = opts;
    this.path = opts.path;
    ensurePrivateDir(dirname(opts.path));
  }

  private stat(): { sig: string; mode: number } | null {
    try {
      const st = statSync(this.path, { bigint: true });
      return { sig: `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, mode: Number(st.mode) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new ConfigError(`cannot read ${this.path}: ${(e as Error).message}`, undefined, 'state.unreadable');
    }
  }

  private dirMode(): number {
    try { return statSync(dirname(this.path)).mode; } catch { return 0; }
  }

  private checkPermissions(mode: number | null): void {
    assertNotWritableByOthers(dirname(this.path), 'directory');
    if (mode !== null && mode & 0o022) assertNotWritableByOthers(this.path, 'file');
  }

  private loadFromDisk(): { doc: T; sig: string } {
    const st = this.stat();
    this.checkPermissions(st?.mode ?? null);
    if (!st) return { doc: this.opts.empty(), sig: 'absent' };
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { doc: this.opts.empty(), sig: 'absent' };
      throw new ConfigError(`cannot read ${this.path}: ${(e as Error).message}`, undefined, 'state.unreadable');
    }
    let doc: T;
    try {
      doc = this.opts.validate(JSON.parse(text));
    } catch (e) {
      throw new ConfigError(`${this.path} is damaged: ${(e as Error).message}`,
        'restore it from a backup or move it aside (everything in it is then forgotten)', 'state.corrupt');
    }
    // The file may have been replaced between stat and read; a stale signature only costs one extra reload.
    return { doc, sig: st.sig };
  }

  /** The current document (cached; reloaded when the file changed). */
  read(opts: { force?: boolean } = {}): T {
    const now = performance.now();
    if (this.cache !== null && !opts.force && now - this.lastCheck < (this.opts.checkIntervalMs ?? 250)) return this.cache;
    this.lastCheck = now;
    if (this.cache !== null) {
      const st = this.stat();
      const sig = st ? st.sig : 'absent';
      if (sig === this.signature) {
        // A chmod of the dir changes nothing in the file's stat: look at the dir's mode too.
        if ((st && st.mode & 0o022) || this.dirMode() & 0o022) this.checkPermissions(st?.mode ?? null);
        return this.cache;
      }
    }
    const { doc, sig } = this.loadFromDisk();
    this.cache = doc;
    this.signature = sig;
    this.generation++;
    return doc;
  }

  /** Change the document under the cross-process lock; returns what `fn` returns. */
  async mutate<R>(fn: (doc: T) => R): Promise<R> {
    return withLock(this.opts.lockTarget ?? this.path, () => this.mutateLocked(fn));
  }

  /** Like mutate() for a caller that already holds the lock (several files under one lock). */
  mutateLocked<R>(fn: (doc: T) => R): R {
    const { doc, sig } = this.loadFromDisk();
    const before = JSON.stringify(doc);
    const result = fn(doc);
    const after = JSON.stringify(doc);
    if (after !== before) {
      try {
        writeFileAtomic(this.path, `${after}\n`, 0o600);
      } catch (e) {
        throw unwritable(this.path, e);
      }
      const st = this.stat();
      this.signature = st ? st.sig : 'absent';
    } else {
      this.signature = sig;
    }
    this.cache = doc;
    this.lastCheck = performance.now();
    this.generation++;
    return result;
  }

  /** The lock target, for callers that change several files under one lock. */
  get lockTarget(): string {
    return this.opts.lockTarget ?? this.path;
  }
}
