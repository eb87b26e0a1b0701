/**
 * Keeps floods of identical denials from flooding the audit log — without
 * losing the ordinary ones.
 *
 * Every denied request is audited individually (actor, address, request id)
 * up to a budget: the first `perKey` (30) denials of one kind from one
 * address (and actor) in a window (60 s) are each recorded. Beyond it, the
 * rest of that window is only counted, and when the window ends ONE summary
 * line is written with the exact count ("+N similar refusals, request ids
 * not recorded"). A global budget (`globalPerWindow`, 3000 individual
 * records per window across all keys) bounds the log when a flood comes from
 * many addresses at once; past it, every key only counts.
 *
 * Summaries are written by an unref'd timer at the end of each window (armed
 * only while entries exist), when an entry is evicted, when the same key is
 * denied again after its window, and on flush() (server shutdown) — so a
 * count is never lost. Memory is bounded: at most `maxKeys` entries, oldest
 * evicted first (its summary written), and an idle gate holds none.
 *
 * Per window and key the log gets at most perKey + 1 lines.
 */
export interface GateDecision {
  /** Write this event individually. */
  record: boolean;
}

/** A count of refusals that were not written individually. */
export interface GateSummary<C> {
  /** What the caller passed with the first counted refusal (actor, action, address, target …). */
  context: C;
  /** How many were counted, not written. */
  count: number;
  /** The window's length (ms). */
  windowMs: number;
}

export interface GateOptions<C> {
  windowMs?: number;
  /** Individual records per key and window. */
  perKey?: number;
  /** Individual records per window across all keys. */
  globalPerWindow?: number;
  maxKeys?: number;
  now?: () => number;
  /** Write a summary (called synchronously; must not throw). */
  onSummary?: (s: GateSummary<C>) => void;
}

interface Entry<C> { until: number; recorded: number; suppressed: number; context: C | undefined }

const MIN_SWEEP_MS = 1000;
export const GATE_WINDOW_MS = 60_000;
export const GATE_PER_KEY = 30;
export const GATE_GLOBAL_PER_WINDOW = 3000;

export class DenialGate<C = unknown> {
  private readonly entries = new Map<string, Entry<C>>();
  private timer: NodeJS.Timeout | null = null;
  private readonly windowMs: number;
  private readonly perKey: number;
  private readonly globalPerWindow: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly onSummary: (s: GateSummary<C>) => void;
  private globalUntil = -Infinity;
  private globalRecorded = 0;

  constructor(opts: GateOptions<C> = {}) {
    this.windowMs = opts.windowMs ?? GATE_WINDOW_MS;
    this.perKey = opts.perKey ?? GATE_PER_KEY;
    this.globalPerWindow = opts.globalPerWindow ?? GATE_GLOBAL_PER_WINDOW;
    this.maxKeys = opts.maxKeys ?? 10_000;
    this.now = opts.now ?? (() => performance.now());
    this.onSummary = opts.onSummary ?? (() => {});
  }

  /**
   * One denial of kind `key`. `context` is kept with the first refusal that
   * is only counted, and handed back in its summary.
   */
  check(key: string, context?: C): GateDecision {
    const t = this.now();
    let e = this.entries.get(key);
    if (e && e.until <= t) {
      this.entries.delete(key);
      this.summarise(e);
      e = undefined;
    }
    if (!e) {
      // Expired entries at the old end: write their counts and let them go.
      let n = 0;
      for (const [k, v] of this.entries) {
        if (n++ >= 4 || v.until > t) break;
        this.entries.delete(k);
        this.summarise(v);
      }
      while (this.entries.size >= this.maxKeys) {
        const [k, v] = this.entries.entries().next().value as [string, Entry<C>];
        this.entries.delete(k);
        this.summarise(v);
      }
      e = { until: t + this.windowMs, recorded: 0, suppressed: 0, context: undefined };
      this.entries.set(key, e);
      if (this.timer === null) this.armSweep(t);
    }
    if (this.globalUntil <= t) { this.globalUntil = t + this.windowMs; this.globalRecorded = 0; }
    if (e.recorded < this.perKey && this.globalRecorded < this.globalPerWindow) {
      e.recorded++;
      this.globalRecorded++;
      return { record: true };
    }
    if (e.suppressed === 0) e.context = context;
    e.suppressed++;
    return { record: false };
  }

  private summarise(e: Entry<C>): void {
    if (e.suppressed === 0) return;
    const count = e.suppressed;
    e.suppressed = 0;
    try { this.onSummary({ context: e.context as C, count, windowMs: this.windowMs }); } catch { /* a sink must not break the gate */ }
  }

  /** Write the counts of windows that have ended and drop those entries; returns how many were dropped. */
  prune(): number {
    const t = this.now();
    let n = 0;
    for (const [k, v] of this.entries) {
      if (v.until > t) break; // in order of their window's start: the rest are younger
      this.entries.delete(k);
      this.summarise(v);
      n++;
    }
    return n;
  }

  /** Write every pending count now (shutdown), windows still open included. */
  flush(): void {
    for (const v of this.entries.values()) this.summarise(v);
  }

  private armSweep(now: number): void {
    const head = this.entries.values().next().value as Entry<C> | undefined;
    if (head === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.prune();
      if (this.entries.size > 0) this.armSweep(this.now());
    }, Math.max(MIN_SWEEP_MS, Math.ceil(head.until - now)));
    this.timer.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Flush the counts, then forget everything. */
  clear(): void {
    this.flush();
    this.entries.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
