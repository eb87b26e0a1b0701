/**
 * Pairing and the caller's own token.
 *
 * POST /api/auth/redeem and /api/auth/exchange are public (the caller has no
 * token yet) but sit behind the failure lockout: a locked-out address is
 * refused before the code is looked at, and every wrong code or pairing
 * token counts one failure. InviteStore audits each attempt itself (actor
 * anonymous, with address and request id). A wrong code answers 401 with a
 * code naming why (`invite.unknown`, `invite.expired`, `invite.used_up`…).
 *
 * Cookie mode (the web remote, cookie-auth.ts): an exchange with
 * `"cookie": true` must come from this server's own page (X-Mediagate-CSRF
 * header + own Origin, else 403 before the pairing token is looked at); the
 * device token is then set as an HttpOnly, SameSite=Strict cookie and left
 * out of the JSON. Logout clears that cookie as well as revoking the token.
 */
import { AuthError, UsageError } from '../../core/errors.js';
import { clearedCookie, sessionCookie } from '../cookie-auth.js';
import { ApiError } from '../respond.js';
import { describeFailure } from '../../core/invites.js';
import { revokedTokenJson } from '../shapes.js';
import { reqString } from './input.js';
import type { ApiRoute, Call } from './types.js';

const CODE_HINT = 'check the code (dashes, spaces and case do not matter) or ask for a new invite';

function lockoutNote(c: Call, locked: boolean): string | undefined {
  return locked ? 'too many failed attempts: further attempts from this address are refused for 15 minutes' : undefined;
}

async function redeem(c: Call) {
  const facts = { ip: c.ip, requestId: c.requestId, target: c.target };
  c.app.auth.assertNotLocked(facts);
  const body = await c.body();
  const code = reqString(body, 'code', 64);
  const r = await c.app.invites.redeemInvite(code, { ip: c.ip, requestId: c.requestId });
  if (r.ok) return { pairingToken: r.pairingToken, expiresAt: r.expiresAt };
  const f = c.app.auth.recordFailure(c.ip);
  throw new AuthError(describeFailure(r.reason), lockoutNote(c, f.locked) ?? CODE_HINT, `invite.${r.reason}`);
}

async function exchange(c: Call) {
  const facts = { ip: c.ip, requestId: c.requestId, target: c.target };
  c.app.auth.assertNotLocked(facts);
  const body = await c.body();
  const cookie = body.cookie;
  if (cookie !== undefined && typeof cookie !== 'boolean') throw new UsageError("invalid field 'cookie': must be true or false", undefined, 'usage.invalid_field');
  if (cookie === true) {
    const problem = c.app.cookies.sameOrigin.csrfProblem(c.req);
    if (problem !== null) {
      c.app.auth.deniedGated(c.actor, 'auth.csrf', facts, `cookie exchange refused: ${problem}`);
      throw new ApiError(403, 'auth.csrf', 'a cookie can only be asked for by the web remote\'s own page',
        { hint: 'open the invite link in a browser, or exchange without "cookie" to get the token in the answer' });
    }
  }
  const pairingToken = reqString(body, 'pairingToken', 128);
  const device = reqString(body, 'device', 256);
  const r = await c.app.invites.exchangePairing(pairingToken, device, { ip: c.ip, requestId: c.requestId });
  if (r.ok && cookie === true) {
    const expiresAt = c.app.tokens.get(r.id)?.expiresAt ?? null;
    c.res.setHeader('set-cookie', sessionCookie(r.token, { tls: c.app.cookies.tls, expiresAt }));
    return { id: r.id, scope: r.scope, label: r.label, cookie: true };
  }
  if (r.ok) return { id: r.id, token: r.token, scope: r.scope, label: r.label };
  const f = c.app.auth.recordFailure(c.ip);
  throw new AuthError(describeFailure(r.reason), lockoutNote(c, f.locked) ?? 'redeem the invite code again for a fresh pairing token', `pairing.${r.reason}`);
}

function whoami(c: Call) {
  const p = c.principal!;
  return { id: p.id, label: p.label, scope: p.scope, expiresAt: p.expiresAt };
}

/** Revoke the calling token (any scope may give up its own token). Same JSON as `token revoke --json`. */
async function logout(c: Call) {
  const r = await c.app.tokens.revoke(c.principal!.id, c.auditContext());
  c.app.auth.tokensChanged();
  c.res.setHeader('set-cookie', clearedCookie(c.app.cookies.tls));
  return revokedTokenJson(r);
}

export const AUTH_ROUTES: ApiRoute[] = [
  { method: 'POST', path: '/api/auth/redeem', scope: 'public', handler: redeem },
  { method: 'POST', path: '/api/auth/exchange', scope: 'public', handler: exchange },
  { method: 'GET', path: '/api/auth/whoami', scope: 'read', handler: whoami },
  { method: 'POST', path: '/api/auth/logout', scope: 'read', handler: logout },
];
