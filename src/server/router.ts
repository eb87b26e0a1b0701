/**
 * The route table. Every route declares its method, a path pattern with
 * `{param}` segments, the scope it needs ('public' | 'read' | 'control' |
 * 'admin') and its handler; a route without a valid scope cannot be built
 * (the constructor throws), so none can be forgotten.
 *
 * Paths are checked, never "repaired": encoded slashes or backslashes
 * (%2F, %5C), NUL (raw or %00), any backslash, control characters, dot
 * segments (`.`, `..`, raw or percent-encoded), empty segments (`//`) and
 * malformed percent-encoding are a 400 — the router does not resolve them
 * into some other path that a check further on might not expect.
 *
 * Matching: literal routes by one Map lookup; patterned routes in order of
 * specificity (more literal segments first). Unknown path → 404; known path,
 * other method → 405 with `Allow`. HEAD is answered by GET routes.
 */
import { type Scope, isScope } from '../core/scopes.js';
import { ErrorCode, HttpError } from './http-error.js';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
export type RouteScope = 'public' | Scope;
export const MAX_PATH_LENGTH = 2048;

export interface Route<H = unknown> {
  readonly method: HttpMethod;
  /** `/api/scripts/{name}/run`: literal segments and whole-segment `{params}`. */
  readonly path: string;
  /** Who may call it; checked by the assembly before the handler runs. */
  readonly scope: RouteScope;
  readonly handler: H;
  /** A long-lived answer (stream, download): the 30 s request timeout does not apply. */
  readonly stream?: boolean;
}

export interface RouteFound<H> {
  kind: 'found';
  route: Route<H>;
  /** Decoded `{param}` values. */
  params: Record<string, string>;
  /** The decoded path. */
  path: string;
  /** The query string, parsed on first use. */
  readonly query: URLSearchParams;
}

export type RouteMatch<H> =
  | RouteFound<H>
  | { kind: 'not_found'; path: string }
  | { kind: 'method_not_allowed'; path: string; allow: string }
  | { kind: 'bad_path'; error: HttpError };

/** Table row for documentation and the "every route has a scope" test. */
export interface RouteInfo {
  method: HttpMethod;
  path: string;
  scope: RouteScope;
  stream: boolean;
}

export function isRouteScope(value: unknown): value is RouteScope {
  return value === 'public' || isScope(value);
}

interface Compiled<H> {
  route: Route<H>;
  /** Literal text, or null for a param. */
  segments: (string | null)[];
  params: string[];
  literals: number;
}

const PARAM_RE = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const LITERAL_RE = /^[A-Za-z0-9._~-]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const ENCODED_SEPARATOR_RE = /%(2f|5c|00)/i;

function badPath(why: string): { kind: 'bad_path'; error: HttpError } {
  return { kind: 'bad_path', error: new HttpError(400, ErrorCode.badPath, `the request path was refused: ${why}`) };
}

/**
 * Split and decode a request path. Returns the decoded segments, or an
 * error — never a "cleaned up" path.
 */
export function parsePath(rawPath: string): { ok: true; segments: string[] } | { ok: false; error: HttpError } {
  if (rawPath.length > MAX_PATH_LENGTH) return { ok: false, error: new HttpError(414, ErrorCode.uriTooLong, `the request path is longer than ${MAX_PATH_LENGTH} characters`) };
  if (rawPath[0] !== '/') return { ok: false, error: badPath('it must start with /').error };
  if (rawPath.includes('\\')) return { ok: false, error: badPath('it contains a backslash').error };
  if (CONTROL_RE.test(rawPath)) return { ok: false, error: badPath('it contains a control character').error };
  if (rawPath.includes('#')) return { ok: false, error: badPath('it contains a fragment').error };
  if (ENCODED_SEPARATOR_RE.test(rawPath)) return { ok: false, error: badPath('it contains an encoded slash, backslash or NUL').error };
  if (rawPath === '/') return { ok: true, segments: [] };
  const raw = rawPath.slice(1).split('/');
  const segments: string[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    let seg = raw[i]!;
    if (seg === '') {
      if (i === raw.length - 1) { segments[i] = ''; continue; } // trailing slash: matches nothing → 404
      return { ok: false, error: badPath('it contains an empty segment (//)').error };
    }
    if (seg.includes('%')) {
      try { seg = decodeURIComponent(seg); } catch { return { ok: false, error: badPath('it contains malformed percent-encoding').error }; }
      if (CONTROL_RE.test(seg)) return { ok: false, error: badPath('it contains a control character').error };
    }
    if (seg === '.' || seg === '..') return { ok: false, error: badPath('it contains a dot segment').error };
    segments[i] = seg;
  }
  return { ok: true, segments };
}

function compile<H>(route: Route<H>, index: number): Compiled<H> {
  const where = `route #${index + 1} (${String(route?.method)} ${String(route?.path)})`;
  if (!route || typeof route !== 'object') throw new TypeError(`${where}: not a route`);
  if (!(HTTP_METHODS as readonly string[]).includes(route.method)) throw new TypeError(`${where}: unknown method`);
  if (!isRouteScope(route.scope)) {
    throw new TypeError(`${where}: every route must declare scope 'public', 'read', 'control' or 'admin' (got ${JSON.stringify(route.scope)})`);
  }
  if (route.handler === undefined || route.handler === null) throw new TypeError(`${where}: no handler`);
  if (typeof route.path !== 'string' || route.path[0] !== '/') throw new TypeError(`${where}: path must start with /`);
  const parts = route.path === '/' ? [] : route.path.slice(1).split('/');
  const segments: (string | null)[] = [];
  const params: string[] = [];
  let literals = 0;
  for (const p of parts) {
    const m = PARAM_RE.exec(p);
    if (m) {
      if (params.includes(m[1]!)) throw new TypeError(`${where}: parameter {${m[1]}} appears twice`);
      params.push(m[1]!);
      segments.push(null);
    } else if (LITERAL_RE.test(p) && p !== '.' && p !== '..') {
      segments.push(p);
      literals++;
    } else {
      throw new TypeError(`${where}: invalid path segment '${p}'`);
    }
  }
  return { route, segments, params, literals };
}

