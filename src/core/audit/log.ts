/**
 * The audit log: append-only, hash-chained JSONL in the state dir.
 *
 *   const log = openAuditLog();          // or new AuditLog(dir, options)
 *   log.append({ actor, action: 'token.create', target: id, outcome: 'ok' });
 *   await log.close();                   // flushes
 *
 * append() only cleans the event and puts it in a queue: it never touches the
 * disk, never waits and never throws. The queue is written in batches (on the
 * next turn of the event loop, up to `batchSize` events a batch) by
 * writeBatch, under the cross-process lock.
 *
 * Bounded queue: at most `maxQueue` events (default 10,000) wait. When it is
 * full, new events are dropped — not older ones: the start of a flood is
 * usually what matters — append() returns false, and the number dropped is
 * written as one `audit.dropped` event as soon as there is room again, in
 * the place where they were lost. So a flood costs a bounded amount of
 * memory and leaves a visible, counted gap rather than a silent one.
 *
 * Write failures (state dir unwritable or unsafe, lock timeout) are reported
 * once through `onError` (default: one line on stderr) and counted in
 * stats(); the events stay queued and are retried with back-off, and
 * whatever is still queued when close() gives up counts as `failed`.
 */
import { stateDir } from '../paths.js';
import type { AuditEventInput, AuditSink } from './types.js';
import { sanitizeEvent, type Sanitizer } from './sanitize.js';
import { BatchError, SYSTEM_ACTOR, writeBatch, type WriteOptions } from './writer.js';
import type { PendingEvent } from './record.js';

export { verifyAudit, type VerifyResult, type VerifyFailure, type TamperKind, type BadLine } from './verify.js';
export { readAudit, followAudit, matchesQuery, type AuditQuery, type AuditFollower, type FollowOptions } from './reader.js';
export { GENESIS, type AuditRecord } from './record.js';
export { redactSecrets, REDACTED } from './sanitize.js';
export { LOG_FILE, HEAD_FILE } from './files.js';

export const DEFAULT_MAX_QUEUE = 10_000;
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_BATCH_SIZE = 1000;

export interface AuditLogOptions {
  /** Most events waiting to be written; more are dropped and counted (default 10,000). */
  maxQueue?: number;
  /** Rotate audit.jsonl when it would grow past this many bytes (default 10 MiB). */
  maxBytes?: number;
  /** Most events in one write (default 1000), so the lock is never held long. */
  batchSize?: number;
  /** fsync each batch before its head record is written (default true). */
  fsync?: boolean;
  /** How long a batch waits for the cross-process lock (default 5000 ms). */
  lockTimeoutMs?: number;
  /**
   * Blocking file calls instead of the thread pool: for a CLI process, which
   * waits for its audit line before it exits anyway. A server leaves it off.
   */
  syncIo?: boolean;
  /** Clock for event times (tests). */
  now?: () => Date;
  /** Called on the first write failure (and, with `everyError`, on each). Default: one line on stderr. */
  onError?: (err: Error) => void;
  /** Report every failure to onError, not only the first. */
  everyError?: boolean;
}

export interface AuditLogStats {
  /** Events waiting to be written. */
  queued: number;
  /** Events written (the log's own audit.* events included). */
  written: number;
  /** Events dropped because the queue was full. */
  dropped: number;
  /** Events given up on after write failures (at close or exit). */
  failed: number;
  /** Failed write attempts. */
  errors: number;
  /** Secret-shaped values replaced by [redacted]. */
  redacted: number;
  lastError?: string;
}

/** Logs with queued events, flushed when the process is about to exit. */
const pendingLogs = new Set<AuditLog>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('beforeExit', () => {
    for (const log of [...pendingLogs]) log.flushBeforeExit();
  });
}

export class AuditLog implements AuditSink {
  readonly dir: string;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly writeOpts: WriteOptions;
  private readonly now: () => Date;
  private readonly onError: (err: Error) => void;
  private readonly everyError: boolean;
  private queue: PendingEvent[] = [];
  /** Dropped since the last audit.dropped event was queued. */
  private droppedRun = 0;
  private droppedRunSince: string | undefined;
  private writing: Promise<void> | undefined;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs = 0;
  private exitTried = false;
  /** A batch reached the file but its head record did not (a full disk): write the head on the next attempt. */
  private headPending = false;
  private readonly counters: Sanitizer & Omit<AuditLogStats, 'queued' | 'lastError' | 'redacted'> = { written: 0, dropped: 0, failed: 0, errors: 0, redacted: 0 };
  private lastError: string | undefined;

