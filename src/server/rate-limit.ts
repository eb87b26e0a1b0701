/**
 * Per-key token buckets with bounded memory.
 *
 * Each key's bucket is stored as ONE number: the moment it will be full again
 * (`fullAt`, ms on the limiter's clock). The token count is derived lazily:
 *
 *   tokens(now) = burst − max(0, fullAt − now) × rate
 *
 * A request costing 1 token is allowed when tokens(now) ≥ 1, and then
 * fullAt := max(fullAt, now) + 1/rate. (This is the classic token bucket,
 * written the way GCRA writes it; no per-key timer, no refill loop.)
 *
 * Memory: a key whose bucket is full (fullAt ≤ now) carries no information
 * and is dropped. Keys sit in a Map in least-recently-used order (a touch
 * moves the key to the end), so idle keys collect at the front, where
 * `prune()` drops full buckets in O(dropped). The map never holds more than
 * `maxKeys`: a new key first prunes, then evicts the least recently used one
 * (which, under a flood of distinct keys, merely hands that key a fresh
 * bucket). An optional unref'd timer — armed only while keys exist, at most
 * once per second — empties the map after the idle window (burst ÷ rate).
 */
import { ConfigError } from '../core/errors.js';

export interface RateLimitResult {
  allowed: boolean;
  /** Whole seconds until the request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
}

export interface RateLimiterOptions {
  /** Sustained rate: `rate` requests per `perMs` milliseconds. 0 disables this limiter. */
  rate: number;
  /** Length of the rate's period in ms (default 1000: `rate` is per second). */
  perMs?: number;
  /** Bucket size: how many requests may arrive at once (default: `rate`). */
  burst?: number;
  /** Hard cap on tracked keys (default 50,000). */
  maxKeys?: number;
  /** Monotonic clock in ms (default: performance.now). Tests inject one. */
  now?: () => number;
  /** Drop idle keys with an unref'd timer (≤ 1/s, only while keys exist). Default true. */
  sweep?: boolean;
  /** Name for error messages, e.g. `server.rateLimit`. */
  name?: string;
}

/** Settings of the design: general per-IP, script runs, token/invite creation. */
export const GENERAL_LIMIT = { rate: 20, burst: 40 } as const;
export const SCRIPT_RUN_LIMIT = { rate: 10, perMs: 60_000, burst: 10 } as const;
export const CREATION_LIMIT = { rate: 5, perMs: 60_000, burst: 5 } as const;
export const DEFAULT_MAX_KEYS = 50_000;

const ALLOWED: RateLimitResult = Object.freeze({ allowed: true, retryAfterSeconds: 0 });
/** Tolerance for floating-point drift in fullAt arithmetic (ms). */
const EPSILON_MS = 1e-6;
const MIN_SWEEP_MS = 1000;

export class RateLimiter {
  /** False when rate is 0: every check is allowed and nothing is stored. */
  readonly enabled: boolean;
  readonly burst: number;
  readonly maxKeys: number;
  /** ms one token takes to come back. */
  private readonly interval: number;
  /** fullAt − now may be at most this for a request to pass. */
  private readonly tolerance: number;
  /** burst × interval: after this long untouched, any bucket is full. */
  readonly idleWindowMs: number;
  private readonly now: () => number;
  private readonly sweep: boolean;
  private readonly buckets = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private evictedCount = 0;

