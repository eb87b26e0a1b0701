/**
 * Who is calling, and may they? The one place the server decides.
 *
 * - Credentials: `Authorization: Bearer <token>`, or — for the web remote
 *   only — the device token in the `mediagate` cookie (cookie-auth.ts),
 *   which counts only on requests that prove they come from the remote's
 *   own page (X-Mediagate-CSRF header + own Origin, else 403 before the
 *   token is looked at). A request with an Authorization header is judged
 *   by it alone. No query-string tokens (a token in a URL ends up in logs,
 *   histories and Referer headers: `?token=` / `?access_token=` is answered
 *   with a 401 `auth.token_in_url` that says so — even when a valid
 *   Authorization header comes with it).
 * - A locked-out address (failure-lockout.ts: 10 failures in 15 min) is
 *   refused with 429 BEFORE anything is verified, so even the right token
 *   does not get through while the lock lasts, and a guesser learns nothing.
 * - A failed verification (unknown, malformed, revoked, expired token, a
 *   pairing token `mgp_…`, a non-Bearer credential) counts one failure for
 *   the address and is audited as `auth.failure`, each one (the lockout
 *   bounds them). A request with no credential at all tried no secret: it is
 *   refused (401) and audited through the denial gate (audit-gate.ts: each
 *   one up to 30 per address, kind and minute, then one line with the
 *   count), but not counted toward the lockout.
 * - Scope: read ⊂ control ⊂ admin (core/scopes.ts). Too weak a scope is a
 *   403 `auth.insufficient_scope`, audited through the gate.
 *
 * Token resolution is TokenStore.resolveToken: one SHA-256 and one Map
 * lookup, with a stat of tokens.json at most every 250 ms, so a revocation
 * made with the CLI takes effect within ~250 ms. No fs work per request.
 * In front of it sits a small cache of recent successful resolutions (at
 * most 256, each kept 200 ms, expiry re-checked on every hit), emptied the
 * moment tokens.json changes (the app calls tokensChanged() from its
 * fs.watch) — so a busy client costs one Map lookup per request instead of
 * a hash, and a revocation is still seen at once (or, should the watch
 * fail, within 200 ms + 250 ms). The cache holds the presented secret in
 * memory for that long; nothing of it is ever written anywhere.
 */
import type { IncomingMessage } from 'node:http';
import type { AuditActor, AuditEventInput, AuditSink } from '../core/audit/types.js';
import { AuthError } from '../core/errors.js';
import { PAIRING_PREFIX } from '../core/invites.js';
import { scopeAllows, type Scope } from '../core/scopes.js';
import type { Principal, ResolveFailure, TokenStore } from '../core/tokens.js';
import type { DenialGate, GateSummary } from './audit-gate.js';
import { clearedCookie, readCookie, type CookiePolicy, type SameOrigin } from './cookie-auth.js';
import type { FailureLockout } from './failure-lockout.js';
import { ApiError } from './respond.js';

export const ANONYMOUS: AuditActor = Object.freeze({ id: 'anonymous' });

/** How a token holder appears in the audit log: `token:<id>` and its label. */
export function actorOf(p: Pick<Principal, 'id' | 'label'>): AuditActor {
  return { id: `token:${p.id}`, label: p.label };
}

/**
 * The secret of an `Authorization: Bearer <secret>` header. undefined: no
 * header; null: a header that is not a single Bearer credential.
 */
export function bearerSecret(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  if (header.length > 7 && (header.charCodeAt(6) === 32) && /^bearer$/i.test(header.slice(0, 6))) {
    const secret = header.slice(7).trim();
    if (secret.length > 0 && secret.length <= 512 && !/\s/.test(secret)) return secret;
  }
  return null;
}

/**
 * How many Authorization headers the request carries. Node keeps only the
 * first in `req.headers`; a proxy in front may pick another one, so a
 * request with two is refused rather than read one way here and another
 * way there.
 */
export function authorizationCount(req: IncomingMessage): number {
  const raw = req.rawHeaders;
  if (!raw) return req.headers.authorization === undefined ? 0 : 1; // a hand-made request object
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length === 13 && k.toLowerCase() === 'authorization') n++;
  }
  return n;
}

/** What the denial gate keeps of a refusal it only counts. */
export interface DenialContext {
  actor: AuditActor;
  action: string;
  ip: string;
  target: string;
  detail?: string | undefined;
}

/** The audit line for refusals the gate counted but did not write: the exact count, no request id. */
export function denialSummary(s: GateSummary<DenialContext>): AuditEventInput {
  const c = s.context;
  const seconds = Math.round(s.windowMs / 1000);
  return {
    actor: c.actor, action: c.action, target: c.target, outcome: 'denied', ip: c.ip,
    detail: `+${s.count} similar refusal(s) from this address within ${seconds} s (request ids not recorded)${c.detail ? `; ${c.detail}` : ''}`,
  };
}