/** The shape two patterns share when they would match the same paths. */
function shapeOf(c: { segments: (string | null)[] }): string {
  return c.segments.map((s) => (s === null ? '{}' : s)).join('/');
}

class Found<H> implements RouteFound<H> {
  readonly kind = 'found' as const;
  private parsedQuery: URLSearchParams | null = null;
  constructor(readonly route: Route<H>, readonly params: Record<string, string>, readonly path: string, private readonly rawQuery: string) {}
  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.rawQuery));
  }
}

function found<H>(route: Route<H>, params: Record<string, string>, path: string, rawQuery: string): RouteFound<H> {
  return new Found(route, params, path, rawQuery);
}

export class Router<H = unknown> {
  readonly routes: readonly Route<H>[];
  /** path → method → route, for patterns without params. */
  private readonly literal = new Map<string, Map<string, Route<H>>>();
  private readonly patterned: Compiled<H>[] = [];

  /** Throws TypeError for a route without a valid scope, method, path or handler, and for duplicates. */
  constructor(routes: readonly Route<H>[]) {
    if (!Array.isArray(routes)) throw new TypeError('routes must be an array');
    const seen = new Set<string>();
    const compiled: Compiled<H>[] = routes.map((r, i) => compile<H>(r, i));
    for (const c of compiled) {
      const key = `${c.route.method} ${shapeOf(c)}`;
      if (seen.has(key)) throw new TypeError(`duplicate route: ${c.route.method} ${c.route.path}`);
      seen.add(key);
      if (c.params.length === 0) {
        let byMethod = this.literal.get(c.route.path);
        if (!byMethod) this.literal.set(c.route.path, (byMethod = new Map()));
        byMethod.set(c.route.method, c.route);
      } else {
        this.patterned.push(c);
      }
    }
    this.patterned.sort((a, b) => b.literals - a.literals);
    this.routes = Object.freeze(routes.slice());
  }

  /** Every route's method, path and scope (no handlers). */
  table(): RouteInfo[] {
    return this.routes.map((r) => ({ method: r.method, path: r.path, scope: r.scope, stream: r.stream === true }));
  }

  /** Match a request line (`req.method`, `req.url`). */
  match(method: string | undefined, url: string | undefined): RouteMatch<H> {
    const u = url ?? '';
    const q = u.indexOf('?');
    const rawPath = q >= 0 ? u.slice(0, q) : u;
    const rawQuery = q >= 0 ? u.slice(q + 1) : '';
    const m = (method ?? '').toUpperCase();
    const lookup = m === 'HEAD' ? 'GET' : m;

    // Fast path: a plain literal path (no percent, no dots) is its own normal form.
    const plain = rawPath.length <= MAX_PATH_LENGTH && rawPath[0] === '/' && !/[%\\#.]|\/\/|[\u0000-\u001f\u007f]/.test(rawPath);
    if (plain) {
      const byMethod = this.literal.get(rawPath);
      if (byMethod) {
        const route = byMethod.get(lookup) ?? byMethod.get(m);
        if (route) return found(route, {}, rawPath, rawQuery);
      }
    }
    const parsed = parsePath(rawPath);
    if (!parsed.ok) return { kind: 'bad_path', error: parsed.error };
    const segs = parsed.segments;
    const path = `/${segs.join('/')}`;
    const allowed = new Set<string>();

    const byMethod = this.literal.get(path);
    if (byMethod) {
      const route = byMethod.get(lookup) ?? byMethod.get(m);
      if (route) return found(route, {}, path, rawQuery);
      for (const k of byMethod.keys()) allowed.add(k);
    }
    let hit: { route: Route<H>; params: Record<string, string> } | null = null;
    for (const c of this.patterned) {
      if (c.segments.length !== segs.length) continue;
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const want = c.segments[i];
        if (want === null ? segs[i] === '' : want !== segs[i]) { ok = false; break; }
      }
      if (!ok) continue;
      if (hit === null && (c.route.method === lookup || c.route.method === m)) {
        const params: Record<string, string> = Object.create(null) as Record<string, string>;
        let pi = 0;
        for (let i = 0; i < segs.length; i++) if (c.segments[i] === null) params[c.params[pi++]!] = segs[i]!;
        hit = { route: c.route, params };
      }
      allowed.add(c.route.method);
    }
    if (hit) return found(hit.route, hit.params, path, rawQuery);
    if (allowed.size === 0) return { kind: 'not_found', path };
    if (allowed.has('GET')) allowed.add('HEAD');
    return { kind: 'method_not_allowed', path, allow: [...allowed].sort().join(', ') };
  }
}

/** The HttpError for a match that found no handler (404, 405 with Allow, 400/414); null when found. */
export function routeError(match: RouteMatch<unknown>): HttpError | null {
  switch (match.kind) {
    case 'found': return null;
    case 'bad_path': return match.error;
    case 'not_found': return new HttpError(404, ErrorCode.notFound, 'no such API endpoint');
    case 'method_not_allowed':
      return new HttpError(405, ErrorCode.methodNotAllowed, `this endpoint does not accept that method; allowed: ${match.allow}`, { headers: { allow: match.allow } });
  }
}
