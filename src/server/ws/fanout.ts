/**
 * Subscriptions and fan-out: LiveState's 'status' and 'volume' events to
 * every subscribed socket.
 *
 * Each event is serialised ONCE into a Buffer and the same Buffer is written
 * to every subscribed socket (no per-socket JSON or UTF-8 encoding).
 * Identical consecutive messages are not re-sent. A subscription with
 * `player` gets that player's status instead of the active one's (each
 * name's message made once per event). Slow consumers: a socket with more
 * than `slowBytes` not yet written to the network is skipped, and the newest
 * message of each kind is kept for it; a 1 s timer (armed only while some
 * socket lags) delivers those once it has drained — status and volume are
 * whole states, so only the newest one matters — and closes it with 1008
 * when it has not drained for `slowCloseMs` (the close frame queues behind
 * the unsent data, so the TCP connection is cut 1 s later; the peer usually
 * sees 1006).
 */
import { WebSocket } from 'ws';
import type { LiveSnapshot, VolumeState } from '../../core/live.js';
import { nameMatches, pickActive } from '../../core/players/select.js';
import type { PlayerState } from '../../core/players/types.js';
import { sanitizeMessage } from '../http-error.js';
import type { WsReport } from './report.js';
import { type Conn, send, TEXT, WsClose, type WsDeps, type WsLimits } from './types.js';

interface Lag {
  since: number;
  status?: Buffer;
  volume?: Buffer;
}

function volumeJson(v: VolumeState | null): unknown {
  return v ? { level: v.level, muted: v.muted, target: v.target, backend: v.backend } : null;
}

export class Fanout {
  private readonly subscribers = new Set<Conn>();
  private readonly playerSubscribers = new Set<Conn>();
  private readonly lagging = new Map<Conn, Lag>();
  private lagTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  // The serialised pushes, shared by every socket.
  private statusFor: PlayerState | null | undefined; // the snapshot.active the cached buffer was made from
  private statusBuf: Buffer = Buffer.alloc(0);
  private volumeFor: VolumeState | null | undefined;
  private volumeBuf: Buffer = Buffer.alloc(0);
  // While anyone is subscribed, these are what every subscriber saw last (a
  // new subscriber is sent the current state), so an event that would repeat
  // it is skipped; with no subscribers they are reset.
  private lastStatusSent: Buffer | null = null;
  private lastVolumeSent: Buffer | null = null;
  private readonly onStatusEvent: (s: LiveSnapshot) => void;
  private readonly onVolumeEvent: (v: VolumeState | null) => void;

  constructor(
    private readonly deps: Pick<WsDeps, 'live' | 'statusJson'>,
    private readonly limits: WsLimits,
    private readonly report: WsReport,
    private readonly closeConn: (c: Conn, code: number, reason: string) => void,
  ) {
    // LiveState emits from its refresh chain: a failure here must not reach it.
    const guarded = <T>(fn: (x: T) => void) => (x: T): void => {
      try { fn(x); } catch (e) { report.note(`ws push failed: ${sanitizeMessage((e as Error)?.message)}`); }
    };
    this.onStatusEvent = guarded((s) => this.onStatus(s));
    this.onVolumeEvent = guarded((v) => this.onVolume(v));
    deps.live.on('status', this.onStatusEvent);
    deps.live.on('volume', this.onVolumeEvent);
  }

  /** Subscribe `c` (to one player's status when `player` is given) and send it the current state. */
  subscribe(c: Conn, player: string | undefined): void {
    const snap = this.deps.live.snapshot();
    this.subscribers.add(c);
    if (player !== undefined) {
      this.playerSubscribers.add(c);
      c.player = player;
      c.lastStatus = this.playerStatusMessage(snap, player);
      send(c, c.lastStatus);
    } else {
      this.playerSubscribers.delete(c);
      c.player = null;
      c.lastStatus = null;
      this.lastStatusSent = this.statusMessage(snap.active);
      send(c, this.lastStatusSent);
    }
    this.lastVolumeSent = this.volumeMessage(snap.volume);
    send(c, this.lastVolumeSent);
  }

  unsubscribe(c: Conn): void {
    this.subscribers.delete(c);
    this.playerSubscribers.delete(c);
    c.player = null;
    c.lastStatus = null;
    this.lagging.delete(c);
    if (this.subscribers.size === 0) { this.lastStatusSent = null; this.lastVolumeSent = null; }
  }

  /** The status JSON changed without a player event (an artwork link became known): serialise and push it again. */
  refreshStatus(): void {
    if (this.stopped) return;
    this.statusFor = undefined;
    this.onStatusEvent(this.deps.live.snapshot());
  }

  stop(): void {
    this.stopped = true;
    this.deps.live.off('status', this.onStatusEvent);
    this.deps.live.off('volume', this.onVolumeEvent);
    if (this.lagTimer) { clearTimeout(this.lagTimer); this.lagTimer = null; }
  }

