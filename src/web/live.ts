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
import { api, ApiFailure, here, type Status, type Volume } from './api.js';

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
    const url = here('/api/ws').replace(/^http/, 'ws');
    let opened = false;
    const ws = new WebSocket(url, 'mediagate.v1');
    this.ws = ws;
    ws.addEventListener('open', () => {
      opened = true;
      this.attempt = 0;
      ws.send(JSON.stringify({ type: 'subscribe' }));
      this.on.state({ kind: 'open' });
    });
    ws.addEventListener('message', (ev) => {
      let m: { type?: string; data?: unknown };
      try { m = JSON.parse(String(ev.data)); } catch { return; }
      if (m.type === 'status') this.on.status(m.data as Status | null);
      else if (m.type === 'volume') this.on.volume(m.data as Volume | null);
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
