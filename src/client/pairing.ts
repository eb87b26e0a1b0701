/**
 * Client side of pairing: trade an invite code for a device token on a
 * remote `mediagate serve`, through the documented API:
 *
 *   POST /api/auth/redeem   {code}                  → {pairingToken, expiresAt}
 *   POST /api/auth/exchange {pairingToken, device}  → {id, token, scope, label}
 *
 * Network failures and time-outs are UnreachableError (exit 6); refusals are
 * AuthError (exit 4) with the server's message. Neither the code nor any
 * token ever appears in an error message.
 */
import { AuthError, MediagateError, UnreachableError, UsageError, ExitCode } from '../core/errors.js';
import { errorFromNetwork } from './errors.js';
import { fetchFor, type FetchLike } from './http.js';
import { isLoopbackHost } from './profiles.js';

export { isLoopbackHost };

export interface PairedToken {
  id: string;
  token: string;
  scope: string;
  label: string;
}

export interface PairingClientOptions {
  timeoutMs?: number;
  /** PEM of a private CA the server's certificate chains to (`--ca FILE`). */
  ca?: string;
  /** Injected for tests; default the global fetch (undici's with `ca`). */
  fetch?: typeof fetch;
}

/** `https://host:8420/` → `https://host:8420`; refuses non-HTTP URLs and URLs with credentials. */
export function parseServerUrl(text: string): URL {
  let u: URL;
  try { u = new URL(text); } catch { throw new UsageError(`invalid --server '${text}': expected a URL like https://media.example.org or http://127.0.0.1:8420`, undefined, 'usage.invalid_url'); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`invalid --server '${text}': must be http:// or https://`, undefined, 'usage.invalid_url');
  if (u.username || u.password) throw new UsageError('--server must not contain a user name or password', undefined, 'usage.invalid_url');
  u.hash = '';
  u.search = '';
  return u;
}

async function post(base: URL, path: string, body: unknown, opts: PairingClientOptions): Promise<Record<string, unknown>> {
  const url = new URL(base.pathname.replace(/\/+$/, '') + path, base);
  const doFetch: FetchLike = (opts.fetch as FetchLike | undefined) ?? (await fetchFor(opts.ca));
  let res: Response;
  try {
    res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual', // never re-send the code to another place
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
  } catch (e) {
    throw errorFromNetwork(e, base.origin, opts.timeoutMs ?? 10_000);
  }
  if (res.status >= 300 && res.status < 400) {
    throw new UnreachableError(`${base.origin} answered with a redirect (HTTP ${res.status}); mediagate does not follow it with the invite code`,
      'give the server\'s final address with --server', 'remote.redirect');
  }
  let data: unknown;
  const text = await res.text().catch(() => '');
  try { data = text ? JSON.parse(text) : undefined; } catch { data = undefined; }
  if (!res.ok) {
    const apiErr = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    const message = apiErr?.message ? String(apiErr.message).slice(0, 300) : `the server answered HTTP ${res.status}`;
    const code = typeof apiErr?.code === 'string' ? apiErr.code : `http.${res.status}`;
    if (res.status === 404 && !apiErr) {
      throw new UnreachableError(`${base.origin} does not look like a mediagate server (HTTP 404 for ${url.pathname})`, 'check the --server URL', 'remote.not_mediagate');
    }
    if (res.status >= 500) throw new MediagateError(code, `the server failed: ${message}`, ExitCode.failure);
    throw new AuthError(message, res.status === 429 ? 'too many attempts: wait and try again' : undefined, code);
  }
  if (!data || typeof data !== 'object') {
    throw new UnreachableError(`${base.origin} did not answer with JSON`, 'check that the --server URL points at mediagate serve', 'remote.bad_response');
  }
  return data as Record<string, unknown>;
}

/** Redeem `code`, then exchange the pairing token for a token named `device`. */
export async function pairWithServer(server: URL, code: string, device: string, opts: PairingClientOptions = {}): Promise<PairedToken> {
  const r = await post(server, '/api/auth/redeem', { code }, opts);
  if (typeof r.pairingToken !== 'string') throw new UnreachableError('the server answered the redeem without a pairing token', undefined, 'remote.bad_response');
  const x = await post(server, '/api/auth/exchange', { pairingToken: r.pairingToken, device }, opts);
  if (typeof x.token !== 'string' || typeof x.id !== 'string') throw new UnreachableError('the server answered the exchange without a token', undefined, 'remote.bad_response');
  return { id: x.id, token: x.token, scope: String(x.scope ?? ''), label: String(x.label ?? device) };
}
