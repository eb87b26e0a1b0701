/**
 * The open sockets and their principals: each connection's record, the
 * tokens behind them (revocation and expiry close a token's sockets with
 * 4401), the keep-alive ping, and closing.
 *
 * Revocation and expiry: on every onTokensChanged, each connected token is
 * re-checked with stillValid; an invalid one has its sockets closed with
 * 4401 and the reason "token revoked" (or "token expired"). A token with a
 * known expiry also gets one timer at that moment. The keep-alive ping runs
 * once every `pingMs` while sockets are open (a peer that did not answer the
 * previous ping is dropped); no other periodic timer.
 */
import type { RawData, WebSocket } from 'ws';
import { WebSocket as Ws } from 'ws';
import { sanitizeMessage } from '../http-error.js';
import type { WsReport } from './report.js';
import { type Conn, WsClose, type WsDeps, type WsLimits, type WsPrincipal } from './types.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

interface TokenEntry {
  conns: Set<Conn>;
  expiresAtMs: number | null;
  timer: NodeJS.Timeout | null;
}

function expiryMs(p: WsPrincipal): number | null {
  if (!p.expiresAt) return null;
  const ms = Date.parse(p.expiresAt);
  return Number.isFinite(ms) ? ms : null;
}

export type MessageHandler = (c: Conn, data: RawData, isBinary: boolean) => void;

export class Connections {
  private readonly conns = new Set<Conn>();
  private readonly byToken = new Map<string, TokenEntry>();
  private readonly detachers: Array<(c: Conn) => void> = [];
  private nextKey = 0;
  private pingTimer: NodeJS.Timeout | null = null;
  private unsubscribeTokens: (() => void) | null;
  /** Set by stop(): no new connection stays open. */
  closed = false;

  constructor(
    private readonly deps: Pick<WsDeps, 'stillValid' | 'onTokensChanged'>,
    private readonly limits: WsLimits,
    private readonly report: WsReport,
  ) {
    this.unsubscribeTokens = deps.onTokensChanged(() => {
      for (const [tokenId, entry] of this.byToken) {
        if (!this.tokenValid(tokenId)) this.closeToken(tokenId, invalidReason(entry));
      }
    });
  }

  get size(): number {
    return this.conns.size;
  }

  /** Run `fn` when a connection starts closing or is gone (both; it must be idempotent): drop what other modules keep for it. */
  onDetach(fn: (c: Conn) => void): void {
    this.detachers.push(fn);
  }

  /** A socket whose handshake has just finished. */
  open(ws: WebSocket, principal: WsPrincipal, ip: string, requestId: string, onMessage: MessageHandler): void {
    const c: Conn = {
      ws, principal, ip, requestId,
      key: `c${++this.nextKey}`,
      actor: { id: `token:${principal.tokenId}`, label: principal.label },
      openedAt: Date.now(),
      alive: true, strikes: 0, inFlight: 0, closing: false, player: null, lastStatus: null, audit: null,
    };
    this.conns.add(c);
    let entry = this.byToken.get(principal.tokenId);
    if (!entry) {
      entry = { conns: new Set(), expiresAtMs: expiryMs(principal), timer: null };
      this.byToken.set(principal.tokenId, entry);
    }
    entry.conns.add(c);
    this.armExpiry(principal.tokenId, entry);
    this.armPing();
    ws.on('message', (data, isBinary) => onMessage(c, data, isBinary));
    ws.on('pong', () => { c.alive = true; });
    ws.on('error', (err) => { this.report.note(`ws error: ${sanitizeMessage(err.message)}`, requestId, principal.label); });
    ws.on('close', (code) => {
      this.forget(c);
      this.report.note(`ws closed ${code} after ${Math.round((Date.now() - c.openedAt) / 1000)} s`, requestId, principal.label);
    });
    if (this.closed) { this.closeConn(c, WsClose.goingAway, 'server shutting down'); return; }
    // Revoked between authentication and the end of the handshake?
    if (!this.tokenValid(principal.tokenId)) this.closeConn(c, WsClose.tokenInvalid, invalidReason(entry));
  }

