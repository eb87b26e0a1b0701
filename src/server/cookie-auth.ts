/**
 * The web remote's credential: the device token in a cookie, and the checks
 * that keep another web page from riding on it (CSRF).
 *
 * - The cookie (CookiePolicy): always `HttpOnly` (page script cannot read
 *   it, so an injected script cannot steal it), `SameSite=Strict` (a
 *   cross-site page's requests do not carry it), no `Domain` (this host
 *   only), and scoped to where the remote is served:
 *     - at the root: `Path=/`; over https (serve's own TLS, or an https
 *       server.publicUrl: a TLS proxy in front) `__Host-mediagate` with
 *       `Secure` — the prefix makes the browser refuse it unless it is
 *       Secure, host-only and Path=/, so a sibling subdomain or a plain-HTTP
 *       page cannot plant one; over plain HTTP `mediagate`;
 *     - on a sub-path (server.publicUrl https://host/mediagate):
 *       `Path=/mediagate/`, so other applications on the same host (other
 *       paths behind the same proxy) never receive it. `__Host-` requires
 *       Path=/, so over https the name is `__Secure-mediagate`: still only
 *       accepted with Secure (no plain-HTTP page can set or overwrite it),
 *       host-only because we never send Domain — what `__Host-` adds beyond
 *       that is the path, which here is deliberately narrower, not wider.
 *   Set only by POST /api/auth/exchange when the page asks for cookie mode;
 *   the token is then never in the JSON body.
 * - SameSite is not enough: another port or subdomain of the same host is
 *   the same "site" and its requests DO carry the cookie. So every request
 *   authenticated by the cookie must also prove it comes from the remote's
 *   own page: the custom header `X-Mediagate-CSRF: 1` (a cross-origin page
 *   can only send it after a CORS preflight, which this server refuses for
 *   that header, and a CORS request always carries its Origin) AND, when
 *   the browser sends them, an `Origin` that is this server's own and
 *   `Sec-Fetch-Site: same-origin`. Browsers leave Origin out of same-origin
 *   GETs, and send Sec-Fetch-Site only to https:// and loopback hosts — so
 *   requiring either would break the remote on a plain-HTTP LAN address;
 *   with the custom header required, a request that carries neither can
 *   only come from the page itself (or from a non-browser, which has no
 *   cookie to ride on). Anything else is a 403 before the token is looked at.
 * - This server's own origin: `scheme://Host` of the request (scheme from
 *   whether it speaks TLS itself), the address it listens on, and
 *   server.publicUrl (for a TLS reverse proxy in front). A DNS-rebinding
 *   page whose Origin matches its Host gains nothing: the browser keeps the
 *   cookie under our host name, not the attacker's.
 * - A WebSocket cannot carry a custom header: a cookie-authenticated upgrade
 *   needs an Origin that is this server's own (never absent).
 *
 * Bearer tokens are untouched by all this: a request with an Authorization
 * header is authenticated by it and its cookie is ignored.
 */
import type { IncomingMessage } from 'node:http';

export const COOKIE_NAME = 'mediagate';
/** Over https at the root: the `__Host-` prefix binds the cookie to this exact host, Secure and Path=/. */
export const TLS_COOKIE_NAME = '__Host-mediagate';
/** Over https on a sub-path (`__Host-` needs Path=/): Secure is still enforced by the prefix. */
export const TLS_SUBPATH_COOKIE_NAME = '__Secure-mediagate';
export const CSRF_HEADER = 'x-mediagate-csrf';
/** Browsers keep a cookie at most 400 days whatever it asks for. */
export const COOKIE_MAX_AGE_SECONDS = 400 * 86_400;

/** The cookie's name and attributes for this server. */
export interface CookiePolicy {
  readonly name: string;
  readonly secure: boolean;
  /** `/`, or the sub-path with a trailing slash: `/mediagate/`. */
  readonly path: string;
}

/**
 * The policy for a server that speaks TLS itself (`tls`) or not, reached at
 * `publicUrl` (server.publicUrl, optional): https through either makes the
 * cookie Secure; the public URL's path scopes it.
 */