export interface RequestFacts {
  ip: string;
  requestId: string;
  /** `METHOD /route/{pattern}` — the route, never the raw path. */
  target: string;
}

export interface AuthenticatorDeps {
  tokens: TokenStore;
  lockout: FailureLockout;
  audit: AuditSink;
  gate: DenialGate<DenialContext>;
  /** Cookie mode for the web remote: the cookie's name and this server's own origins. Absent: Bearer only. */
  cookies?: { policy: CookiePolicy; sameOrigin: SameOrigin };
}

const FAILURE_TEXT: Record<ResolveFailure, { code: string; message: string; hint?: string }> = {
  malformed: { code: 'auth.invalid_token', message: 'the bearer token is not valid' },
  unknown: { code: 'auth.invalid_token', message: 'the bearer token is not valid' },
  revoked: { code: 'auth.token_revoked', message: 'this token was revoked', hint: 'ask the server owner for a new token or an invite' },
  expired: { code: 'auth.token_expired', message: 'this token has expired', hint: 'ask the server owner for a new token or an invite' },
};

const CACHE_MS = 200;
const CACHE_MAX = 256;

export class Authenticator {
  private cache = new Map<string, { principal: Principal; until: number; expiresMs: number }>();

  constructor(private readonly d: AuthenticatorDeps) {}

  /**
   * tokens.json changed (revocation, rotation, a new token): forget every
   * cached resolution and have the store re-read the file now, so a token
   * just created with the CLI works on its first request rather than after
   * the store's next 250 ms check.
   */
  tokensChanged(): void {
    this.cache.clear();
    try { this.d.tokens.get(''); } catch { /* a broken file is reported by the next request */ }
  }

