/**
 * What the WebSocket modules share: the dependencies the server hands in
 * (WsDeps), the limits, the principal of a connection, and the record kept
 * for each open socket (Conn).
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import type { AuditActor, AuditSink } from '../../core/audit/types.js';
import type { AuditQuery, AuditRecord } from '../../core/audit/log.js';
import type { Controller } from '../../core/control.js';
import type { LiveState } from '../../core/live.js';
import type { PlayerState } from '../../core/players/types.js';
import type { OpenPolicy } from '../open-policy.js';
import { errorMessage, type MessageId } from '../ws-protocol.js';

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
  /** Optional: who may open a URI and which (config server.openScope / openSchemes); without it admin, http and https. */
  openPolicy?(): OpenPolicy;
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

/** One open socket: who it is (connections.ts) and the state the other modules keep on it. */
export interface Conn {
  readonly ws: WebSocket;
  readonly key: string;
  readonly principal: WsPrincipal;
  readonly actor: AuditActor;
  readonly ip: string;
  readonly requestId: string;
  readonly openedAt: number;
  alive: boolean;
  /** dispatch.ts: refused messages in a row, commands running. */
  strikes: number;
  inFlight: number;
  closing: boolean;
  /** fanout.ts: subscribed with `player`: the name asked for, and the status message it was sent last. */
  player: string | null;
  lastStatus: Buffer | null;
  /** audit-follow.ts: a `{topic:"audit"}` subscription's follower (a promise while it starts). */
  audit: Promise<{ close(): void } | null> | null;
}

/** ws send options: a text frame from a Buffer, never compressed. */
export const TEXT = { binary: false, compress: false } as const;

export function send(c: Conn, data: Buffer | string): void {
  if (c.ws.readyState === WebSocket.OPEN) c.ws.send(data, TEXT);
}

export function sendError(c: Conn, code: string, message: string, id?: MessageId): void {
  send(c, errorMessage(code, message, id));
}