export function cookiePolicy(tls: boolean, publicUrl?: string): CookiePolicy {
  let https = tls;
  let base = '';
  if (publicUrl) {
    try {
      const u = new URL(publicUrl);
      https ||= u.protocol === 'https:';
      base = u.pathname.replace(/\/+$/, '');
    } catch { /* not a URL: config refuses those */ }
  }
  const path = `${base}/`;
  const name = !https ? COOKIE_NAME : base === '' ? TLS_COOKIE_NAME : TLS_SUBPATH_COOKIE_NAME;
  return Object.freeze({ name, secure: https, path });
}

/**
 * The value of cookie `name` in a Cookie header. undefined: not there;
 * null: there more than once (refused: which one the browser meant cannot
 * be told, and a duplicate is what a cookie-tossing sibling would add).
 */
export function readCookie(header: string | undefined, name: string): string | null | undefined {
  if (header === undefined || header.length === 0) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    if (found !== undefined) return null;
    found = part.slice(eq + 1).trim();
  }
  return found;
}

function attributes(p: CookiePolicy): string {
  return `Path=${p.path}; HttpOnly; SameSite=Strict${p.secure ? '; Secure' : ''}`;
}

/** The Set-Cookie value that stores `token` (kept until the token expires, at most 400 days). */
export function sessionCookie(token: string, policy: CookiePolicy, opts: { expiresAt?: string | null; nowMs?: number } = {}): string {
  const now = opts.nowMs ?? Date.now();
  const expires = opts.expiresAt ? Date.parse(opts.expiresAt) : NaN;
  const maxAge = Number.isFinite(expires) ? Math.max(0, Math.min(COOKIE_MAX_AGE_SECONDS, Math.floor((expires - now) / 1000))) : COOKIE_MAX_AGE_SECONDS;
  return `${policy.name}=${token}; Max-Age=${maxAge}; ${attributes(policy)}`;
}

/** The Set-Cookie value that removes the cookie. */
export function clearedCookie(policy: CookiePolicy): string {
  return `${policy.name}=; Max-Age=0; ${attributes(policy)}`;
}

function originOf(text: string): string | null {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/** Which origins are this server's own, and the CSRF check for cookie-authenticated requests. */
export class SameOrigin {
  private readonly known = new Set<string>();

  constructor(readonly tls: boolean, urls: readonly (string | undefined)[] = []) {
    for (const u of urls) this.add(u);
  }

  /** Add the origin of `url` (the address listened on, server.publicUrl). */
  add(url: string | undefined): void {
    if (!url) return;
    const o = originOf(url);
    if (o) this.known.add(o);
  }

  /** Is `origin` (an Origin header) this server's own, for a request that came with `host`? */
  isSelf(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined || origin === 'null') return false;
    const o = originOf(origin);
    if (o === null || o !== origin.toLowerCase().replace(/\/$/, '')) return false;
    if (this.known.has(o)) return true;
    if (host === undefined || host.length === 0 || /[\s/\\@?#]/.test(host)) return false;
    return originOf(`${this.tls ? 'https' : 'http'}://${host}`) === o;
  }

  /**
   * Why a cookie-authenticated HTTP request is refused, or null when it
   * comes from this server's own page (custom header + own origin).
   */
  csrfProblem(req: IncomingMessage): string | null {
    if (req.headers[CSRF_HEADER] !== '1') return `the ${CSRF_HEADER} header is missing`;
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return `Sec-Fetch-Site is ${JSON.stringify(String(site).slice(0, 40))}`;
    const origin = req.headers.origin;
    if (origin !== undefined && !this.isSelf(origin, req.headers.host)) return `cross-origin request from ${JSON.stringify(origin.slice(0, 100))}`;
    return null;
  }

  /** The cookie of a WebSocket upgrade, only when its Origin is this server's own. */
  wsCookie(req: IncomingMessage, name: string): string | null | undefined {
    if (!this.isSelf(req.headers.origin, req.headers.host)) return undefined;
    return readCookie(req.headers.cookie, name);
  }
}
