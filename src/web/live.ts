/**
 * The WebSocket to /api/ws (subprotocol mediagate.v1, authenticated by the
 * session cookie: same origin), with reconnection. Pushes only — no
 * polling: the server sends the current status and volume on subscribe and
 * every change after.
 *
 * Reconnects with backoff (0.5 s doubling to 15 s, with jitter), at once
 * when the network comes back or the page becomes visible again. A close
 * with 4401 (token revoked or expired) is final; so is a refused upgrade
 * when GET /api/auth/whoami then answers 401 (the browser does not show why
 * an upgrade failed).
 */
import { api, ApiFailure, type Status, type Volume } from './api.js';

export type LiveState =
  | { kind: 'connecting' }
  | { kind: 'open' }
  | { kind: 'waiting'; retryAt: number }
  | { kind: 'offline' }
  | { kind: 'signed-out'; why: string };

export interface LiveHandlers {
  status(s: Status | null): void;
  volume(v: Volume | null): void;
  state(s: LiveState): void;
}

const MIN_DELAY = 500;
const MAX_DELAY = 15_000;

export class Live {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: number | undefined;
  private stopped = false;
  /** The player followed (null: the active one). */
  private player: string | null = null;
  /** While a re-subscription is answered: its id, and the newest status seen meanwhile. */
  private switching: { id: number; status?: Status | null } | null = null;
  private nextId = 0;

  constructor(private readonly on: LiveHandlers) {
    addEventListener('online', () => this.now());
    addEventListener('offline', () => { if (!this.stopped) { this.ws?.close(); this.on.state({ kind: 'offline' }); } });
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') this.now(); });
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'signed out');
  }

  /**
   * Follow `player`'s status (null: the active player's), now and after every
   * reconnect. Status messages that arrive before the server has answered the
   * new subscription may still be the old one's: only the last of them — the
   * new subscription's current state, sent just before its answer — is used.
   */
  follow(player: string | null): void {
    if (player === this.player) return;
    this.player = player;
    if (this.ws?.readyState === WebSocket.OPEN) this.subscribe(this.ws);
  }

  private subscribe(ws: WebSocket): void {
    const id = ++this.nextId;
    this.switching = { id };
    ws.send(JSON.stringify(this.player === null ? { type: 'subscribe', id } : { type: 'subscribe', id, player: this.player }));
  }

  /** Reconnect now if not connected (network back, page visible again). */
  private now(): void {
    if (this.stopped || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    if (!navigator.onLine) { this.on.state({ kind: 'offline' }); return; }
    this.on.state({ kind: 'connecting' });
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`;
    let opened = false;
    const ws = new WebSocket(url, 'mediagate.v1');
    this.ws = ws;
    ws.addEventListener('open', () => {
      opened = true;
      this.attempt = 0;
      this.subscribe(ws);
      this.on.state({ kind: 'open' });
    });
    ws.addEventListener('message', (ev) => {
      let m: { type?: string; id?: unknown; data?: unknown };
      try { m = JSON.parse(String(ev.data)); } catch { return; }
      if (m.type === 'status') {
        if (this.switching) this.switching.status = m.data as Status | null;
        else this.on.status(m.data as Status | null);
      } else if (m.type === 'volume') this.on.volume(m.data as Volume | null);
      else if (this.switching && m.id === this.switching.id && (m.type === 'result' || m.type === 'error')) {
        const held = this.switching;
        this.switching = null;
        if (held.status !== undefined) this.on.status(held.status);
      }
    });
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      if (ev.code === 4401) { this.on.state({ kind: 'signed-out', why: ev.reason || 'token revoked' }); return; }
      void this.retry(opened);
    });
  }

  private async retry(wasOpen: boolean): Promise<void> {
    if (!wasOpen) {
      // Refused upgrade or no server: ask over HTTP whether we are still paired.
      try {
        await api('GET', '/api/auth/whoami');
      } catch (e) {
        if (e instanceof ApiFailure && e.status === 401) { this.on.state({ kind: 'signed-out', why: e.message }); return; }
      }
    }
    if (this.stopped) return;
    const base = Math.min(MAX_DELAY, MIN_DELAY * 2 ** this.attempt++);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.on.state(navigator.onLine ? { kind: 'waiting', retryAt: Date.now() + delay } : { kind: 'offline' });
    this.timer = window.setTimeout(() => this.connect(), delay);
  }
}
