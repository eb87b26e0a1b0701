/**
 * The connections one MPD source sends its commands on.
 *
 * Commands are pipelined on the first connection (MPD answers in order, and
 * lines asked for together go out in one write: see MpdConnection), which is
 * all a CLI call or an ordinary server ever uses. A command is not queued
 * behind an answer that is slow to come — a large listing, a file MPD reads
 * tags from, a server that stopped answering: when a connection's oldest
 * outstanding answer has been awaited for `stuckMs`, the next command goes to
 * another one, opened when needed, up to `max`. Callers that need an order
 * between their own commands await each one (as every Player method does).
 *
 * Connections are never closed for being idle: their sockets do not keep
 * the process alive (MpdConnection unrefs them), and one that MPD closed
 * (its connection_timeout) leaves the pool.
 */
import { NoPlayerError } from '../errors.js';
import type { MpdConnection } from './mpd-protocol.js';

export interface MpdPoolOptions {
  /** Open one connection (greeting and password done). */
  open(): Promise<MpdConnection>;
  /** Connections at most. */
  max: number;
  /** An answer awaited this long (ms) makes its connection too slow for new commands. */
  stuckMs: number;
}

/** At most this many connections per MPD source. */
export const MPD_POOL_MAX = 3;
/** MPD answers an ordinary command within a millisecond; 25 ms behind one means it is stuck. */
export const MPD_STUCK_MS = 25;

export class MpdPool {
  private readonly conns: MpdConnection[] = [];
  private opening: Promise<MpdConnection> | null = null;
  private closed = false;

  constructor(private readonly opts: MpdPoolOptions) {}

  /** Connections open now (for tests and diagnostics). */
  get size(): number {
    return this.conns.filter((c) => !c.closed).length;
  }

  /**
   * A connection for the next command: the first one not stuck behind a slow
   * answer; else a new one (up to `max`); else — at the limit, or when MPD
   * refuses another connection — the one waiting the shortest time. `reused`:
   * it was open before this call (so it may have been dropped by MPD meanwhile).
   */
  async acquire(): Promise<{ conn: MpdConnection; reused: boolean }> {
    this.prune();
    const now = performance.now();
    let leastStuck: MpdConnection | undefined;
    for (const c of this.conns) {
      const since = c.waitingSince;
      if (since === undefined || now - since < this.opts.stuckMs) return { conn: c, reused: true };
      if (!leastStuck || since > leastStuck.waitingSince!) leastStuck = c;
    }
    if (leastStuck && (this.conns.length >= this.opts.max)) return { conn: leastStuck, reused: true };
    try {
      return { conn: await this.openOne(), reused: false };
    } catch (e) {
      this.prune();
      const fallback = this.conns[0];
      if (fallback && !this.closed) return { conn: fallback, reused: true };
      throw e;
    }
  }

  /** Close every connection (and one being opened). Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.conns.splice(0)) c.close();
    const pending = this.opening;
    this.opening = null;
    if (pending) await pending.then((c) => c.close(), () => {});
  }

  /** One connection opening at a time: commands arriving meanwhile wait for it. */
  private openOne(): Promise<MpdConnection> {
    if (!this.opening) {
      const opening = this.opts.open().then((c) => {
        if (this.closed) { c.close(); throw new NoPlayerError('the MPD source is closed', undefined, 'player.closed'); }
        this.conns.push(c);
        c.onClose(() => this.prune());
        return c;
      });
      this.opening = opening;
      const clear = () => { if (this.opening === opening) this.opening = null; };
      opening.then(clear, clear);
    }
    return this.opening;
  }

  private prune(): void {
    for (let i = this.conns.length - 1; i >= 0; i--) if (this.conns[i]!.closed) this.conns.splice(i, 1);
  }
}
