/**
 * The headers every response carries. The API answers JSON only, so the
 * content security policy forbids everything: nothing we send is meant to be
 * rendered, framed, or to load anything. HSTS is sent only over TLS — over
 * plain HTTP it is ignored by browsers and would only mislead.
 * `Cache-Control: no-store` is among them (API JSON must not be cached); a
 * handler that serves cacheable content (artwork with an ETag) sets its own.
 * The web remote's pages replace the CSP with their own (web.ts: PAGE_CSP,
 * which lets them load this server's own scripts and nothing else).
 *
 * Two ways to attach them:
 *
 * - `secureResponseClass({ tls })` — a ServerResponse subclass for
 *   `http.createServer({ ServerResponse: … })`. Every response node writes
 *   goes through `writeHead` (res.end() without it calls it too), and there
 *   the class adds the security headers plus any headers middleware deferred
 *   with `deferHeader` (X-Request-ID, CORS) — unless the handler set the same
 *   header itself, which wins. No response can leave without them, and the
 *   common case is one `writeHead(status, flatArray)`: node's fast path,
 *   without a `setHeader` call per header (measured: that alone cost more
 *   than all the middleware logic together).
 * - `applySecurityHeaders(res, { tls })` / `securityHeaders(opts)` — plain
 *   `setHeader` calls, for a response object of any class.
 */
import { type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, ServerResponse } from 'node:http';

export const CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
export const HSTS_VALUE = 'max-age=31536000';

/** [name, value] pairs, lower-case names, in the order they are sent. */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = Object.freeze([
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'no-referrer'],
  ['cross-origin-resource-policy', 'same-site'],
  ['content-security-policy', CONTENT_SECURITY_POLICY],
  ['cache-control', 'no-store'],
] as const);

export interface SecurityHeaderOptions {
  /** True when this server speaks TLS itself: adds Strict-Transport-Security. */
  tls: boolean;
}

function headerList(opts: SecurityHeaderOptions): (readonly [string, string])[] {
  return opts.tls ? [...SECURITY_HEADERS, ['strict-transport-security', HSTS_VALUE] as const] : [...SECURITY_HEADERS];
}

/** A function that sets the security headers on a response with `setHeader`. */
export function securityHeaders(opts: SecurityHeaderOptions): (res: ServerResponse) => void {
  const list = headerList(opts);
  return (res) => {
    for (let i = 0; i < list.length; i++) res.setHeader(list[i]![0], list[i]![1]);
  };
}

/** Set the security headers on `res` with `setHeader`. */
export function applySecurityHeaders(res: ServerResponse, opts: SecurityHeaderOptions): void {
  securityHeaders(opts)(res);
}

type HeaderArg = OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined;

/** Index of lower-case `name` among the even slots of a flat [name, value, …] list, or -1. */
function indexOfName(flat: readonly unknown[], name: string): number {
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i];
    if (n === name || (typeof n === 'string' && n.toLowerCase() === name)) return i;
  }
  return -1;
}

function isFlatList(h: HeaderArg): h is OutgoingHttpHeader[] {
  return Array.isArray(h) && (h.length === 0 || typeof h[0] === 'string');
}

/** Lower-case names of headers passed to writeHead. */
function givenNames(h: HeaderArg): string[] {
  if (h === undefined) return [];
  if (isFlatList(h)) {
    const out: string[] = [];
    for (let i = 0; i < h.length; i += 2) out.push(String(h[i]).toLowerCase());
    return out;
  }
  if (Array.isArray(h)) return []; // not a form node accepts; let node complain
  return Object.keys(h).map((k) => k.toLowerCase());
}

const EMPTY: readonly string[] = Object.freeze([]);

/** Does any name of flat list `a` (any case) appear in flat list `b` (lower case)? */
function overlaps(a: readonly unknown[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length; i += 2) {
    const n = a[i];
    if (typeof n === 'string' && indexOfName(b, n.toLowerCase()) >= 0) return true;
  }
  return false;
}

/** Does any name of flat list `a` (any case) belong to `names` (lower case)? */
function overlapsSet(a: readonly unknown[], names: ReadonlySet<string>): boolean {
  for (let i = 0; i < a.length; i += 2) {
    const n = a[i];
    if (typeof n === 'string' && (names.has(n) || names.has(n.toLowerCase()))) return true;
  }
  return false;
}

/** Responses made by `secureResponseClass`: they hold deferred headers until writeHead. */
export class SecureServerResponse extends ServerResponse<IncomingMessage> {
  /** Flat [name, value, …] list of security headers: on the prototype, set per class. */
  declare protected readonly securityDefaults: readonly string[];
  /** The names in securityDefaults: on the prototype too. */
  declare protected readonly securityNames: ReadonlySet<string>;
  /** Flat [name, value, …] list of headers deferred by middleware (created on first use). */
  declare private deferred: string[] | undefined;
  /** setHeader/appendHeader was called: the general path of writeHead (cheaper than asking getHeaderNames() each time). */
  declare private headersTouched: boolean | undefined;