  /** resolveToken, through the short-lived cache of successes. */
  private resolve(secret: string): ReturnType<TokenStore['resolveToken']> {
    const now = Date.now();
    const hit = this.cache.get(secret);
    if (hit !== undefined) {
      if (hit.until > now && hit.expiresMs > now) return { ok: true, principal: hit.principal };
      this.cache.delete(secret);
    }
    const r = this.d.tokens.resolveToken(secret);
    if (r.ok) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      const expiresMs = r.principal.expiresAt ? Date.parse(r.principal.expiresAt) : Infinity;
      this.cache.set(secret, { principal: r.principal, until: now + CACHE_MS, expiresMs });
    }
    return r;
  }

  /**
   * Audit a denial that nothing else bounds: each one, with actor, address
   * and request id, up to the gate's budget (30 per address, kind and
   * minute); past it they are counted and one summary line is written.
   */
  deniedGated(actor: AuditActor, action: string, f: RequestFacts, detail?: string): void {
    const ctx: DenialContext = { actor, action, ip: f.ip, target: f.target, detail };
    if (!this.d.gate.check(`${f.ip}|${action}|${actor.id}`, ctx).record) return;
    this.d.audit.append({ actor, action, target: f.target, outcome: 'denied', ip: f.ip, requestId: f.requestId, detail });
  }

  /** 429 if this address is locked out; call before verifying any secret. */
  assertNotLocked(f: RequestFacts): void {
    const lock = this.d.lockout.isLocked(f.ip);
    if (!lock.locked) return;
    this.deniedGated(ANONYMOUS, 'auth.locked', f, 'address locked out after repeated failures');
    throw new ApiError(429, 'auth.locked', 'too many failed attempts from this address; try again later', {
      retryAfterSeconds: lock.retryAfterSeconds,
      hint: `every attempt from this address is refused for ${lock.retryAfterSeconds} more second(s), even with a valid token`,
    });
  }

  /** Count a failed attempt (bad token, bad invite code) for this address. */
  recordFailure(ip: string): { locked: boolean; failures: number } {
    return this.d.lockout.recordFailure(ip);
  }

  /** The caller of an authenticated route, or an error answer (401/429). */
  authenticate(req: IncomingMessage, query: URLSearchParams, f: RequestFacts): Principal {
    this.assertNotLocked(f);
    // A token in the URL is refused even next to a valid header or cookie: it has already leaked into
    // some log or history on its way here, and the answer must say so (as the WebSocket upgrade does).
    if (query.has('token') || query.has('access_token')) {
      this.deniedGated(ANONYMOUS, 'auth.token_in_url', f, 'a token was sent in the query string and ignored');
      throw new AuthError('tokens in URLs are not accepted', 'send it as the header "Authorization: Bearer <token>"; a token that was put in a URL may have been logged on the way — consider rotating it', 'auth.token_in_url');
    }
    const secret = bearerSecret(req.headers.authorization);
    if (secret === undefined && this.d.cookies) {
      const cookie = readCookie(req.headers.cookie, this.d.cookies.policy.name);
      if (cookie !== undefined) return this.authenticateCookie(req, cookie, f);
    }
    if (secret === undefined) {
      this.deniedGated(ANONYMOUS, 'auth.missing_token', f);
      throw new AuthError('this endpoint needs a token', 'send the header "Authorization: Bearer <token>"; create a token with `mediagate token create` or pair a device with an invite', 'auth.missing_token');
    }
    if (secret === null) return this.fail('malformed', f, 'not a Bearer credential');
    if (authorizationCount(req) > 1) return this.fail('malformed', f, 'more than one Authorization header');
    const r = this.resolve(secret);
    if (r.ok) return r.principal;
    if (secret.startsWith(PAIRING_PREFIX)) return this.fail(r.reason, f, 'a pairing token used as a bearer token');
    return this.fail(r.reason, f);
  }

  /**
   * The web remote's cookie: first the CSRF check (403, no secret looked
   * at, nothing counted), then the token like a bearer one. A cookie that
   * fails is cleared in the same answer, so the browser stops sending it.
   */
  private authenticateCookie(req: IncomingMessage, cookie: string | null, f: RequestFacts): Principal {
    const c = this.d.cookies!;
    const problem = c.sameOrigin.csrfProblem(req);
    if (problem !== null) {
      this.deniedGated(ANONYMOUS, 'auth.csrf', f, `cookie refused: ${problem}`);
      throw new ApiError(403, 'auth.csrf', 'a request authenticated by the web remote\'s cookie must come from the remote\'s own page', {
        hint: `send the header "X-Mediagate-CSRF: 1" from a page of this server (same Origin), or use "Authorization: Bearer <token>"`,
      });
    }
    const clear = { 'set-cookie': clearedCookie(c.policy) };
    if (cookie === null || cookie.length === 0 || cookie.length > 512) {
      this.d.audit.append({ actor: ANONYMOUS, action: 'auth.failure', target: f.target, outcome: 'denied', ip: f.ip, requestId: f.requestId, detail: 'malformed or repeated session cookie' });
      throw new ApiError(401, 'auth.invalid_token', 'the session cookie is not valid', { headers: clear, hint: 'pair this browser again with an invite link' });
    }
    const r = this.resolve(cookie);
    if (r.ok) return r.principal;
    const result = this.d.lockout.recordFailure(f.ip);
    const lockNote = result.locked ? 'address now locked out' : `failure ${result.failures} of ${this.d.lockout.maxFailures}`;
    this.d.audit.append({ actor: ANONYMOUS, action: 'auth.failure', target: f.target, outcome: 'denied', ip: f.ip, requestId: f.requestId, detail: `${r.reason} session cookie; ${lockNote}` });
    const t = FAILURE_TEXT[r.reason];
    throw new ApiError(401, t.code, t.message.replace('bearer token', 'session cookie'), { headers: clear, hint: t.hint ?? 'pair this browser again with an invite link' });
  }

  private fail(reason: ResolveFailure, f: RequestFacts, why?: string): never {
    const result = this.d.lockout.recordFailure(f.ip);
    const lockNote = result.locked ? 'address now locked out' : `failure ${result.failures} of ${this.d.lockout.maxFailures}`;
    this.d.audit.append({ actor: ANONYMOUS, action: 'auth.failure', target: f.target, outcome: 'denied', ip: f.ip, requestId: f.requestId, detail: `${why ?? `${reason} token`}; ${lockNote}` });
    if (why === 'more than one Authorization header') {
      throw new AuthError('send exactly one Authorization header', undefined, 'auth.invalid_token');
    }
    if (why?.startsWith('a pairing token')) {
      throw new AuthError('a pairing token is not an API token', 'exchange it for a token with POST /api/auth/exchange {pairingToken, device}', 'auth.invalid_token');
    }
    const t = FAILURE_TEXT[reason];
    throw new AuthError(t.message, t.hint, t.code);
  }

  /** 403 unless `p` holds `need` (read ⊂ control ⊂ admin). */
  requireScope(p: Principal, need: Scope, f: RequestFacts): void {
    if (scopeAllows(p.scope, need)) return;
    this.deniedGated(actorOf(p), 'auth.forbidden', f, `needs ${need}, token has ${p.scope}`);
    throw new AuthError(`this needs the ${need} scope; this token has ${p.scope}`,
      'scopes: read ⊂ control ⊂ admin; ask the server owner for a token with more scope', 'auth.insufficient_scope');
  }
}