  constructor(opts: RateLimiterOptions) {
    const name = opts.name ?? 'rate limit';
    const rate = opts.rate;
    const perMs = opts.perMs ?? 1000;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) {
      throw new ConfigError(`${name}: rate must be a number ≥ 0 (0 turns this limit off), got ${String(rate)}`, undefined, 'config.invalid_value');
    }
    if (!Number.isFinite(perMs) || perMs <= 0) throw new ConfigError(`${name}: period must be a positive number of ms`, undefined, 'config.invalid_value');
    const burst = opts.burst ?? Math.max(1, Math.ceil(rate));
    if (!Number.isInteger(burst) || burst < 1) {
      throw new ConfigError(`${name}: burst must be a whole number ≥ 1, got ${String(opts.burst)}`, undefined, 'config.invalid_value');
    }
    const maxKeys = opts.maxKeys ?? DEFAULT_MAX_KEYS;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new ConfigError(`${name}: maxKeys must be a whole number ≥ 1`, undefined, 'config.invalid_value');
    this.enabled = rate > 0;
    this.burst = burst;
    this.maxKeys = maxKeys;
    this.interval = this.enabled ? perMs / rate : 0;
    this.tolerance = (burst - 1) * this.interval;
    this.idleWindowMs = burst * this.interval;
    this.now = opts.now ?? (() => performance.now());
    this.sweep = opts.sweep ?? true;
  }

  /** Spend one token of `key`'s bucket if it has one. */
  check(key: string): RateLimitResult {
    if (!this.enabled) return ALLOWED;
    const now = this.now();
    const buckets = this.buckets;
    const fullAt = buckets.get(key);
    if (fullAt === undefined) {
      if (buckets.size >= this.maxKeys) this.makeRoom(now);
      else if (buckets.size > 0) this.pruneSome(now, 2);
      buckets.set(key, now + this.interval);
      if (this.sweep && this.timer === null) this.armSweep(now);
      return ALLOWED;
    }
    const start = fullAt > now ? fullAt : now;
    const debt = start - now; // ms of refill still owed
    buckets.delete(key); // move to the most-recently-used end
    if (debt > this.tolerance + EPSILON_MS) {
      buckets.set(key, fullAt);
      const waitMs = debt - this.tolerance;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000 - EPSILON_MS)) };
    }
    buckets.set(key, start + this.interval);
    return ALLOWED;
  }

  /** Tokens left for `key` now (burst for an unknown key). For headers and tests. */
  remaining(key: string): number {
    if (!this.enabled) return this.burst;
    const fullAt = this.buckets.get(key);
    if (fullAt === undefined) return this.burst;
    const debt = Math.max(0, fullAt - this.now());
    return Math.max(0, Math.floor(this.burst - debt / this.interval + EPSILON_MS));
  }

  /** Number of keys held. */
  get size(): number {
    return this.buckets.size;
  }

  /** Keys evicted while still holding information (the cap was hit). */
  get evicted(): number {
    return this.evictedCount;
  }

  /** Drop full buckets from the idle end. Returns how many were dropped. */
  prune(): number {
    return this.pruneSome(this.now(), Infinity);
  }

  /** Forget one key (an admin "unblock"). */
  delete(key: string): boolean {
    return this.buckets.delete(key);
  }

  /** Forget everything and stop the sweep timer. */
  close(): void {
    this.buckets.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private pruneSome(now: number, max: number): number {
    let n = 0;
    for (const [key, fullAt] of this.buckets) {
      if (n >= max || fullAt > now) break;
      this.buckets.delete(key);
      n++;
    }
    return n;
  }

  private makeRoom(now: number): void {
    this.pruneSome(now, 16);
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value as string;
      this.buckets.delete(oldest);
      this.evictedCount++;
    }
  }

  private armSweep(now: number): void {
    const head = this.buckets.values().next().value as number | undefined;
    if (head === undefined) return;
    const delay = Math.max(MIN_SWEEP_MS, Math.ceil(head - now));
    this.timer = setTimeout(() => {
      this.timer = null;
      const t = this.now();
      this.pruneSome(t, Infinity);
      if (this.buckets.size > 0) this.armSweep(t);
    }, delay);
    this.timer.unref();
  }
}

/** A limiter from `server.rateLimit.{rps,burst}`-style settings (rps 0 = off). */
export function perSecondLimiter(rps: number, burst: number, extra: Omit<RateLimiterOptions, 'rate' | 'perMs' | 'burst'> = {}): RateLimiter {
  return new RateLimiter({ ...extra, rate: rps, burst });
}
