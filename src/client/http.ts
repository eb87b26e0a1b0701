/**
 * The HTTP side of the client: one JSON request to a `mediagate serve`.
 *
 * - Transport: Node's global fetch (cheaper to start than importing undici,
 *   which loads only when needed); undici's fetch with
 *   its own Agent only when a private CA is configured, because the global
 *   fetch has no per-request CA option. Both verify TLS certificates.
 * - The token goes only in the Authorization header, never in a URL, a log
 *   line or an error message. Redirects are never followed (the header would
 *   travel with them): a 3xx is an error that names where it pointed.
 * - Every request has one time limit covering connect, headers and body.
 * - Errors: see errors.ts.
 */
import { MediagateError, UnreachableError } from '../core/errors.js';
import { errorFromNetwork, errorFromResponse } from './errors.js';

export interface ServerTarget {
  /** Base URL of the server (may include a path prefix when behind a proxy). */
  url: URL;
  /** Bearer token; absent for the public pairing routes. */
  token?: string | undefined;
  /** PEM text of a CA to trust instead of the public ones. */
  ca?: string | undefined;
  timeoutMs: number;
  /** Remote profile name, for messages and hints. */
  profile?: string | undefined;
}

export type Query = Record<string, string | number | boolean | undefined>;

/** Largest answer read (an audit listing can be long; anything bigger is not ours). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export type FetchLike = (url: URL, init: RequestInit & { dispatcher?: unknown }) => Promise<Response>;

/** The server as the user knows it, for messages: origin plus any path prefix, never credentials. */
export function serverLabel(url: URL): string {
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** `/api/x` under the base URL's path prefix, with a query string. */
export function apiUrl(base: URL, path: string, query?: Query): URL {
  const u = new URL(base.pathname.replace(/\/+$/, '') + path, base);
  u.username = '';
  u.password = '';
  u.hash = '';
  u.search = '';
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
  return u;
}

/** One path segment, encoded (ids and labels go into paths). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

let caFetch: { ca: string; fetch: FetchLike } | undefined;

/** The fetch to use: the global one, or undici's with an Agent that trusts `ca` (PEM) instead of the public CAs. */
export async function fetchFor(ca: string | undefined): Promise<FetchLike> {
  if (!ca) return fetch as FetchLike;
  if (caFetch?.ca === ca) return caFetch.fetch;
  const { fetch: ufetch, Agent } = await import('undici');
  const dispatcher = new Agent({ connect: { ca } });
  const f: FetchLike = (url, init) => ufetch(url, { ...(init as object), dispatcher } as never) as unknown as Promise<Response>;
  caFetch = { ca, fetch: f };
  return f;
}

export class ApiClient {
  readonly target: ServerTarget;
  readonly server: string;

  constructor(target: ServerTarget) {
    this.target = target;
    this.server = serverLabel(target.url);
  }

  get<T = unknown>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T = unknown>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  put<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  delete<T = unknown>(path: string): Promise<T> {
    return this.request<T>('DELETE', path, {});
  }

  /** Send one request; the parsed JSON answer, or a MediagateError with the exit code a local run would give. */
  async request<T = unknown>(method: string, path: string, opts: { query?: Query | undefined; body?: unknown }): Promise<T> {
    const url = apiUrl(this.target.url, path, opts.query);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.target.token) headers.authorization = `Bearer ${this.target.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const doFetch = await fetchFor(this.target.ca);
    const signal = AbortSignal.timeout(this.target.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await doFetch(url, {
        method,
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        redirect: 'manual',
        signal,
      });
      text = await readCapped(res);
    } catch (e) {
      if (e instanceof MediagateError) throw e;
      throw errorFromNetwork(e, this.server, this.target.timeoutMs, this.target.profile);
    }
    if (res.status >= 300 && res.status < 400) throw this.redirectError(res);
    let body: unknown;
    try { body = text === '' ? undefined : JSON.parse(text); } catch { body = undefined; }
    if (!res.ok) {
      throw errorFromResponse({ status: res.status, body, retryAfter: res.headers.get('retry-after'), server: this.server, profile: this.target.profile });
    }
    if (res.status === 204) return undefined as T;
    if (body === undefined || body === null || typeof body !== 'object') {
      throw new UnreachableError(`${this.server} did not answer ${method} ${url.pathname} with JSON: is this URL a mediagate server?`,
        'check the URL of the remote profile', 'remote.bad_response');
    }
    return body as T;
  }

  private redirectError(res: Response): MediagateError {
    let where = 'another address';
    const loc = res.headers.get('location');
    if (loc) {
      try { const u = new URL(loc, this.target.url); where = u.origin + u.pathname; } catch { /* unparseable: keep generic */ }
    }
    return new UnreachableError(
      `${this.server} answered with a redirect (HTTP ${res.status}) to ${where}; mediagate does not follow redirects, so the token is not sent on`,
      this.target.profile ? `if that is the server's real address, point the profile there: mediagate remote add ${this.target.profile} URL --force` : 'use the final address of the server',
      'remote.redirect',
    );
  }
}

async function readCapped(res: Response): Promise<string> {
  const len = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(len) && len > MAX_BODY_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw new UnreachableError(`the server's answer is too large (${len} bytes)`, undefined, 'remote.bad_response');
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new UnreachableError(`the server's answer is too large (over ${MAX_BODY_BYTES} bytes)`, undefined, 'remote.bad_response');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
