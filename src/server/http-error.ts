/**
 * JSON error answers: one shape, one place that decides the status.
 *
 *   {"error":{"code":"auth.invalid_token","message":"…","requestId":"…"}}
 *
 * `toErrorResponse(err)` turns anything thrown by a handler or the middleware
 * into {status, code, message, headers}; `sendError` writes it. Messages are
 * sanitised: one line, no stack, no absolute filesystem path, at most 300
 * characters. Unknown errors (not HttpError, not MediagateError) become a
 * generic 500; the assembly logs the original with the request id.
 *
 * MediagateError (src/core/errors.ts) → HTTP, by exit code then by code:
 *
 * | exit | code                                                    | status | notes                          |
 * |------|---------------------------------------------------------|--------|--------------------------------|
 * | 2    | `*.not_found` (token.not_found, invite.not_found, …)   | 404    |                                |
 * | 2    | `*.revoked` `*.expired` `*.used_up` `*.superseded`      | 409    | valid request, wrong state     |
 * | 2    | `request.*` (malformed request)                         | 400    |                                |
 * | 2    | any other `usage.*` (well-formed but invalid value)     | 422    |                                |
 * | 3    | `*.not_found` (player.not_found)                        | 404    |                                |
 * | 3    | `player.unsupported` `player.unsupported_scheme` `player.not_applied` `player.open_failed` | 409 | player cannot (or did not) do it |
 * | 3    | `player.ignored`                                        | 404    | as if it were not there        |
 * | 3    | any other (unavailable, backend.timeout, volume.*, …)   | 503    | Retry-After: 5                 |
 * | 4    | `auth.locked` `auth.rate_limited`                       | 429    | Retry-After                    |
 * | 4    | `auth.forbidden` `auth.insufficient_scope` `auth.denied` `auth.origin_denied` | 403 |              |
 * | 4    | any other (`auth.invalid_token`, `auth.missing_token`…) | 401    | WWW-Authenticate: Bearer       |
 * | 5    | `state.locked` (cross-process lock busy)                | 503    | Retry-After: 1                 |
 * | 5    | any other config/state/secret problem                   | 503    | generic message, Retry-After: 5 |
 * | 6    | remote.*                                                | 503    | Retry-After: 5                 |
 * | 1    | any                                                     | 500    | its code, sanitised message    |
 * | —    | HttpError                                               | its own status/code/headers (401 gets WWW-Authenticate if it has none) |
 * | —    | anything else                                           | 500    | `server.internal`, generic text |
 *
 * Exit 5 never becomes a 500 with details: the server's own configuration is
 * not the caller's business; the message says to look at the server log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExitCode, isMediagateError, type MediagateError } from '../core/errors.js';
import { SecureServerResponse } from './security-headers.js';
import { closeAfterAnswer } from './linger.js';

function hasSecurityDefaults(res: ServerResponse): boolean {
  return res instanceof SecureServerResponse;
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The codes the middleware itself produces (handlers add their own). */
export const ErrorCode = {
  badPath: 'request.bad_path',
  uriTooLong: 'request.uri_too_long',
  bodyRequired: 'request.body_required',
  bodyTooLarge: 'request.body_too_large',
  unsupportedMediaType: 'request.unsupported_media_type',
  invalidJson: 'request.invalid_json',
  tooDeep: 'request.too_deep',
  notAnObject: 'request.not_an_object',
  aborted: 'request.aborted',
  timeout: 'request.timeout',
  notFound: 'route.not_found',
  methodNotAllowed: 'route.method_not_allowed',
  rateLimited: 'rate_limit.exceeded',
  locked: 'auth.locked',
  corsDenied: 'cors.denied',
  internal: 'server.internal',
} as const;

export interface HttpErrorOptions {
  /** Seconds for Retry-After (429 and 503; defaulted for them when absent). */
  retryAfterSeconds?: number;
  /** Extra response headers, e.g. `Allow` for 405. */
  headers?: Record<string, string>;
}

