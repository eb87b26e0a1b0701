/**
 * WebSocket `/api/ws`: authenticated, pushed player status and volume, and
 * control commands. Mounted on the HTTP server by `attachWebSocket`.
 *
 * Upgrade (before anything becomes a WebSocket, in this order):
 *   path must be exactly /api/ws (other paths: left to other upgrade
 *   listeners, else 404) → optional per-IP rate limit (429, audited) → Origin against
 *   the allow-list or this server's own origin (absent = non-browser =
 *   allowed; else 403, audited) →
 *   failure lockout (429, asked BEFORE any secret is verified, so the right
 *   token is refused too) → credentials (Authorization: Bearer, or the
 *   `mediagate.token.<T>` subprotocol next to `mediagate.v1`, or the web
 *   remote's session cookie when the Origin is this server's own; never the URL)
 *   → authenticate (401, audited, counted as a failure — a wrong or
 *   malformed credential only: an upgrade with no credential at all tried no
 *   secret and is not counted, as over HTTP). A token-like query
 *   parameter (?token=, ?access_token=, an `mg_…` value) is refused with 401
 *   even next to a valid header: that secret has already leaked into a
 *   URL. A pairing token (`mgp_…`) is never a bearer token. The server answers
 *   the subprotocol `mediagate.v1` — never the token protocol. A client that
 *   offers subprotocols must offer `mediagate.v1` (400 otherwise).
 *
 * Messages: see ws-protocol.ts. Bad messages get an `error` message and the
 * socket stays open. Limits and what happens past them:
 *   - frames over 64 KiB: ws closes with 1009 (message too big);
 *   - invalid UTF-8 in a text frame: ws closes with 1007;
 *   - more than 20 messages/s (burst 40): each extra message gets a
 *     `rate_limit.exceeded` error; 20 refused in a row (no allowed message in
 *     between) closes with 1008 "message rate limit exceeded";
 *   - more than 8 commands waiting on players at once: `rate_limit.busy`.
 *
 * Push: LiveState's 'status' and 'volume' events are serialised ONCE into a
 * Buffer and the same Buffer is written to every subscribed socket (no
 * per-socket JSON or UTF-8 encoding). Identical consecutive messages are not
 * re-sent. Slow consumers: a socket with more than 256 KiB not yet written
 * to the network is skipped, and the newest message of each kind is kept for
 * it; a 1 s timer (armed only while some socket lags) delivers those once it
 * has drained — status and volume are whole states, so only the newest one
 * matters — and closes it with 1008 when it has not drained for 10 s (the
 * close frame queues behind the unsent data, so the TCP connection is cut
 * 1 s later; the peer usually sees 1006).
 *
 * Revocation and expiry: on every onTokensChanged, each connected token is
 * re-checked with stillValid; an invalid one has its sockets closed with
 * 4401 and the reason "token revoked" (or "token expired"). A token with a
 * known expiry also gets one timer at that moment. Every command re-checks
 * the token first. No periodic timer runs except the keep-alive ping, once
 * every 30 s while sockets are open (a peer that did not answer the previous
 * ping is dropped).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { AuditActor, AuditOutcome, AuditSink } from '../core/audit/types.js';
import type { Controller } from '../core/control.js';
import { MediagateError } from '../core/errors.js';
import type { LiveSnapshot, LiveState, VolumeState } from '../core/live.js';
import type { AuditQuery, AuditRecord } from '../core/audit/log.js';
import { parseSince } from '../core/audit/since.js';
import { nameMatches, pickActive } from '../core/players/select.js';
import type { PlayerState } from '../core/players/types.js';
import { scopeAllows } from '../core/scopes.js';
import { HttpError, sanitizeMessage } from './http-error.js';
import { noteLine, requestLine } from './log.js';
import { RateLimiter } from './rate-limit.js';
import { requestIdFrom } from './request-id.js';
import {
  AUDIT_BACKLOG_MAX, type AuditFilter, type Command, commandAuditAction, commandDetail, errorMessage, type MessageId, parseCommand, parseEnvelope,
  resultMessage, WS_PROTOCOL, WsErrorCode, WsProtocolError,
} from './ws-protocol.js';
import { credentialsOf, handshakeProblem, offeredProtocols, pathOf, refuseUpgrade } from './ws-upgrade.js';

export { WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX, WsErrorCode } from './ws-protocol.js';

export const WS_PATH = '/api/ws';
/** Largest frame accepted (ws closes with 1009 beyond it). */
export const WS_MAX_PAYLOAD = 64 * 1024;
/** Close codes used here (1001 going away, 1008 policy, 1009 too big come from the RFC). */
export const WsClose = { goingAway: 1001, policy: 1008, tooBig: 1009, tokenInvalid: 4401 } as const;

export interface WsPrincipal {
  tokenId: string;
  label: string;
  scope: 'read' | 'control' | 'admin';
  /** ISO time the token expires, when it does: its sockets are closed then (optional). */
  expiresAt?: string | null;
}

