import type { CreatedToken, TokenInfo } from '../../core/tokens.js';
import { parseScope, validateLabel } from '../../core/scopes.js';
import { parseDuration } from '../../core/duration.js';
import { out, outJson, say, type Ctx } from '../context.js';
import { withAdmin } from './remote.js';
import { relative, table, when } from './format.js';

function shownOnce(ctx: Ctx, c: CreatedToken, verb: string): void {
  if (ctx.json) outJson(ctx, { id: c.id, token: c.token, label: c.label, scope: c.scope, createdAt: c.createdAt, expiresAt: c.expiresAt });
  else out(ctx, c.token);
  say(ctx, `${verb} token ${c.id} "${c.label}" (scope ${c.scope}, expires ${c.expiresAt ? `${when(c.expiresAt)}, ${relative(c.expiresAt, ctx.now())}` : 'never'}).`);
  say(ctx, 'The token is shown only this once: store it now. Clients send it as "Authorization: Bearer <token>".');
}

/** `token create --label L --scope S [--expires 30d]`. */
export async function tokenCreate(ctx: Ctx, opts: { label: string; scope: string; expires?: string | undefined }): Promise<void> {
  // Check everything before touching state, so bad input is exit 2 with nothing written.
  let label: string;
  let scope: ReturnType<typeof parseScope>;
  try {
    label = validateLabel(opts.label);
    scope = parseScope(opts.scope);
    if (opts.expires !== undefined) parseDuration(opts.expires, { allowNever: true, what: '--expires' });
  } catch (e) {
    const { auditRefused } = await import('../audit-local.js');
    await auditRefused(ctx, 'token.create', e);
    throw e;
  }
  const c = await withAdmin(ctx, (admin) => admin.createToken({ label, scope, expiresIn: opts.expires ?? null }));
  shownOnce(ctx, c, 'Created');
}

function statusText(t: TokenInfo): string {
  return t.status === 'active' ? 'active' : t.status === 'revoked' ? `revoked ${when(t.revokedAt)}` : 'expired';
}

/** `token list [--all]`: never a secret or hash. */
export async function tokenList(ctx: Ctx, opts: { all?: boolean | undefined }): Promise<void> {
  const list = await withAdmin(ctx, (admin) => admin.listTokens({ all: Boolean(opts.all) }));
  if (ctx.json) {
    outJson(ctx, list.map((t) => ({ id: t.id, label: t.label, scope: t.scope, createdAt: t.createdAt, expiresAt: t.expiresAt, lastSeenAt: t.lastSeenAt, status: t.status, revokedAt: t.revokedAt })));
    return;
  }
  if (list.length === 0) {
    say(ctx, opts.all ? 'No tokens.' : 'No tokens. Create one with: mediagate token create --label NAME --scope read|control|admin');
    return;
  }
  const now = ctx.now();
  for (const line of table(
    ['ID', 'LABEL', 'SCOPE', 'CREATED', 'EXPIRES', 'LAST SEEN', 'STATUS'],
    list.map((t) => [t.id, t.label, t.scope, when(t.createdAt), t.expiresAt ? relative(t.expiresAt, now) : 'never', t.lastSeenAt ? relative(t.lastSeenAt, now) : 'never', statusText(t)]),
  )) out(ctx, line);
}

/** `token revoke ID|LABEL`. */
export async function tokenRevoke(ctx: Ctx, idOrLabel: string): Promise<void> {
  const r = await withAdmin(ctx, (admin) => admin.revokeToken(idOrLabel));
  if (ctx.json) outJson(ctx, { id: r.id, label: r.label, scope: r.scope, status: r.status, revokedAt: r.revokedAt, alreadyRevoked: r.alreadyRevoked });
  say(ctx, r.alreadyRevoked ? `Token ${r.id} "${r.label}" was already revoked.` : `Revoked token ${r.id} "${r.label}". It stops working on its next request.`);
}

/** `token rotate ID`: new secret, same id, label, scope and expiry. */
export async function tokenRotate(ctx: Ctx, id: string): Promise<void> {
  const c = await withAdmin(ctx, (admin) => admin.rotateToken(id));
  shownOnce(ctx, c, 'Rotated');
  say(ctx, 'The old token no longer works.');
}