/** An error that already knows its HTTP answer. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, opts: HttpErrorOptions = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.headers = opts.headers ?? {};
  }
}

export interface ErrorResponse {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
}

const STATUS_TEXT_FALLBACK = 'the server failed to handle this request; the details are in the server log';
const CONFIG_MESSAGE = 'the server cannot complete this request because of a problem with its configuration or state; the details are in the server log';
const DEFAULT_RETRY_503 = 5;
const FORBIDDEN_CODES = new Set(['auth.forbidden', 'auth.insufficient_scope', 'auth.denied', 'auth.origin_denied']);
const TOO_MANY_CODES = new Set(['auth.locked', 'auth.rate_limited']);
/** The player is there and answered, but cannot do this (or took the request and kept its old value): retrying will not help. */
const PLAYER_CONFLICT_CODES = new Set(['player.open_failed', 'player.unsupported', 'player.unsupported_scheme', 'player.not_applied']);
const STATE_CONFLICT_RE = /\.(revoked|expired|used_up|superseded)$/;
const MAX_MESSAGE = 300;

/**
 * A path written for the user to type rather than one of this machine: the
 * per-user runtime dir with the uid left to the shell (`/run/user/$(id -u)/bus`,
 * `$UID`, `${UID}`), then plain names (no `..`, no further substitution). It
 * names nothing about this machine, and redacting it would garble the hint.
 */
const PATH_TEMPLATE_RE = /^\/run\/user\/(?:\$\(id -u\)|\$UID|\$\{UID\})(?:\/(?!\.\.(?:\/|$))[\w.-]+)*$/;

/**
 * One line of user-facing text with no stack trace, no absolute filesystem
 * path (POSIX, `file://`, `~/`, Windows drive or UNC) and no token
 * (`mg_…`/`mgp_…`), control characters removed, at most 300 characters.
 * URL paths under /api/ and path templates for the user to type
 * (`/run/user/$(id -u)/bus`) stay.
 */
