/**
 * Keeps floods of identical denials from flooding the audit log.
 *
 * Every denied request is audited, but refusals that cost an attacker
 * nothing and that nothing else bounds — no token at all, a valid token
 * asking above its scope, a rate-limit or lockout 429 — are recorded at most
 * once per client address and kind per window (60 s): the first one is
 * written at once, the rest of the window is counted and the count is
 * written with the next one recorded after the window ("+N similar refusals
 * not recorded individually"). Wrong tokens and bad invite codes are NOT
 * gated: the failure lockout already bounds them to 10 per 15 minutes per
 * address, and each one matters.
 *
 * Memory is bounded: at most `maxKeys` entries, oldest evicted first; and
 * after a flood, an unref'd timer (armed only while entries exist, at most
 * once per second) drops the entries whose window has passed with nothing
 * counted, so an idle server holds none of them.
 */
export interface GateDecision {
  /** Write this event. */
  record: boolean;
  /** Similar events not written since the last recorded one. */
  suppressed: number;
}

interface Entry { until: number; suppressed: number }

const MIN_SWEEP_MS = 1000;

export class DenialGate {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  check(key: string): GateDecision {
    const t = this.now();
    const e = this.entries.get(key);
    if (e && e.until > t) {
      e.suppressed++;
      return { record: false, suppressed: 0 };
    }
    const suppressed = e?.suppressed ?? 0;
    this.entries.delete(key);
    // Entries past their window with nothing counted carry no information: drop a few from the old end.
    let n = 0;
    for (const [k, v] of this.entries) {
      if (n++ >= 4 || v.until > t || v.suppressed > 0) break;
      this.entries.delete(k);
    }
    while (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { until: t + this.windowMs, suppressed: 0 });
    if (this.timer === null) this.armSweep(t);
    return { record: true, suppressed };
  }

  /** Drop entries whose window has passed with nothing counted (they carry no information). */
  prune(): number {
    const t = this.now();
    let n = 0;
    for (const [k, v] of this.entries) {
      if (v.until > t) break; // in order of their window's start: the rest are younger
      if (v.suppressed > 0) continue;
      this.entries.delete(k);
      n++;
    }
    return n;
  }

  private armSweep(now: number): void {
    const head = this.entries.values().next().value as Entry | undefined;
    if (head === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.prune();
      // Entries holding a count stay until a later denial writes it; they need no sweeping.
      for (const v of this.entries.values()) if (v.suppressed === 0) { this.armSweep(this.now()); break; }
    }, Math.max(MIN_SWEEP_MS, Math.ceil(head.until - now)));
    this.timer.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