export interface WsDeps {
  /** Resolve a bearer secret (from the Authorization header or the `mediagate.token.<T>` subprotocol) → principal or null. */
  authenticate(secret: string, ip: string): WsPrincipal | null;
  /** true while that token is still valid (not revoked/expired). */
  stillValid(tokenId: string): boolean;
  /** Subscribe to token store changes (the app drives it); returns unsubscribe. */
  onTokensChanged(listener: () => void): () => void;
  /** The CORS allow-list, or this server's own origin (judged with the request's Host). */
  originAllowed(origin: string | undefined, req?: IncomingMessage): boolean;
  /** Optional: the session cookie of an upgrade whose Origin is this server's own (undefined otherwise; null: sent twice). */
  cookieSecret?(req: IncomingMessage): string | null | undefined;
  clientIp(req: IncomingMessage): string;
  isLocked(ip: string): boolean; // failure lockout: refuse before verifying
  /** Optional: seconds the lock of `ip` still lasts (the 429's Retry-After; 60 without it). */
  lockRetryAfter?(ip: string): number;
  /** Count a failed verification (a wrong or malformed credential; never a missing one). */
  recordFailure(ip: string): void;
  /**
   * Optional: audit a refusal that nothing else bounds (no credential, token
   * in the URL, rate limit, lockout, foreign Origin) through the server's
   * denial gate. Without it those are appended to `audit` directly.
   */
  auditDenied?(actor: AuditActor, action: string, ip: string, requestId: string, target: string, detail?: string): void;
  live: LiveState; // snapshot() + 'status'/'volume' events
  controller: Controller;
  audit: AuditSink;
  statusJson(s: PlayerState): unknown; // same shape as GET /api/status
  /** Optional: follow the audit log (`{topic:"audit"}` subscriptions; see core/audit followAudit). */
  followAudit?(q: AuditQuery, onEvent: (r: AuditRecord) => void, opts: { backlog: number; onError: (e: Error) => void }): Promise<{ close(): void }>;
  /** One finished line of the request log (log.ts requestLine / noteLine shape, no newline). */
  log(line: string): void;
  /** Optional: the general per-IP bucket (e.g. `(ip) => limiter.check(rateLimitKey(ip))`); upgrades spend it too. */
  rateLimit?(ip: string): { allowed: boolean; retryAfterSeconds: number };
  /** Optional: the server speaks TLS itself (refusals then carry HSTS like every other answer). */
  tls?: boolean;
  /** Optional limits (defaults in WS_DEFAULTS). */
  limits?: Partial<WsLimits>;
}

export interface WsLimits {
  /** Messages per second per socket, and the burst allowed. */
  messagesPerSecond: number;
  messageBurst: number;
  /** Refused messages in a row before the socket is closed (1008). */
  maxStrikes: number;
  /** Commands in flight per socket. */
  maxInFlight: number;
  /** Bytes queued for a socket above which pushes are held back for it. */
  slowBytes: number;
  /** A socket held back this long is closed (1008). */
  slowCloseMs: number;
  /** Keep-alive ping interval (a peer silent for two intervals is dropped). */
  pingMs: number;
  /** Open sockets at most (503 on the upgrade beyond). */
  maxConnections: number;
}

export const WS_DEFAULTS: Readonly<WsLimits> = Object.freeze({
  messagesPerSecond: 20,
  messageBurst: 40,
  maxStrikes: 20,
  maxInFlight: 8,
  slowBytes: 256 * 1024,
  slowCloseMs: 10_000,
  pingMs: 30_000,
  maxConnections: 10_000,
});

interface Conn {
  readonly ws: WebSocket;
  readonly key: string;
  readonly principal: WsPrincipal;
  readonly actor: AuditActor;
  readonly ip: string;
  readonly requestId: string;
  readonly openedAt: number;
  alive: boolean;
  strikes: number;
  inFlight: number;
  closing: boolean;
  /** Subscribed with `player`: the name asked for, and the status message it was sent last. */
  player: string | null;
  lastStatus: Buffer | null;
  /** A `{topic:"audit"}` subscription's follower (a promise while it starts). */
  audit: Promise<{ close(): void } | null> | null;
}

/** Bytes queued for a socket above which an audit follower is stopped (its events are not whole states, so none can be skipped). */
const AUDIT_SLOW_BYTES = 4 * 1024 * 1024;

interface TokenEntry {
  conns: Set<Conn>;
  expiresAtMs: number | null;
  timer: NodeJS.Timeout | null;
}

interface Lag {
  since: number;
  status?: Buffer;
  volume?: Buffer;
}

/** ws send options: a text frame from a Buffer, never compressed. */
const TEXT = { binary: false, compress: false } as const;
const MAX_TIMER_MS = 2 ** 31 - 1;
const ANONYMOUS: AuditActor = { id: 'anonymous' };

