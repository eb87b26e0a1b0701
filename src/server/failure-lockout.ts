/**
 * Failure lockout for authentication and invite redemption: after
 * `maxFailures` failures from one key (client IP) within `windowMs`, the key
 * is locked for `lockMs`. While locked, EVERY attempt is refused — the caller
 * asks `isLocked(ip)` before verifying anything, so even the correct secret
 * does not get through and a guesser learns nothing. Other keys are not
 * affected.
 *
 * A success does not clear the count: someone holding one valid secret could
 * otherwise interleave it to reset the counter between guesses. Failures
 * simply age out with the window.
 *
 * Memory is bounded like the rate limiter's: entries sit in a Map in order of
 * their last counted failure; expired ones are dropped from the front in
 * O(dropped); the map never exceeds `maxKeys` (the oldest entry is evicted).
 */
import { ConfigError } from '../core/errors.js';

export interface LockState {
  locked: boolean;
  /** Whole seconds until the lock ends (0 when not locked). */
  retryAfterSeconds: number;
}

export interface FailureResult extends LockState {
  /** Failures counted in the current window (after this one). */
  failures: number;
}

export interface FailureLockoutOptions {
  /** Failures that lock the key (default 10). */
  maxFailures?: number;
  /** Window the failures are counted in, from the first one (default 15 min). */
  windowMs?: number;
  /** How long the lock lasts from the failure that set it (default 15 min). */
  lockMs?: number;
  /** Hard cap on tracked keys (default 50,000). */
  maxKeys?: number;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
  /** Drop expired entries with an unref'd timer (≤ 1/s, only while entries exist). Default true. */
  sweep?: boolean;
}

interface Entry {
  failures: number;
  windowStart: number;
  lockedUntil: number;
  /** When this entry stops meaning anything. */
  expiresAt: number;
}

export const DEFAULT_LOCKOUT = { maxFailures: 10, windowMs: 15 * 60_000, lockMs: 15 * 60_000 } as const;

const UNLOCKED: LockState = Object.freeze({ locked: false, retryAfterSeconds: 0 });
const MIN_SWEEP_MS = 1000;

export class FailureLockout {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly lockMs: number;
  readonly maxKeys: number;
  private readonly now: () => number;
  private readonly sweep: boolean;
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;

  constructor(opts: FailureLockoutOptions = {}) {
    this.maxFailures = opts.maxFailures ?? DEFAULT_LOCKOUT.maxFailures;
    this.windowMs = opts.windowMs ?? DEFAULT_LOCKOUT.windowMs;
    this.lockMs = opts.lockMs ?? DEFAULT_LOCKOUT.lockMs;
    this.maxKeys = opts.maxKeys ?? 50_000;
    for (const [k, v] of [['maxFailures', this.maxFailures], ['maxKeys', this.maxKeys]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`failure lockout: ${k} must be a whole number ≥ 1`, undefined, 'config.invalid_value');
    }
    for (const [k, v] of [['windowMs', this.windowMs], ['lockMs', this.lockMs]] as const) {
      if (!Number.isFinite(v) || v <= 0) throw new ConfigError(`failure lockout: ${k} must be positive`, undefined, 'config.invalid_value');
    }
    this.now = opts.now ?? (() => performance.now());
    this.sweep = opts.sweep ?? true;
  }

  /** Is `key` locked out right now? Ask this BEFORE verifying the secret. */
  isLocked(key: string): LockState {
    const e = this.entries.get(key);
    if (e === undefined) return UNLOCKED;
    const now = this.now();
    if (e.lockedUntil <= now) return UNLOCKED;
    return { locked: true, retryAfterSeconds: Math.max(1, Math.ceil((e.lockedUntil - now) / 1000)) };
  }

  /**
   * Count one failed attempt from `key`. Attempts made while locked are not
   * counted (they never reached verification) and do not extend the lock.
   */
  recordFailure(key: string): FailureResult {
    const now = this.now();
    let e = this.entries.get(key);
    if (e !== undefined && e.lockedUntil > now) {
      return { locked: true, retryAfterSeconds: Math.max(1, Math.ceil((e.lockedUntil - now) / 1000)), failures: e.failures };
    }
    if (e === undefined || e.expiresAt <= now) {
      if (e === undefined && this.entries.size >= this.maxKeys) this.makeRoom(now);
      e = { failures: 0, windowStart: now, lockedUntil: 0, expiresAt: now + this.windowMs };
    }
    e.failures++;
    if (e.failures >= this.maxFailures) {
      e.lockedUntil = now + this.lockMs;
      e.expiresAt = Math.max(e.expiresAt, e.lockedUntil);
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    if (this.sweep && this.timer === null) this.armSweep(now);
    const locked = e.lockedUntil > now;
    return { locked, retryAfterSeconds: locked ? Math.max(1, Math.ceil((e.lockedUntil - now) / 1000)) : 0, failures: e.failures };
  }

  /** Failures counted for `key` in its current window. */
  failures(key: string): number {
    const e = this.entries.get(key);
    return e !== undefined && e.expiresAt > this.now() ? e.failures : 0;
  }

  /** Lift a lock / forget a key (an administrator's decision, not a login's). */
  clear(key: string): boolean {
    return this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drop expired entries from the old end. Returns how many were dropped. */
  prune(): number {
    return this.pruneUntil(this.now(), Infinity);
  }

  close(): void {
    this.entries.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private pruneUntil(now: number, max: number): number {
    let n = 0;
    for (const [key, e] of this.entries) {
      if (n >= max || e.expiresAt > now) break;
      this.entries.delete(key);
      n++;
    }
    return n;
  }

  private makeRoom(now: number): void {
    this.pruneUntil(now, 16);
    while (this.entries.size >= this.maxKeys) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
  }

  private armSweep(now: number): void {
    const head = this.entries.values().next().value as Entry | undefined;
    if (head === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const t = this.now();
      this.pruneUntil(t, Infinity);
      if (this.entries.size > 0) this.armSweep(t);
    }, Math.max(MIN_SWEEP_MS, Math.ceil(head.expiresAt - now)));
    this.timer.unref();
  }
}