  override setHeader(name: string, value: number | string | readonly string[]): this {
    this.headersTouched = true;
    return super.setHeader(name, value);
  }

  override appendHeader(name: string, value: string | readonly string[]): this {
    this.headersTouched = true;
    return super.appendHeader(name, value);
  }

  /** Add `name: value` when the head is written, unless the handler sets `name` itself. */
  defer(name: string, value: string): void {
    const n = name.toLowerCase();
    const list = this.deferred;
    if (list === undefined) {
      this.deferred = [n, value];
      return;
    }
    const i = indexOfName(list, n);
    if (i >= 0) list[i + 1] = value;
    else list.push(n, value);
  }

  /** A deferred header's value (before the head is written). */
  deferredHeader(name: string): string | undefined {
    const list = this.deferred;
    if (!list) return undefined;
    const i = indexOfName(list, name.toLowerCase());
    return i >= 0 ? list[i + 1] : undefined;
  }

  override writeHead(statusCode: number, statusMessage?: string, headers?: HeaderArg): this;
  override writeHead(statusCode: number, headers?: HeaderArg): this;
  override writeHead(statusCode: number, a?: string | HeaderArg, b?: HeaderArg): this {
    const reason = typeof a === 'string' ? a : undefined;
    const given = typeof a === 'string' ? b : a;
    const deferred = this.deferred ?? EMPTY;
    const defaults = this.securityDefaults;
    if ((this.headersTouched !== true || this.getHeaderNames().length === 0) && (given === undefined || isFlatList(given))) {
      // Fast path: nothing set progressively, so node takes one flat list as is.
      const g: readonly OutgoingHttpHeader[] = given ?? EMPTY;
      const names = this.securityNames;
      let out: OutgoingHttpHeader[];
      if (!overlapsSet(g, names) && !overlaps(g, deferred) && !overlapsSet(deferred, names)) {
        out = g.concat(deferred, defaults); // the usual case: no name appears twice
      } else {
        out = g.slice();
        for (let i = 0; i < deferred.length; i += 2) {
          if (indexOfName(g, deferred[i]!) < 0) out.push(deferred[i]!, deferred[i + 1]!);
        }
        for (let i = 0; i < defaults.length; i += 2) {
          const n = defaults[i]!;
          if (indexOfName(g, n) < 0 && indexOfName(deferred, n) < 0) out.push(n, defaults[i + 1]!);
        }
      }
      return reason === undefined ? super.writeHead(statusCode, out) : super.writeHead(statusCode, reason, out);
    }
    // General case: fill in what the handler did not set, then let node merge `given`.
    const names = givenNames(given);
    const fill = (n: string, v: string): void => {
      if (!names.includes(n) && !this.hasHeader(n)) this.setHeader(n, v);
    };
    for (let i = 0; i < deferred.length; i += 2) fill(deferred[i]!, deferred[i + 1]!);
    for (let i = 0; i < defaults.length; i += 2) if (indexOfName(deferred, defaults[i]!) < 0) fill(defaults[i]!, defaults[i + 1]!);
    return reason === undefined ? super.writeHead(statusCode, given) : super.writeHead(statusCode, reason, given);
  }
}

function flatList(opts: SecurityHeaderOptions): readonly string[] {
  return Object.freeze(headerList(opts).flatMap(([n, v]) => [n, v]));
}

function nameSet(opts: SecurityHeaderOptions): ReadonlySet<string> {
  return new Set(headerList(opts).map(([n]) => n));
}

Object.defineProperty(SecureServerResponse.prototype, 'securityDefaults', { value: flatList({ tls: false }) });
Object.defineProperty(SecureServerResponse.prototype, 'securityNames', { value: nameSet({ tls: false }) });

/**
 * A ServerResponse class for `http.createServer({ ServerResponse: cls })`
 * (https too) whose every response carries the security headers.
 */
export function secureResponseClass(opts: SecurityHeaderOptions): typeof SecureServerResponse {
  const cls = class extends SecureServerResponse {};
  Object.defineProperty(cls.prototype, 'securityDefaults', { value: flatList(opts) });
  Object.defineProperty(cls.prototype, 'securityNames', { value: nameSet(opts) });
  return cls;
}

/**
 * Middleware's way to add a response header: deferred to writeHead on a
 * SecureServerResponse (cheap, and a handler's own value wins), else set now.
 */
export function deferHeader(res: ServerResponse, name: string, value: string): void {
  if (res instanceof SecureServerResponse) res.defer(name, value);
  else res.setHeader(name, value);
}