function expiryMs(p: WsPrincipal): number | null {
  if (!p.expiresAt) return null;
  const ms = Date.parse(p.expiresAt);
  return Number.isFinite(ms) ? ms : null;
}

function volumeJson(v: VolumeState | null): unknown {
  return v ? { level: v.level, muted: v.muted, target: v.target, backend: v.backend } : null;
}

/** Mount `/api/ws` on `server`. */
export function attachWebSocket(server: Server, deps: WsDeps): { close(): Promise<void>; count(): number; refreshStatus(): void } {
  const limits: WsLimits = { ...WS_DEFAULTS, ...(deps.limits ?? {}) };
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: WS_MAX_PAYLOAD,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const requestIds = new WeakMap<IncomingMessage, string>();
  wss.on('headers', (headers, req) => {
    const id = requestIds.get(req);
    if (id) headers.push(`X-Request-ID: ${id}`);
  });
  // Handshake problems ws finds itself (a malformed Sec-WebSocket-Protocol): a JSON error like every other refusal.
  wss.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) => {
    refuseUpgrade(socket, new HttpError(400, 'request.bad_upgrade', sanitizeMessage(err.message)), requestIds.get(req) ?? requestIdFrom(req.headers['x-request-id']), deps.tls === true);
  });

  const conns = new Set<Conn>();
  const subscribers = new Set<Conn>();
  const byToken = new Map<string, TokenEntry>();
  const lagging = new Map<Conn, Lag>();
  const limiter = new RateLimiter({ rate: limits.messagesPerSecond, burst: limits.messageBurst, name: 'ws messages', maxKeys: limits.maxConnections + 16 });
  let pending = 0; // upgrades authenticated, handshake not finished
  let nextKey = 0;
  let closed = false;
  let pingTimer: NodeJS.Timeout | null = null;
  let lagTimer: NodeJS.Timeout | null = null;

  /** A note in the request log's shape: `TIME ws … rid=ID actor="LABEL"`. */
  const log = (text: string, requestId?: string, actorLabel?: string): void => {
    try { deps.log(noteLine(text, requestId, actorLabel)); } catch { /* logging must never break a connection */ }
  };
  const denied = (actor: AuditActor, action: string, ip: string, requestId: string, detail: string): void => {
    const target = `GET ${WS_PATH}`;
    if (deps.auditDenied) {
      try { deps.auditDenied(actor, action, ip, requestId, target, detail); } catch { /* never break the upgrade */ }
    } else {
      audit(actor, action, 'denied', ip, requestId, { target, detail });
    }
  };
  const audit = (actor: AuditActor, action: string, outcome: AuditOutcome, ip: string, requestId: string, extra: { target?: string; detail?: string } = {}): void => {
    try { deps.audit.append({ actor, action, outcome, ip, requestId, ...extra }); } catch { /* a sink must not throw; never let it break us */ }
  };

  // --- serialised pushes, shared by every socket ---------------------------------
  let statusFor: PlayerState | null | undefined; // the snapshot.active the cached buffer was made from
  let statusBuf: Buffer = Buffer.alloc(0);
  let volumeFor: VolumeState | null | undefined;
  let volumeBuf: Buffer = Buffer.alloc(0);
  let lastStatusSent: Buffer | null = null;
  let lastVolumeSent: Buffer | null = null;

  const statusMessage = (active: PlayerState | null): Buffer => {
    if (active !== statusFor) {
      statusBuf = Buffer.from(JSON.stringify({ type: 'status', data: active ? deps.statusJson(active) : null }));
      statusFor = active;
    }
    return statusBuf;
  };
  const volumeMessage = (v: VolumeState | null): Buffer => {
    if (v !== volumeFor) {
      volumeBuf = Buffer.from(JSON.stringify({ type: 'volume', data: volumeJson(v) }));
      volumeFor = v;
    }
    return volumeBuf;
  };

  const send = (c: Conn, data: Buffer | string): void => {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(data, TEXT);
  };

  const broadcast = (kind: 'status' | 'volume', buf: Buffer): void => {
    const slowBytes = limits.slowBytes;
    const anyLagging = lagging.size > 0;
    for (const c of subscribers) {
      if (kind === 'status' && c.player !== null) continue; // sent its own player's status (pushPlayers)
      const ws = c.ws;
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > slowBytes) { holdBack(c, kind, buf); continue; }
      if (anyLagging) {
        const lag = lagging.get(c);
        if (lag) { // this newer one supersedes what was held back
          lag[kind] = undefined;
          if (!lag.status && !lag.volume) lagging.delete(c);
        }
      }
      ws.send(buf, TEXT);
    }
  };

  // While anyone is subscribed, lastStatusSent / lastVolumeSent are what every
  // subscriber saw last (a new subscriber is sent the current state), so an
  // event that would repeat it is skipped; with no subscribers they are reset.
  const onStatus = (snap: LiveSnapshot): void => {
    if (subscribers.size === 0) return;
    if (playerSubscribers.size > 0) pushPlayers(snap);
    const buf = statusMessage(snap.active);
    if (buf === lastStatusSent || (lastStatusSent !== null && buf.equals(lastStatusSent))) return;
    lastStatusSent = buf;
    broadcast('status', buf);
  };

  // Subscriptions for one player: each name's message is made once per event, sent where it differs from the last one sent.
  const playerSubscribers = new Set<Conn>();
  const playerStatusMessage = (snap: LiveSnapshot, name: string): Buffer => {
    const chosen = pickActive(snap.players.filter((s) => nameMatches(name, s.player))) ?? null;
    return Buffer.from(JSON.stringify({ type: 'status', data: chosen ? deps.statusJson(chosen) : null }));
  };
  function pushPlayers(snap: LiveSnapshot): void {
    const made = new Map<string, Buffer>();
    for (const c of playerSubscribers) {
      const name = c.player!;
      let buf = made.get(name);
      if (!buf) { buf = playerStatusMessage(snap, name); made.set(name, buf); }
      if (c.lastStatus !== null && buf.equals(c.lastStatus)) continue;
      c.lastStatus = buf;
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      if (c.ws.bufferedAmount > limits.slowBytes) { holdBack(c, 'status', buf); continue; }
      const lag = lagging.get(c);
      if (lag) lag.status = undefined; // this newer one supersedes what was held back
      c.ws.send(buf, TEXT);
    }
  }
  const onVolume = (v: VolumeState): void => {
    if (subscribers.size === 0) return;
    const buf = volumeMessage(v);
    if (buf === lastVolumeSent || (lastVolumeSent !== null && buf.equals(lastVolumeSent))) return;
    lastVolumeSent = buf;
    broadcast('volume', buf);
  };
  // LiveState emits from its refresh chain: a failure here must not reach it.
  const guarded = <T>(fn: (x: T) => void) => (x: T): void => {
    try { fn(x); } catch (e) { log(`ws push failed: ${sanitizeMessage((e as Error)?.message)}`); }
  };
  const onStatusEvent = guarded(onStatus);
  const onVolumeEvent = guarded(onVolume);
  deps.live.on('status', onStatusEvent);
  deps.live.on('volume', onVolumeEvent);

  // --- slow consumers ------------------------------------------------------------
  function holdBack(c: Conn, kind: 'status' | 'volume', buf: Buffer): void {
    let lag = lagging.get(c);
    if (!lag) { lag = { since: Date.now() }; lagging.set(c, lag); }
    lag[kind] = buf;
    if (!lagTimer && !closed) {
      lagTimer = setTimeout(checkLagging, 1000);
      lagTimer.unref();
    }
  }
  function checkLagging(): void {
    lagTimer = null;
    const now = Date.now();
    for (const [c, lag] of lagging) {
      if (c.ws.readyState !== WebSocket.OPEN) { lagging.delete(c); continue; }
      if (c.ws.bufferedAmount <= limits.slowBytes) {
        lagging.delete(c);
        if (lag.status) send(c, lag.status);
        if (lag.volume) send(c, lag.volume);
      } else if (now - lag.since >= limits.slowCloseMs) {
        lagging.delete(c);
        log(`ws closing a slow consumer (${c.ws.bufferedAmount} bytes unsent for ${Math.round((now - lag.since) / 1000)} s)`, c.requestId, c.principal.label);
        closeConn(c, WsClose.policy, 'too slow: messages are not being read');
        // The close frame waits behind everything unsent: do not wait for the peer's answer.
        const ws = c.ws;
        setTimeout(() => { if (ws.readyState !== WebSocket.CLOSED) ws.terminate(); }, 1000).unref();
      }
    }
    if (lagging.size > 0 && !closed) {
      lagTimer = setTimeout(checkLagging, 1000);
      lagTimer.unref();
    }
  }

  // --- keep-alive -----------------------------------------------------------------
  function armPing(): void {
    if (pingTimer || closed || conns.size === 0) return;
    pingTimer = setInterval(() => {
      if (conns.size === 0) { clearInterval(pingTimer!); pingTimer = null; return; }
      for (const c of conns) {
        if (!c.alive) { log('ws peer did not answer a ping; dropping it', c.requestId, c.principal.label); c.ws.terminate(); continue; }
        c.alive = false;
        try { c.ws.ping(); } catch { /* closing */ }
      }
    }, limits.pingMs);
    pingTimer.unref();
  }

  // --- tokens: revocation and expiry ------------------------------------------------
  function closeToken(tokenId: string, reason: string): void {
    const entry = byToken.get(tokenId);
    if (!entry) return;
    for (const c of entry.conns) closeConn(c, WsClose.tokenInvalid, reason);
  }
  function invalidReason(entry: TokenEntry | undefined): string {
    return entry?.expiresAtMs != null && entry.expiresAtMs <= Date.now() ? 'token expired' : 'token revoked';
  }
  function tokenValid(tokenId: string): boolean {
    const entry = byToken.get(tokenId);
    if (entry?.expiresAtMs != null && entry.expiresAtMs <= Date.now()) return false;
    try {
      return deps.stillValid(tokenId);
    } catch (e) {
      // Fail closed: a token we cannot check is not trusted.
      log(`ws cannot check token ${tokenId}: ${sanitizeMessage((e as Error)?.message)}`);
      return false;
    }
  }
  const onTokensChanged = (): void => {
    for (const [tokenId, entry] of byToken) {
      if (!tokenValid(tokenId)) closeToken(tokenId, invalidReason(entry));
    }
  };
  let unsubscribeTokens: (() => void) | null = deps.onTokensChanged(onTokensChanged);

  function armExpiry(tokenId: string, entry: TokenEntry): void {
    if (entry.expiresAtMs === null || entry.timer) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, entry.expiresAtMs - Date.now()));
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (byToken.get(tokenId) !== entry) return;
      if (Date.now() >= entry.expiresAtMs!) closeToken(tokenId, 'token expired');
      else armExpiry(tokenId, entry); // was longer than one timer can wait
    }, delay);
    entry.timer.unref();
  }

  // --- connections ---------------------------------------------------------------------
  function unsubscribe(c: Conn): void {
    subscribers.delete(c);
    playerSubscribers.delete(c);
    c.player = null;
    c.lastStatus = null;
    lagging.delete(c);
    if (subscribers.size === 0) { lastStatusSent = null; lastVolumeSent = null; }
  }

  function stopAudit(c: Conn): void {
    const a = c.audit;
    c.audit = null;
    if (a) void a.then((f) => f?.close(), () => undefined);
  }

  function closeConn(c: Conn, code: number, reason: string): void {
    if (c.closing) return;
    c.closing = true;
    unsubscribe(c);
    stopAudit(c);
    c.ws.close(code, reason);
  }

  function forget(c: Conn): void {
    conns.delete(c);
    unsubscribe(c);
    stopAudit(c);
    limiter.delete(c.key);
    const entry = byToken.get(c.principal.tokenId);
    if (entry) {
      entry.conns.delete(c);
      if (entry.conns.size === 0) {
        if (entry.timer) clearTimeout(entry.timer);
        byToken.delete(c.principal.tokenId);
      }
    }
    if (conns.size === 0 && pingTimer) { clearInterval(pingTimer); pingTimer = null; }
  }

  function onConnection(ws: WebSocket, principal: WsPrincipal, ip: string, requestId: string): void {
    const c: Conn = {
      ws, principal, ip, requestId,
      key: `c${++nextKey}`,
      actor: { id: `token:${principal.tokenId}`, label: principal.label },
      openedAt: Date.now(),
      alive: true, strikes: 0, inFlight: 0, closing: false, player: null, lastStatus: null, audit: null,
    };
    conns.add(c);
    let entry = byToken.get(principal.tokenId);
    if (!entry) {
      entry = { conns: new Set(), expiresAtMs: expiryMs(principal), timer: null };
      byToken.set(principal.tokenId, entry);
    }
    entry.conns.add(c);
    armExpiry(principal.tokenId, entry);
    armPing();
    ws.on('message', (data, isBinary) => onMessage(c, data, isBinary));
    ws.on('pong', () => { c.alive = true; });
    ws.on('error', (err) => { log(`ws error: ${sanitizeMessage(err.message)}`, requestId, principal.label); });
    ws.on('close', (code) => {
      forget(c);
      log(`ws closed ${code} after ${Math.round((Date.now() - c.openedAt) / 1000)} s`, requestId, principal.label);
    });
    if (closed) { closeConn(c, WsClose.goingAway, 'server shutting down'); return; }
    // Revoked between authentication and the end of the handshake?
    if (!tokenValid(principal.tokenId)) closeConn(c, WsClose.tokenInvalid, invalidReason(entry));
  }

  function sendError(c: Conn, code: string, message: string, id?: MessageId): void {
    send(c, errorMessage(code, message, id));
  }

  function onMessage(c: Conn, data: RawData, isBinary: boolean): void {
    c.alive = true;
    if (c.closing) return;
    const rate = limiter.check(c.key);
    if (!rate.allowed) {
      c.strikes++;
      if (c.strikes >= limits.maxStrikes) {
        log('ws closed for flooding', c.requestId, c.principal.label);
        closeConn(c, WsClose.policy, 'message rate limit exceeded');
        return;
      }
      sendError(c, WsErrorCode.rateLimited, `too many messages: at most ${limits.messagesPerSecond} per second (burst ${limits.messageBurst}); this one was dropped — keep going and the socket is closed`);
      return;
    }
    c.strikes = 0;
    if (isBinary) { sendError(c, WsErrorCode.binaryFrame, 'binary frames are not understood; send JSON as text frames'); return; }
    let env;
    try {
      env = parseEnvelope(Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8'));
    } catch (e) {
      const pe = e as WsProtocolError;
      sendError(c, pe.code, pe.message, pe.id);
      return;
    }
    switch (env.type) {
      case 'subscribe': {
        if (env.topic === 'audit') { subscribeAudit(c, env.filter, env.backlog, env.id); return; }
        const snap = deps.live.snapshot();
        subscribers.add(c);
        if (env.player !== undefined) {
          playerSubscribers.add(c);
          c.player = env.player;
          c.lastStatus = playerStatusMessage(snap, env.player);
          send(c, c.lastStatus);
        } else {
          playerSubscribers.delete(c);
          c.player = null;
          c.lastStatus = null;
          lastStatusSent = statusMessage(snap.active);
          send(c, lastStatusSent);
        }
        lastVolumeSent = volumeMessage(snap.volume);
        send(c, lastVolumeSent);
        if (env.id !== undefined) send(c, resultMessage(env.id, { subscribed: true }));
        return;
      }
      case 'unsubscribe':
        if (env.topic === 'audit') stopAudit(c); else unsubscribe(c);
        if (env.id !== undefined) send(c, resultMessage(env.id, { subscribed: false }));
        return;
      case 'command':
        void command(c, env);
    }
  }

  /** `{type:"subscribe", topic:"audit"}`: admin scope; the backlog, then every new matching event as the log is written. */
  function subscribeAudit(c: Conn, filter: AuditFilter, backlog: number, id: MessageId | undefined): void {
    if (!tokenValid(c.principal.tokenId)) {
      const entry = byToken.get(c.principal.tokenId);
      audit(c.actor, 'audit.follow', 'denied', c.ip, c.requestId, { detail: `ws ${invalidReason(entry)}` });
      closeToken(c.principal.tokenId, invalidReason(entry));
      return;
    }
    if (!scopeAllows(c.principal.scope, 'admin')) {
      audit(c.actor, 'audit.follow', 'denied', c.ip, c.requestId, { detail: `ws auth.insufficient_scope (token scope ${c.principal.scope})` });
      sendError(c, WsErrorCode.insufficientScope, `following the audit log needs the admin scope; this token has ${c.principal.scope}`, id);
      return;
    }
    if (!deps.followAudit) { sendError(c, 'feature.unavailable', 'this server cannot follow its audit log', id); return; }
    const q: AuditQuery = {};
    try {
      if (filter.since !== undefined) q.since = parseSince(filter.since);
    } catch (e) {
      sendError(c, e instanceof MediagateError ? e.code : WsErrorCode.invalidMessage, sanitizeMessage((e as Error).message), id);
      return;
    }
    if (filter.actor !== undefined) q.actor = filter.actor;
    if (filter.action !== undefined) q.action = filter.action;
    if (filter.outcome !== undefined) q.outcome = filter.outcome;
    stopAudit(c);
    const onEvent = (r: AuditRecord): void => {
      if (c.closing || c.ws.readyState !== WebSocket.OPEN) return;
      if (c.ws.bufferedAmount > AUDIT_SLOW_BYTES) {
        log(`ws ${c.requestId} closing a slow audit follower (${c.ws.bufferedAmount} bytes unsent)`);
        closeConn(c, WsClose.policy, 'too slow: audit events are not being read');
        return;
      }
      c.ws.send(JSON.stringify({ type: 'audit', data: r }), TEXT);
    };
    const started = deps.followAudit(q, onEvent, {
      backlog: Math.min(backlog, AUDIT_BACKLOG_MAX),
      onError: (e) => log(`ws ${c.requestId} audit follow: ${sanitizeMessage(e.message)}`),
    }).then((f) => {
      if (c.audit !== started) { f.close(); return null; } // unsubscribed or closed meanwhile
      if (id !== undefined) send(c, resultMessage(id, { subscribed: true, topic: 'audit' }));
      return f;
    }, (e: Error) => {
      if (c.audit === started) c.audit = null;
      log(`ws ${c.requestId} audit follow failed: ${sanitizeMessage(e?.message)}`);
      sendError(c, e instanceof MediagateError ? e.code : WsErrorCode.internal, 'the audit log cannot be followed; the details are in the server log', id);
      return null;
    });
    c.audit = started;
  }

  async function command(c: Conn, env: Extract<ReturnType<typeof parseEnvelope>, { type: 'command' }>): Promise<void> {
    const id = env.id;
    const auditAction = commandAuditAction(env.action);
    if (!tokenValid(c.principal.tokenId)) {
      const entry = byToken.get(c.principal.tokenId);
      audit(c.actor, auditAction, 'denied', c.ip, c.requestId, { detail: `ws ${invalidReason(entry)}` });
      closeToken(c.principal.tokenId, invalidReason(entry));
      return;
    }
    if (!scopeAllows(c.principal.scope, 'control')) {
      audit(c.actor, auditAction, 'denied', c.ip, c.requestId, { detail: `ws auth.insufficient_scope (token scope ${c.principal.scope})` });
      sendError(c, WsErrorCode.insufficientScope, `commands need the control scope; this token has ${c.principal.scope}`, id);
      return;
    }
    let cmd: Command;
    try {
      cmd = parseCommand(env);
    } catch (e) {
      const pe = e as WsProtocolError;
      audit(c.actor, auditAction, 'error', c.ip, c.requestId, { detail: `ws ${pe.code}` });
      sendError(c, pe.code, pe.message, pe.id);
      return;
    }
    if (c.inFlight >= limits.maxInFlight) {
      audit(c.actor, auditAction, 'denied', c.ip, c.requestId, { detail: `ws ${WsErrorCode.busy}` });
      sendError(c, WsErrorCode.busy, `too many commands still running on this socket (at most ${limits.maxInFlight}); wait for their results`, id);
      return;
    }
    const detail = commandDetail(cmd);
    c.inFlight++;
    try {
      const data = await run(cmd);
      audit(c.actor, auditAction, 'ok', c.ip, c.requestId, { target: targetOf(data), ...(detail ? { detail } : {}) });
      send(c, resultMessage(id, data));
    } catch (e) {
      if (e instanceof MediagateError) {
        audit(c.actor, auditAction, 'error', c.ip, c.requestId, { detail: `${e.code}${detail ? ` ${detail}` : ''}` });
        sendError(c, e.code, sanitizeMessage(e.message), id);
      } else {
        log(`ws command ${cmd.action} failed: ${sanitizeMessage((e as Error)?.message)}`, c.requestId, c.principal.label);
        audit(c.actor, auditAction, 'error', c.ip, c.requestId, { detail: `${WsErrorCode.internal}${detail ? ` ${detail}` : ''}` });
        sendError(c, WsErrorCode.internal, 'the command failed; the details are in the server log', id);
      }
    } finally {
      c.inFlight--;
    }
  }

  function targetOf(data: Record<string, unknown>): string | undefined {
    if (typeof data.player === 'string') return data.player;
    if (typeof data.target === 'string' && typeof data.backend === 'string') return `${data.target}:${data.backend}`;
    return undefined;
  }

  async function run(cmd: Command): Promise<Record<string, unknown>> {
    const ctl = deps.controller;
    switch (cmd.action) {
      case 'seek': {
        const r = await ctl.seek(cmd.target, cmd.player);
        return { player: r.player, action: 'seek', position: r.position };
      }
      case 'volume': {
        const v = await ctl.volume(cmd.request, cmd.target, cmd.player);
        return { level: v.level, muted: v.muted, target: v.target, backend: v.backend };
      }
      default: {
        const r = await ctl.act(cmd.action, cmd.player);
        return { player: r.player, action: cmd.action };
      }
    }
  }

  // --- the upgrade ---------------------------------------------------------------------
  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (pathOf(req.url) !== WS_PATH) {
      if (server.listenerCount('upgrade') > 1) return; // someone else's
      socket.on('error', () => {});
      refuseUpgrade(socket, new HttpError(404, 'route.not_found', 'no such WebSocket endpoint; use /api/ws'), requestIdFrom(req.headers['x-request-id']), deps.tls === true);
      return;
    }
    const started = performance.now();
    socket.on('error', () => {});
    const requestId = requestIdFrom(req.headers['x-request-id']);
    let ip = '';
    // The same line as any request (log.ts), never the query (tokens may sit there).
    const finish = (status: number, actor: string | undefined): void => {
      try { deps.log(requestLine('GET', WS_PATH, status, performance.now() - started, requestId, actor)); } catch { /* never break the upgrade */ }
    };
    const refuse = (err: unknown): void => {
      finish(refuseUpgrade(socket, err, requestId, deps.tls === true), undefined);
    };
    try {
      ip = deps.clientIp(req);
      const malformed = handshakeProblem(req);
      if (malformed) return refuse(malformed);
      if (closed) return refuse(new HttpError(503, 'server.shutting_down', 'the server is shutting down', { retryAfterSeconds: 5 }));
      if (deps.rateLimit) {
        const r = deps.rateLimit(ip);
        if (!r.allowed) {
          denied(ANONYMOUS, 'rate_limit.exceeded', ip, requestId, 'ws upgrade over the per-address request limit');
          return refuse(new HttpError(429, WsErrorCode.rateLimited, 'too many requests; slow down', { retryAfterSeconds: r.retryAfterSeconds }));
        }
      }
      const origin = req.headers.origin;
      if (!deps.originAllowed(origin, req)) {
        denied(ANONYMOUS, 'ws.connect', ip, requestId, `auth.origin_denied origin ${JSON.stringify(String(origin).slice(0, 100))}`);
        return refuse(new HttpError(403, 'auth.origin_denied', 'this Origin is not allowed to open a WebSocket here; add it to server.corsOrigins'));
      }
      if (deps.isLocked(ip)) {
        denied(ANONYMOUS, 'auth.locked', ip, requestId, 'ws upgrade: address locked out after repeated failures');
        const retryAfterSeconds = Math.max(1, Math.ceil(deps.lockRetryAfter?.(ip) ?? 60));
        return refuse(new HttpError(429, 'auth.locked', 'too many failed attempts from this address; try again later', { retryAfterSeconds }));
      }
      const offered = offeredProtocols(req);
      if (offered.all.length > 0 && !offered.hasV1) {
        return refuse(new HttpError(400, 'request.unsupported_protocol', `offer the subprotocol ${WS_PROTOCOL}`));
      }
      const cred = credentialsOf(req, offered, deps.cookieSecret?.(req));
      if (cred.kind !== 'secret') {
        const code = cred.kind === 'none' ? 'auth.missing_token' : cred.code;
        const message = cred.kind === 'none'
          ? 'authentication required: send "Authorization: Bearer <token>" or offer the subprotocols mediagate.v1 and mediagate.token.<token>'
          : cred.why;
        if (cred.kind === 'none' || cred.code === 'auth.token_in_url') {
          // No secret was tried here (none at all, or one refused unread because it sits in the URL):
          // not a guess, so not counted toward the lockout — as over HTTP.
          denied(ANONYMOUS, code, ip, requestId, `ws ${code}`);
        } else {
          deps.recordFailure(ip);
          audit(ANONYMOUS, 'auth.failure', 'denied', ip, requestId, { target: `GET ${WS_PATH}`, detail: `ws ${code}` });
        }
        return refuse(new HttpError(401, code, message, { headers: { 'www-authenticate': 'Bearer realm="mediagate"' } }));
      }
      const principal = deps.authenticate(cred.secret, ip);
      if (!principal) {
        deps.recordFailure(ip);
        audit(ANONYMOUS, 'auth.failure', 'denied', ip, requestId, { detail: `ws auth.invalid_token (${cred.via})` });
        return refuse(new HttpError(401, 'auth.invalid_token', 'the token is not valid (unknown, revoked or expired)', { headers: { 'www-authenticate': 'Bearer realm="mediagate", error="invalid_token"' } }));
      }
      if (conns.size + pending >= limits.maxConnections) {
        return refuse(new HttpError(503, 'server.too_many_connections', 'too many WebSocket connections; try again later', { retryAfterSeconds: 30 }));
      }
      requestIds.set(req, requestId);
      pending++;
      let done = false;
      const settle = (): void => { if (!done) { done = true; pending--; } };
      socket.once('close', settle);
      wss.handleUpgrade(req, socket, head, (ws) => {
        settle();
        finish(101, principal.label);
        onConnection(ws, principal, ip, requestId);
      });
    } catch (e) {
      log(`ws upgrade failed: ${sanitizeMessage((e as Error)?.message)}`, requestId);
      refuse(e instanceof HttpError || e instanceof MediagateError ? e : new HttpError(500, 'server.internal', 'the server failed to handle this request; the details are in the server log'));
    }
  }
  server.on('upgrade', onUpgrade);

  let closing: Promise<void> | null = null;
  return {
    count: () => conns.size,
    /** The status JSON changed without a player event (an artwork link became known): serialise and push it again. */
    refreshStatus(): void {
      if (closed) return;
      statusFor = undefined;
      onStatusEvent(deps.live.snapshot());
    },
    close(): Promise<void> {
      if (closing) return closing;
      closed = true;
      server.off('upgrade', onUpgrade);
      deps.live.off('status', onStatusEvent);
      deps.live.off('volume', onVolumeEvent);
      unsubscribeTokens?.();
      unsubscribeTokens = null;
      if (pingTimer) { clearInterval(pingTimer); pingTimer = null; }
      if (lagTimer) { clearTimeout(lagTimer); lagTimer = null; }
      for (const entry of byToken.values()) if (entry.timer) { clearTimeout(entry.timer); entry.timer = null; }
      limiter.close();
      closing = (async () => {
        const open = [...conns];
        await Promise.all(open.map((c) => new Promise<void>((resolve) => {
          if (c.ws.readyState === WebSocket.CLOSED) { resolve(); return; }
          const force = setTimeout(() => c.ws.terminate(), 2000);
          force.unref();
          c.ws.once('close', () => { clearTimeout(force); resolve(); });
          closeConn(c, WsClose.goingAway, 'server shutting down');
        })));
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      })();
      return closing;
    },
  };
}