  /** true while the token is valid; fails closed when it cannot be checked. */
  tokenValid(tokenId: string): boolean {
    const entry = this.byToken.get(tokenId);
    if (entry?.expiresAtMs != null && entry.expiresAtMs <= Date.now()) return false;
    try {
      return this.deps.stillValid(tokenId);
    } catch (e) {
      // Fail closed: a token we cannot check is not trusted.
      this.report.note(`ws cannot check token ${tokenId}: ${sanitizeMessage((e as Error)?.message)}`);
      return false;
    }
  }

  /**
   * Before acting for `c`: true when its token is still valid; otherwise the
   * attempt is audited as `action` denied, every socket of that token is
   * closed with 4401, and false.
   */
  admit(c: Conn, action: string): boolean {
    const tokenId = c.principal.tokenId;
    if (this.tokenValid(tokenId)) return true;
    const reason = invalidReason(this.byToken.get(tokenId));
    this.report.audit(c.actor, action, 'denied', c.ip, c.requestId, { detail: `ws ${reason}` });
    this.closeToken(tokenId, reason);
    return false;
  }

  closeConn(c: Conn, code: number, reason: string): void {
    if (c.closing) return;
    c.closing = true;
    this.detach(c);
    c.ws.close(code, reason);
  }

  /** Stop accepting, stop the timers and the token subscription (closeAll closes the sockets). */
  stop(): void {
    this.closed = true;
    this.unsubscribeTokens?.();
    this.unsubscribeTokens = null;
    if (this.pingTimer) { clearInterval(this.pingTimer); this.pingTimer = null; }
    for (const entry of this.byToken.values()) if (entry.timer) { clearTimeout(entry.timer); entry.timer = null; }
  }

  /** Close every socket with 1001, ending those that do not answer within 2 s. */
  async closeAll(): Promise<void> {
    const open = [...this.conns];
    await Promise.all(open.map((c) => new Promise<void>((resolve) => {
      if (c.ws.readyState === Ws.CLOSED) { resolve(); return; }
      const force = setTimeout(() => c.ws.terminate(), 2000);
      force.unref();
      c.ws.once('close', () => { clearTimeout(force); resolve(); });
      this.closeConn(c, WsClose.goingAway, 'server shutting down');
    })));
  }

  private detach(c: Conn): void {
    for (const fn of this.detachers) fn(c);
  }

  private closeToken(tokenId: string, reason: string): void {
    const entry = this.byToken.get(tokenId);
    if (!entry) return;
    for (const c of entry.conns) this.closeConn(c, WsClose.tokenInvalid, reason);
  }

  private forget(c: Conn): void {
    this.conns.delete(c);
    this.detach(c);
    const entry = this.byToken.get(c.principal.tokenId);
    if (entry) {
      entry.conns.delete(c);
      if (entry.conns.size === 0) {
        if (entry.timer) clearTimeout(entry.timer);
        this.byToken.delete(c.principal.tokenId);
      }
    }
    if (this.conns.size === 0 && this.pingTimer) { clearInterval(this.pingTimer); this.pingTimer = null; }
  }

  private armExpiry(tokenId: string, entry: TokenEntry): void {
    if (entry.expiresAtMs === null || entry.timer) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, entry.expiresAtMs - Date.now()));
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (this.byToken.get(tokenId) !== entry) return;
      if (Date.now() >= entry.expiresAtMs!) this.closeToken(tokenId, 'token expired');
      else this.armExpiry(tokenId, entry); // was longer than one timer can wait
    }, delay);
    entry.timer.unref();
  }

  private armPing(): void {
    if (this.pingTimer || this.closed || this.conns.size === 0) return;
    this.pingTimer = setInterval(() => {
      if (this.conns.size === 0) { clearInterval(this.pingTimer!); this.pingTimer = null; return; }
      for (const c of this.conns) {
        if (!c.alive) { this.report.note('ws peer did not answer a ping; dropping it', c.requestId, c.principal.label); c.ws.terminate(); continue; }
        c.alive = false;
        try { c.ws.ping(); } catch { /* closing */ }
      }
    }, this.limits.pingMs);
    this.pingTimer.unref();
  }
}

function invalidReason(entry: { expiresAtMs: number | null } | undefined): string {
  return entry?.expiresAtMs != null && entry.expiresAtMs <= Date.now() ? 'token expired' : 'token revoked';
}