  constructor(dir: string, opts: AuditLogOptions = {}) {
    this.dir = dir;
    this.maxQueue = Math.max(1, opts.maxQueue ?? DEFAULT_MAX_QUEUE);
    this.batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE);
    this.now = opts.now ?? (() => new Date());
    this.writeOpts = {
      maxBytes: Math.max(1, opts.maxBytes ?? DEFAULT_MAX_BYTES),
      fsync: opts.fsync ?? true,
      lockTimeoutMs: opts.lockTimeoutMs ?? 5000,
      now: this.now,
      io: opts.syncIo ? 'sync' : 'async',
    };
    this.everyError = Boolean(opts.everyError);
    this.onError = opts.onError ?? ((err) => {
      try {
        process.stderr.write(`mediagate: warning: audit events could not be written to ${dir}: ${err.message} (further audit write errors are counted, not printed)\n`);
      } catch { /* stderr gone */ }
    });
  }

  /**
   * Queue one event. Never blocks on disk, never throws. Returns false when
   * the event was dropped because the queue is full (it is counted and
   * reported in the log as `audit.dropped`).
   */
  append(event: AuditEventInput): boolean {
    try {
      const time = this.now().toISOString();
      if (this.queue.length >= this.maxQueue) {
        if (this.droppedRun === 0) this.droppedRunSince = time;
        this.droppedRun++;
        this.counters.dropped++;
        this.schedule();
        return false;
      }
      this.queueDroppedNote(time);
      this.queue.push(sanitizeEvent(event, time, this.counters));
      this.schedule();
      return true;
    } catch (e) {
      // A clock or getter that throws: count it, never pass it on.
      this.counters.errors++;
      this.lastError = (e as Error)?.message ?? String(e);
      return false;
    }
  }

  /**
   * Write everything queued so far (events appended meanwhile may go along).
   * Resolves — never rejects — when they are on disk or when a write failed
   * (see stats()); a failed flush skips the back-off and tries once at once.
   */
  async flush(): Promise<void> {
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = undefined; }
    const target = this.counters.written + this.queue.length + (this.droppedRun > 0 ? 1 : 0);
    while (this.counters.written < target || this.headPending) {
      if (this.writing) { await this.writing; continue; }
      if (this.queue.length === 0 && this.droppedRun === 0 && !this.headPending) return;
      if (!(await this.drain())) return;
    }
  }

  /** Flush, and give up on what could not be written (counted as failed). Resolves, never rejects. */
  async close(): Promise<void> {
    await this.flush();
    if (this.queue.length > 0 || this.droppedRun > 0) {
      this.counters.failed += this.queue.length;
      this.queue = [];
      this.droppedRun = 0;
    }
    this.headPending = false; // the next writer finds the lines past the head and records them
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = undefined; }
    pendingLogs.delete(this);
  }

  stats(): AuditLogStats {
    const s: AuditLogStats = {
      queued: this.queue.length,
      written: this.counters.written,
      dropped: this.counters.dropped,
      failed: this.counters.failed,
      errors: this.counters.errors,
      redacted: this.counters.redacted,
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  /** @internal called from the process 'beforeExit' hook: one last attempt, not a loop. */
  flushBeforeExit(): void {
    if (this.exitTried || this.writing) return;
    this.exitTried = true;
    void this.close();
  }

  private queueDroppedNote(time: string): void {
    if (this.droppedRun === 0) return;
    this.queue.push({
      time,
      actor: SYSTEM_ACTOR,
      action: 'audit.dropped',
      outcome: 'error',
      detail: `${this.droppedRun} event(s) dropped since ${this.droppedRunSince}: the audit queue was full (${this.maxQueue} waiting)`,
    });
    this.droppedRun = 0;
    this.droppedRunSince = undefined;
  }

  private schedule(): void {
    pendingLogs.add(this);
    installExitHook();
    this.exitTried = false;
    if (this.scheduled || this.writing || this.retryTimer) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  /** Write batches until the queue is empty; false when a batch failed (a retry is scheduled). */
  private drain(): Promise<boolean> {
    if (this.writing) return this.writing.then(() => this.queue.length === 0);
    let ok = true;
    this.writing = (async () => {
      while (this.queue.length > 0 || this.droppedRun > 0 || this.headPending) {
        if (this.queue.length < this.maxQueue) this.queueDroppedNote(this.now().toISOString());
        const batch = this.queue.slice(0, this.batchSize);
        try {
          await writeBatch(this.dir, batch, this.writeOpts);
          this.queue.splice(0, batch.length);
          this.counters.written += batch.length;
          this.backoffMs = 0;
          this.headPending = false;
        } catch (e) {
          const committed = e instanceof BatchError ? e.committed : 0;
          if (committed > 0) {
            this.queue.splice(0, committed);
            this.counters.written += committed;
          }
          // Every line is in the file but the head record is not: nothing is left to send, yet the
          // head must still be written, or verify reports the lines as inserted until some later event.
          if (e instanceof BatchError && committed === batch.length) this.headPending = true;
          this.fail(e instanceof BatchError && e.cause instanceof Error ? e.cause : (e as Error));
          ok = false;
          break;
        }
      }
    })().finally(() => {
      this.writing = undefined;
      if (this.queue.length === 0 && this.droppedRun === 0 && !this.headPending) pendingLogs.delete(this);
      else if (ok) this.schedule();
    });
    return this.writing.then(() => ok);
  }

  private fail(err: Error): void {
    this.counters.errors++;
    const hint = (err as { hint?: string }).hint;
    this.lastError = hint ? `${err.message} (${hint})` : err.message;
    if (this.counters.errors === 1 || this.everyError) {
      try { this.onError(new Error(this.lastError)); } catch { /* a reporter must not break the log */ }
    }
    // Retry later with back-off; the timer never keeps a process alive.
    this.backoffMs = Math.min(30_000, this.backoffMs ? this.backoffMs * 2 : 250);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.drain();
    }, this.backoffMs);
    this.retryTimer.unref();
  }
}

/** The audit log in the state dir (MEDIAGATE_STATE_DIR or the XDG default). Nothing touches the disk until the first write. */
export function openAuditLog(env: NodeJS.ProcessEnv = process.env, opts: AuditLogOptions = {}): AuditLog {
  return new AuditLog(stateDir(env), opts);
}
