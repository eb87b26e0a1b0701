/**
 * CORS from an allow-list of exact origins (`scheme://host[:port]`).
 *
 * - `*` anywhere in the list, `null`, or anything that is not an http(s)
 *   origin is refused when the policy is built (at startup), with a message
 *   naming the entry. Tokens travel in `Authorization`, never cookies, so no
 *   `Access-Control-Allow-Credentials` is ever sent.
 * - An allowed Origin gets `Access-Control-Allow-Origin: <that origin>`; a
 *   disallowed one gets no CORS header at all. `Vary: Origin` is always set
 *   because the answer depends on it.
 * - Preflight (OPTIONS with Access-Control-Request-Method) is answered here:
 *   204 with the allowed methods and headers, or 403 JSON without any CORS
 *   header (so the browser blocks the real request); the caller audits the
 *   403 through `onDenied` and spends the per-address bucket first.
 * - `originAllowed` is the same check for WebSocket upgrades, where an absent
 *   Origin means a non-browser client and is allowed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError } from '../core/errors.js';
import { ErrorCode, HttpError, sendError } from './http-error.js';
import { deferHeader } from './security-headers.js';

export const CORS_ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'X-Request-ID', 'If-None-Match'] as const;
export const CORS_EXPOSED_HEADERS = ['X-Request-ID', 'Retry-After', 'ETag', 'WWW-Authenticate'] as const;
const ALLOWED_HEADERS_LOWER: ReadonlySet<string> = new Set(CORS_ALLOWED_HEADERS.map((h) => h.toLowerCase()));
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * Normalise one configured origin, or throw a ConfigError saying what is
 * wrong with it. `https://Example.COM:443/` → `https://example.com`.
 */
export function parseOrigin(entry: unknown, what = 'server.corsOrigins'): string {
  const fail = (why: string): never => {
    throw new ConfigError(`${what}: '${String(entry).slice(0, 100)}' ${why}`,
      'list exact origins such as https://home.example.net or http://192.168.1.20:8123', 'config.invalid_value');
  };
  if (typeof entry !== 'string') return fail('is not text');
  const s = entry.trim();
  if (s.includes('*')) return fail('contains a wildcard; CORS wildcards are refused because they let any web page use the API with a stolen token — list each origin');
  if (s === 'null') return fail("is refused: the 'null' origin is what sandboxed frames and local files send");
  let u: URL;
  try { u = new URL(s); } catch { return fail('is not a URL origin (scheme://host[:port])'); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return fail('must start with http:// or https://');
  if (u.username || u.password) return fail('must not contain a user name or password');
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || /[?#]/.test(s)) return fail('must be an origin only, without a path, query or fragment');
  if (!/^https?:\/\/[^/]/i.test(s)) return fail('is not a URL origin (scheme://host[:port])');
  return u.origin;
}

export class CorsPolicy {
  readonly origins: ReadonlySet<string>;
  private readonly allowMethods = CORS_ALLOWED_METHODS.join(', ');
  private readonly allowHeaders = CORS_ALLOWED_HEADERS.join(', ');
  private readonly exposeHeaders = CORS_EXPOSED_HEADERS.join(', ');

  /** Throws ConfigError (exit 5) for `*`, `null`, or any entry that is not an exact origin. */
  constructor(origins: readonly string[] = [], what = 'server.corsOrigins') {
    if (!Array.isArray(origins)) throw new ConfigError(`${what} must be a list of origins`, undefined, 'config.invalid_value');
    this.origins = new Set(origins.map((o) => parseOrigin(o, what)));
  }

  /** For WebSocket upgrades and anything else: absent Origin (non-browser) is allowed. */
  originAllowed(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    return this.origins.has(origin);
  }

  /** Set the CORS headers for an ordinary (non-preflight) request. */
  apply(req: IncomingMessage, res: ServerResponse): void {
    deferHeader(res, 'vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined || !this.origins.has(origin)) return;
    deferHeader(res, 'access-control-allow-origin', origin);
    deferHeader(res, 'access-control-expose-headers', this.exposeHeaders);
  }

  /** Is this request a CORS preflight? */
  static isPreflight(req: IncomingMessage): boolean {
    return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  }

  /**
   * Answer a preflight. Returns false (and writes nothing) when `req` is not
   * one; otherwise writes 204 or 403 and returns true. `onDenied` hears why
   * a 403 was sent (the server audits it).
   */
  handlePreflight(req: IncomingMessage, res: ServerResponse, requestId: string, onDenied?: (why: string) => void): boolean {
    if (!CorsPolicy.isPreflight(req)) return false;
    res.setHeader('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
    const origin = req.headers.origin;
    const method = String(req.headers['access-control-request-method'] ?? '').trim().toUpperCase();
    const asked = String(req.headers['access-control-request-headers'] ?? '')
      .split(',').map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0);
    let why: string | null = null;
    if (origin === undefined || !this.origins.has(origin)) why = 'this origin is not allowed to use the API';
    else if (!(CORS_ALLOWED_METHODS as readonly string[]).includes(method)) why = 'this method is not allowed across origins';
    else if (asked.some((h) => !ALLOWED_HEADERS_LOWER.has(h))) why = 'a requested header is not allowed across origins';
    if (why !== null) {
      onDenied?.(why);
      sendError(res, new HttpError(403, ErrorCode.corsDenied, why), requestId);
      return true;
    }
    res.statusCode = 204;
    res.setHeader('access-control-allow-origin', origin!);
    res.setHeader('access-control-allow-methods', this.allowMethods);
    res.setHeader('access-control-allow-headers', this.allowHeaders);
    res.setHeader('access-control-max-age', String(CORS_MAX_AGE_SECONDS));
    res.setHeader('content-length', '0');
    res.end();
    return true;
  }
}