export function sanitizeMessage(text: unknown): string {
  let s = typeof text === 'string' ? text : String(text ?? '');
  // A stack or any multi-line detail: keep the first line only.
  const nl = s.search(/[\r\n]/);
  if (nl >= 0) s = s.slice(0, nl);
  s = s
    // A bearer or pairing token has no business in a message; never echo one.
    .replace(/\bmgp?_[A-Za-z0-9_-]{16,}/g, (m) => `${m.slice(0, m.indexOf('_') + 1)}…`)
    .replace(/file:\/\/\S*/gi, '<path>')
    .replace(/\b[A-Za-z]:[\\/][^\s'"`,;)]*/g, '<path>')
    .replace(/\\\\[^\s'"`,;)]+/g, '<path>')
    .replace(/(^|[^\w.~<>/-])~\/[^\s'"`,;)]*/g, '$1<path>')
    // A path runs to a space or punctuation, but a shell substitution in it (`$(id -u)`) is part of it.
    .replace(/(^|[^\w.:/<>-])(\/(?!api\/)(?:\$\([^()]{0,40}\)|[^\s'"`,;)])*)/g, (_m, pre: string, p: string) => {
      if (p === '/') return `${pre}/`;
      const trailing = /[:.]+$/.exec(p)?.[0] ?? ''; // "at /run/mpd.sock: refused" keeps its colon
      if (PATH_TEMPLATE_RE.test(p.slice(0, p.length - trailing.length))) return `${pre}${p}`;
      return `${pre}<path>${trailing}`;
    })
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (s.length > MAX_MESSAGE) s = `${s.slice(0, MAX_MESSAGE - 1)}…`;
  return s || 'error';
}

function retryHeader(seconds: number | undefined, fallback: number): Record<string, string> {
  const n = seconds === undefined || !Number.isFinite(seconds) ? fallback : seconds;
  return { 'retry-after': String(Math.max(1, Math.ceil(n))) };
}

function fromMediagateError(e: MediagateError): ErrorResponse {
  const code = e.code;
  const message = sanitizeMessage(e.message);
  const plain = (status: number, headers: Record<string, string> = {}): ErrorResponse => ({ status, code, message, headers });
  switch (e.exitCode) {
    case ExitCode.usage:
      if (code.endsWith('.not_found')) return plain(404);
      if (STATE_CONFLICT_RE.test(code)) return plain(409);
      if (code.startsWith('request.')) return plain(400);
      return plain(422);
    case ExitCode.noPlayer:
      if (code.endsWith('.not_found') || code === 'player.ignored') return plain(404);
      if (PLAYER_CONFLICT_CODES.has(code)) return plain(409);
      return plain(503, retryHeader(undefined, DEFAULT_RETRY_503));
    case ExitCode.auth:
      if (TOO_MANY_CODES.has(code)) return plain(429, retryHeader((e as { retryAfterSeconds?: number }).retryAfterSeconds, 60));
      if (FORBIDDEN_CODES.has(code)) return plain(403);
      return plain(401, { 'www-authenticate': 'Bearer realm="mediagate"' });
    case ExitCode.config:
      if (code === 'state.locked') return plain(503, retryHeader(1, 1));
      return { status: 503, code, message: CONFIG_MESSAGE, headers: retryHeader(undefined, DEFAULT_RETRY_503) };
    case ExitCode.unreachable:
      return plain(503, retryHeader(undefined, DEFAULT_RETRY_503));
    default:
      return plain(500);
  }
}

/** Decide the answer for anything a handler or middleware threw. */
export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof HttpError) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(err.headers)) headers[k.toLowerCase()] = v;
    if (err.status === 429) Object.assign(headers, retryHeader(err.retryAfterSeconds, 1));
    else if (err.status === 503) Object.assign(headers, retryHeader(err.retryAfterSeconds, DEFAULT_RETRY_503));
    else if (err.retryAfterSeconds !== undefined) Object.assign(headers, retryHeader(err.retryAfterSeconds, 1));
    if (err.status === 401 && headers['www-authenticate'] === undefined) headers['www-authenticate'] = 'Bearer realm="mediagate"';
    const status = Number.isInteger(err.status) && err.status >= 400 && err.status <= 599 ? err.status : 500;
    return { status, code: err.code, message: sanitizeMessage(err.message), headers };
  }
  if (isMediagateError(err)) return fromMediagateError(err);
  return { status: 500, code: ErrorCode.internal, message: STATUS_TEXT_FALLBACK, headers: {} };
}

/** The JSON text of an error body. */
export function errorBody(code: string, message: string, requestId: string): string {
  return JSON.stringify({ error: { code, message, requestId } });
}

/** Headers a handler may have set that must not survive into an error answer. */
const STALE_HEADERS = ['content-length', 'content-encoding', 'content-disposition', 'etag', 'last-modified', 'content-range', 'accept-ranges'];

/**
 * Write `err` as the JSON error answer. Headers set earlier (security
 * the end (413, early 4xx) the connection is closed instead of draining it (gently: linger.ts).
 * the end (413, early 4xx) the connection is closed instead of draining it.
 * If the headers are already out, the only honest thing left is to cut the
 * connection.
 */
export function sendError(res: ServerResponse, err: unknown, requestId: string): ErrorResponse {
  const e = toErrorResponse(err);
  if (res.headersSent || res.writableEnded) {
    if (!res.writableEnded) res.destroy();
    return e;
  }
  for (const h of STALE_HEADERS) res.removeHeader(h);
  const body = errorBody(e.code, e.message, requestId);
  res.statusCode = e.status;
  for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  res.setHeader('content-type', JSON_CONTENT_TYPE);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('content-length', Buffer.byteLength(body));
  const req = (res as ServerResponse & { req?: IncomingMessage }).req;
  if (req && req.complete === false) closeAfterAnswer(req, res);
  res.end(body);
  return e;
}

/** Write a JSON success answer (`Cache-Control: no-store` unless the handler chose otherwise, exact length). */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  // Security headers come from a SecureServerResponse (or were set earlier); this
  // is a single writeHead with a flat list — node's fast path when nothing else was set.
  if (!res.hasHeader('cache-control') && !hasSecurityDefaults(res)) res.setHeader('cache-control', 'no-store');
  res.writeHead(status, ['content-type', JSON_CONTENT_TYPE, 'content-length', String(Buffer.byteLength(body))]);
  res.end(body);
}
