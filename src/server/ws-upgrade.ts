/**
 * The HTTP side of a WebSocket upgrade on `/api/ws`: where the bearer secret
 * comes from, and how a refused upgrade is answered (a plain HTTP error with
 * the same JSON body and headers as any other API error, then the socket is
 * closed — the connection never becomes a WebSocket).
 *
 * Credentials: `Authorization: Bearer <T>`, or the subprotocol
 * `mediagate.token.<T>` offered next to `mediagate.v1` (browsers cannot set
 * headers on a WebSocket), or — for the web remote's own page only — the
 * session cookie (the caller passes it only when the Origin is this
 * server's own; cookie-auth.ts). An explicit token wins over the cookie.
 * Never the URL: a query that carries something
 * token-like is refused outright, because it has already been written to
 * some access log or browser history on its way here.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { authorizationCount } from './auth.js';
import { HttpError } from './http-error.js';
import { sendSocketError } from './socket-error.js';
import { WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from './ws-protocol.js';

export type Credentials =
  | { kind: 'none' }
  | { kind: 'secret'; secret: string; via: 'header' | 'subprotocol' | 'cookie' }
  | { kind: 'invalid'; code: 'auth.invalid_token' | 'auth.token_in_url'; why: string };

export interface OfferedProtocols {
  /** Every protocol offered, token protocols included (never echo those). */
  all: string[];
  /** Whether `mediagate.v1` is among them. */
  hasV1: boolean;
}

/** Subprotocols offered in Sec-WebSocket-Protocol (node joins repeated headers with ", "). */
export function offeredProtocols(req: IncomingMessage): OfferedProtocols {
  const raw = req.headers['sec-websocket-protocol'];
  const all = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : [];
  return { all, hasV1: all.includes(WS_PROTOCOL) };
}

/** Query parameter names that mean "here is my token" (refused, whatever the value). */
const TOKEN_PARAMS = new Set(['token', 'access_token', 'accesstoken', 'bearer', 'auth', 'authorization', 'api_key', 'apikey', 'key']);
/** Something shaped like a mediagate secret anywhere in the query. */
const SECRET_IN_TEXT = /mgp?_[A-Za-z0-9_-]{20,}/;

function tokenInQuery(url: string | undefined): boolean {
  const q = (url ?? '').indexOf('?');
  if (q < 0) return false;
  const query = url!.slice(q + 1);
  let decoded = query;
  try { decoded = decodeURIComponent(query); } catch { /* keep raw */ }
  if (SECRET_IN_TEXT.test(decoded)) return true;
  for (const name of new URLSearchParams(query).keys()) if (TOKEN_PARAMS.has(name.toLowerCase())) return true;
  return false;
}

const BEARER = /^Bearer +([^\s,]+) *$/i;

/**
 * Find the secret the client presents (or why what it presents is refused).
 * `cookie`: the session cookie of a same-origin upgrade (undefined: none;
 * null: sent more than once).
 */
export function credentialsOf(req: IncomingMessage, offered: OfferedProtocols, cookie?: string | null): Credentials {
  if (tokenInQuery(req.url)) {
    return { kind: 'invalid', code: 'auth.token_in_url', why: 'tokens are never accepted in the URL (URLs end up in logs and history); send it in the Authorization header or as the mediagate.token.<T> subprotocol' };
  }
  const fromProtocol = offered.all.filter((p) => p.startsWith(WS_TOKEN_PROTOCOL_PREFIX)).map((p) => p.slice(WS_TOKEN_PROTOCOL_PREFIX.length));
  if (fromProtocol.length > 1) return { kind: 'invalid', code: 'auth.invalid_token', why: 'offer one mediagate.token.<T> subprotocol, not several' };
  const auth = req.headers.authorization;
  let fromHeader: string | undefined;
  if (auth !== undefined && authorizationCount(req) > 1) return { kind: 'invalid', code: 'auth.invalid_token', why: 'send exactly one Authorization header' };
  if (auth !== undefined) {
    const m = BEARER.exec(auth);
    if (!m) return { kind: 'invalid', code: 'auth.invalid_token', why: 'the Authorization header must be "Bearer <token>"' };
    fromHeader = m[1]!;
  }
  if (fromHeader !== undefined && fromProtocol.length === 1 && fromProtocol[0] !== fromHeader) {
    return { kind: 'invalid', code: 'auth.invalid_token', why: 'the Authorization header and the token subprotocol disagree; send one token' };
  }
  if (fromHeader !== undefined) return { kind: 'secret', secret: fromHeader, via: 'header' };
  if (fromProtocol.length === 1) {
    if (fromProtocol[0] === '') return { kind: 'invalid', code: 'auth.invalid_token', why: 'the token subprotocol is empty' };
    return { kind: 'secret', secret: fromProtocol[0]!, via: 'subprotocol' };
  }
  if (cookie === null) return { kind: 'invalid', code: 'auth.invalid_token', why: 'the session cookie was sent more than once' };
  if (cookie !== undefined && cookie.length > 0) return { kind: 'secret', secret: cookie, via: 'cookie' };
  return { kind: 'none' };
}

const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * What is wrong with the handshake itself (method, Upgrade, key, version),
 * as the JSON error to answer — checked before anything else, so a broken
 * handshake is never answered by the ws library's plain-text refusals.
 * null when it is a well-formed WebSocket handshake.
 */
export function handshakeProblem(req: IncomingMessage): HttpError | null {
  if (req.method !== 'GET') {
    return new HttpError(405, 'route.method_not_allowed', 'a WebSocket is opened with GET', { headers: { allow: 'GET' } });
  }
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
    return new HttpError(400, 'request.bad_upgrade', 'the Upgrade header must be "websocket"');
  }
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !WS_KEY.test(key)) {
    return new HttpError(400, 'request.bad_upgrade', 'missing or invalid Sec-WebSocket-Key header');
  }
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') {
    return new HttpError(400, 'request.bad_upgrade', 'missing or unsupported Sec-WebSocket-Version (use 13)', { headers: { 'sec-websocket-version': '13' } });
  }
  return null;
}

/** The path of the request URL, without the query. */
export function pathOf(url: string | undefined): string {
  const u = url ?? '';
  const q = u.indexOf('?');
  return q >= 0 ? u.slice(0, q) : u;
}

/**
 * Answer a refused upgrade with a JSON error (`err`: HttpError or
 * MediagateError, mapped like every other API error) and close the socket.
 * Returns the status sent.
 */
export function refuseUpgrade(socket: Duplex, err: unknown, requestId: string, tls: boolean): number {
  return sendSocketError(socket, err, requestId, tls);
}