  private statusMessage(active: PlayerState | null): Buffer {
    if (active !== this.statusFor) {
      this.statusBuf = Buffer.from(JSON.stringify({ type: 'status', data: active ? this.deps.statusJson(active) : null }));
      this.statusFor = active;
    }
    return this.statusBuf;
  }

  private volumeMessage(v: VolumeState | null): Buffer {
    if (v !== this.volumeFor) {
      this.volumeBuf = Buffer.from(JSON.stringify({ type: 'volume', data: volumeJson(v) }));
      this.volumeFor = v;
    }
    return this.volumeBuf;
  }

  private playerStatusMessage(snap: LiveSnapshot, name: string): Buffer {
    const chosen = pickActive(snap.players.filter((s) => nameMatches(name, s.player))) ?? null;
    return Buffer.from(JSON.stringify({ type: 'status', data: chosen ? this.deps.statusJson(chosen) : null }));
  }

  private onStatus(snap: LiveSnapshot): void {
    if (this.subscribers.size === 0) return;
    if (this.playerSubscribers.size > 0) this.pushPlayers(snap);
    const buf = this.statusMessage(snap.active);
    if (buf === this.lastStatusSent || (this.lastStatusSent !== null && buf.equals(this.lastStatusSent))) return;
    this.lastStatusSent = buf;
    this.broadcast('status', buf);
  }

  /** A new reading, or null: the mixer is gone (subscribers are sent {data: null}, as a new subscriber then is). */
  private onVolume(v: VolumeState | null): void {
    if (this.subscribers.size === 0) return;
    const buf = this.volumeMessage(v);
    if (buf === this.lastVolumeSent || (this.lastVolumeSent !== null && buf.equals(this.lastVolumeSent))) return;
    this.lastVolumeSent = buf;
    this.broadcast('volume', buf);
  }

  private broadcast(kind: 'status' | 'volume', buf: Buffer): void {
    const slowBytes = this.limits.slowBytes;
    const anyLagging = this.lagging.size > 0;
    for (const c of this.subscribers) {
      if (kind === 'status' && c.player !== null) continue; // sent its own player's status (pushPlayers)
      const ws = c.ws;
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > slowBytes) { this.holdBack(c, kind, buf); continue; }
      if (anyLagging) {
        const lag = this.lagging.get(c);
        if (lag) { // this newer one supersedes what was held back
          lag[kind] = undefined;
          if (!lag.status && !lag.volume) this.lagging.delete(c);
        }
      }
      ws.send(buf, TEXT);
    }
  }

  /** Subscriptions for one player: each name's message is made once per event, sent where it differs from the last one sent. */
  private pushPlayers(snap: LiveSnapshot): void {
    const made = new Map<string, Buffer>();
    for (const c of this.playerSubscribers) {
      const name = c.player!;
      let buf = made.get(name);
      if (!buf) { buf = this.playerStatusMessage(snap, name); made.set(name, buf); }
      if (c.lastStatus !== null && buf.equals(c.lastStatus)) continue;
      c.lastStatus = buf;
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      if (c.ws.bufferedAmount > this.limits.slowBytes) { this.holdBack(c, 'status', buf); continue; }
      const lag = this.lagging.get(c);
      if (lag) lag.status = undefined; // this newer one supersedes what was held back
      c.ws.send(buf, TEXT);
    }
  }

  // --- slow consumers ------------------------------------------------------------
  private holdBack(c: Conn, kind: 'status' | 'volume', buf: Buffer): void {
    let lag = this.lagging.get(c);
    if (!lag) { lag = { since: Date.now() }; this.lagging.set(c, lag); }
    lag[kind] = buf;
    this.armLagTimer();
  }

  private armLagTimer(): void {
    if (this.lagTimer || this.stopped) return;
    this.lagTimer = setTimeout(() => this.checkLagging(), 1000);
    this.lagTimer.unref();
  }

  private checkLagging(): void {
    this.lagTimer = null;
    const now = Date.now();
    for (const [c, lag] of this.lagging) {
      if (c.ws.readyState !== WebSocket.OPEN) { this.lagging.delete(c); continue; }
      if (c.ws.bufferedAmount <= this.limits.slowBytes) {
        this.lagging.delete(c);
        if (lag.status) send(c, lag.status);
        if (lag.volume) send(c, lag.volume);
      } else if (now - lag.since >= this.limits.slowCloseMs) {
        this.lagging.delete(c);
        this.report.note(`ws closing a slow consumer (${c.ws.bufferedAmount} bytes unsent for ${Math.round((now - lag.since) / 1000)} s)`, c.requestId, c.principal.label);
        this.closeConn(c, WsClose.policy, 'too slow: messages are not being read');
        // The close frame waits behind everything unsent: do not wait for the peer's answer.
        const ws = c.ws;
        setTimeout(() => { if (ws.readyState !== WebSocket.CLOSED) ws.terminate(); }, 1000).unref();
      }
    }
    if (this.lagging.size > 0) this.armLagTimer();
  }
}
