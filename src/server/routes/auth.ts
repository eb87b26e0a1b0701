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
import { AuthError } from '../../core/errors.js';
import { clearedCookie, sessionCookie } from '../cookie-auth.js';
import { ApiError } from '../respond.js';
import { describeFailure } from '../../core/invites.js';
import { revokedTokenJson } from '../shapes.js';
import { json } from '../contract/fields.js';
import { bool, obj, str } from '../contract/json-schema.js';
import type { ApiRoute, Call } from './types.js';

const CODE_HINT = 'check the code (dashes, spaces and case do not matter) or ask for a new invite';

function lockoutNote(c: Call, locked: boolean): string | undefined {
  return locked ? 'too many failed attempts: further attempts from this address are refused for 15 minutes' : undefined;
}

async function redeem(c: Call) {
  const facts = { ip: c.ip, requestId: c.requestId, target: c.target };
  c.app.auth.assertNotLocked(facts);
  const { code } = await c.body() as { code: string };
  const r = await c.app.invites.redeemInvite(code, { ip: c.ip, requestId: c.requestId });
  if (r.ok) return { pairingToken: r.pairingToken, expiresAt: r.expiresAt };
  const f = c.app.auth.recordFailure(c.ip);
  throw new AuthError(describeFailure(r.reason), lockoutNote(c, f.locked) ?? CODE_HINT, `invite.${r.reason}`);
}

async function exchange(c: Call) {
  const facts = { ip: c.ip, requestId: c.requestId, target: c.target };
  c.app.auth.assertNotLocked(facts);
  const { pairingToken, device, cookie } = await c.body() as { pairingToken: string; device: string; cookie?: boolean };
  if (cookie === true) {
    const problem = c.app.cookies.sameOrigin.csrfProblem(c.req);
    if (problem !== null) {
      c.app.auth.deniedGated(c.actor, 'auth.csrf', facts, `cookie exchange refused: ${problem}`);
      throw new ApiError(403, 'auth.csrf', 'a cookie can only be asked for by the web remote\'s own page',
        { hint: 'open the invite link in a browser, or exchange without "cookie" to get the token in the answer' });
    }
  }
  const r = await c.app.invites.exchangePairing(pairingToken, device, { ip: c.ip, requestId: c.requestId });
  if (r.ok && cookie === true) {
    const expiresAt = c.app.tokens.get(r.id)?.expiresAt ?? null;
    c.res.setHeader('set-cookie', sessionCookie(r.token, c.app.cookies.policy, { expiresAt }));
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
  c.res.setHeader('set-cookie', clearedCookie(c.app.cookies.policy));
  return revokedTokenJson(r);
}

const LOCKED = 'too many failed attempts from this address (auth.locked, Retry-After), or the general rate limit';

export const AUTH_ROUTES: ApiRoute[] = [
  {
    method: 'POST', path: '/api/auth/redeem', scope: 'public', handler: redeem,
    contract: {
      summary: 'Redeem an invite code for a single-use pairing token (10 minutes)',
      request: { body: { schema: obj({ code: str(64, 'the invite code: dashes, spaces and case do not matter') }, ['code']) } },
      answers: { 200: json('Redeemed') },
      errors: { 401: 'the code is wrong, expired, used up, revoked or superseded (invite.*)', 429: LOCKED },
    },
  },
  {
    method: 'POST', path: '/api/auth/exchange', scope: 'public', handler: exchange,
    contract: {
      summary: 'Exchange a pairing token for a device token of the invite\'s scope',
      description: 'With `cookie: true` (the web remote\'s own page only: X-Mediagate-CSRF header and this server\'s Origin) the token is set as an HttpOnly, SameSite=Strict cookie and left out of the answer.',
      request: {
        body: {
          schema: obj({
            pairingToken: str(128, 'from POST /api/auth/redeem'),
            device: str(256, 'the device\'s name, shown in `token list`'),
            cookie: bool('set the token as the web remote\'s cookie instead of answering it'),
          }, ['pairingToken', 'device']),
        },
      },
      answers: { 200: json('Exchanged') },
      errors: { 401: 'the pairing token is wrong, used or expired (pairing.*)', 403: 'a cookie asked for by another page (auth.csrf)', 429: LOCKED },
    },
  },
  {
    method: 'GET', path: '/api/auth/whoami', scope: 'read', handler: whoami,
    contract: { summary: 'The calling token', answers: { 200: json('WhoAmI') } },
  },
  {
    method: 'POST', path: '/api/auth/logout', scope: 'read', handler: logout,
    contract: { summary: 'Revoke the calling token (and clear the web remote\'s cookie)', answers: { 200: json('RevokedToken') } },
  },
];
