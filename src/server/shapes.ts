/**
 * The JSON the API answers, field for field the same as the CLI's `--json`
 * output for the same command (src/cli/handlers/*). The server may not import
 * the CLI (server → core only), so the shapes are written out here and a test
 * (test/serve-admin.test.js, and test/remote-admin.test.js over --remote)
 * compares both outputs key by key.
 */
import type { CreatedInvite, InviteInfo } from '../core/invites.js';
import type { CreatedToken, TokenInfo } from '../core/tokens.js';

export { statusJson, ACTION_NAME } from '../core/players/json.js';

/** `token create --json` / `token rotate --json`. */
export function createdTokenJson(c: CreatedToken) {
  return { id: c.id, token: c.token, label: c.label, scope: c.scope, createdAt: c.createdAt, expiresAt: c.expiresAt };
}

/** One row of `token list --json`. */
export function tokenInfoJson(t: TokenInfo) {
  return { id: t.id, label: t.label, scope: t.scope, createdAt: t.createdAt, expiresAt: t.expiresAt, lastSeenAt: t.lastSeenAt, status: t.status, revokedAt: t.revokedAt };
}

/** `token revoke --json`. */
export function revokedTokenJson(r: TokenInfo & { alreadyRevoked: boolean }) {
  return { id: r.id, label: r.label, scope: r.scope, status: r.status, revokedAt: r.revokedAt, alreadyRevoked: r.alreadyRevoked };
}

/** `invite create --json` / `invite rotate --json`. */
export function createdInviteJson(c: CreatedInvite) {
  return { id: c.id, code: c.code, link: c.link, label: c.label, scope: c.scope, maxUses: c.maxUses, expiresAt: c.expiresAt, superseded: c.superseded };
}

/** One row of `invite list --json`. */
export function inviteInfoJson(i: InviteInfo) {
  return { id: i.id, label: i.label, scope: i.scope, maxUses: i.maxUses, uses: i.uses, createdAt: i.createdAt, expiresAt: i.expiresAt, status: i.status, lastRedeemedAt: i.lastRedeemedAt };
}

/** `invite revoke --json`. */
export function revokedInviteJson(r: InviteInfo & { alreadyRevoked: boolean }) {
  return { id: r.id, label: r.label, scope: r.scope, maxUses: r.maxUses, uses: r.uses, expiresAt: r.expiresAt, status: r.status, alreadyRevoked: r.alreadyRevoked };
}
