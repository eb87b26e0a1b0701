import { hostname } from 'node:os';
import { normalizeCode, formatCode, type CreatedInvite, type InviteInfo } from '../../core/invites.js';
import { parseScope, validateLabel } from '../../core/scopes.js';
import { parseDuration } from '../../core/duration.js';
import { UsageError } from '../../core/errors.js';
import { parseUses } from '../../core/invites.js';
import { out, outJson, say, type Ctx } from '../context.js';
import { withAdmin } from './remote.js';
import { relative, table, when } from './format.js';
import { chompOnce, readAllStdin } from './input.js';

async function drawQr(ctx: Ctx, link: string): Promise<void> {
  const { renderUnicodeCompact } = await import('uqr');
  const art = renderUnicodeCompact(link, { ecc: 'M', border: 2 });
  ctx.stdout.write(`${art}\n`);
}

/**
 * --qr draws the code in a decodable form: on stdout, like the code itself.
 * With --json it is refused (before anything is created): stdout must stay
 * one JSON document, and stderr ends up in logs, where a scannable code
 * must not.
 */
function checkQr(ctx: Ctx, qr: boolean | undefined): void {
  if (qr && ctx.json) {
    throw new UsageError('--qr cannot be combined with --json', 'draw the QR code without --json, or make one from the "link" field of the JSON', 'usage.invalid');
  }
}

async function shownOnce(ctx: Ctx, c: CreatedInvite, verb: string, qr: boolean): Promise<void> {
  if (ctx.json) {
    outJson(ctx, { id: c.id, code: c.code, link: c.link, label: c.label, scope: c.scope, maxUses: c.maxUses, expiresAt: c.expiresAt, superseded: c.superseded });
  } else {
    out(ctx, c.code);
    out(ctx, c.link);
  }
  if (qr) await drawQr(ctx, c.link);
  const now = ctx.now();
  say(ctx, `${verb} invite ${c.id} "${c.label}": scope ${c.scope}, ${c.maxUses} use${c.maxUses === 1 ? '' : 's'}, expires ${when(c.expiresAt)} (${relative(c.expiresAt, now)}).`);
  if (c.superseded.length > 0) say(ctx, `It replaces ${c.superseded.join(', ')} (same label), whose code no longer works.`);
  say(ctx, 'The code is shown only this once. On the new device open the link, or run: mediagate invite redeem CODE --server URL');
}

/** `invite create --label L --scope S [--uses 5] [--expires 1d] [--qr]`. */
export async function inviteCreate(ctx: Ctx, opts: { label: string; scope: string; uses?: string | number | undefined; expires?: string | undefined; qr?: boolean | undefined }): Promise<void> {
  let label: string;
  let scope: ReturnType<typeof parseScope>;
  let uses: number;
  const expires = opts.expires ?? '1d';
  try {
    checkQr(ctx, opts.qr);
    label = validateLabel(opts.label);
    scope = parseScope(opts.scope);
    uses = parseUses(opts.uses ?? 5);
    parseDuration(expires, { maxMs: 30 * 86_400_000, minMs: 60_000, what: '--expires' });
  } catch (e) {
    const { auditRefused } = await import('../audit-local.js');
    await auditRefused(ctx, 'invite.create', e);
    throw e;
  }
  const c = await withAdmin(ctx, (admin) => admin.createInvite({ label, scope, uses, expiresIn: expires }));
  await shownOnce(ctx, c, 'Created', Boolean(opts.qr));
}

function row(i: InviteInfo, now: Date): string[] {
  return [i.id, i.label, i.scope, `${i.uses}/${i.maxUses}`, when(i.createdAt), relative(i.expiresAt, now), i.status.replace('_', ' ')];
}

/** `invite list [--all]`: metadata and uses, never a code. */
export async function inviteList(ctx: Ctx, opts: { all?: boolean | undefined }): Promise<void> {
  const list = await withAdmin(ctx, (admin) => admin.listInvites({ all: Boolean(opts.all) }));
  if (ctx.json) {
    outJson(ctx, list.map((i) => ({ id: i.id, label: i.label, scope: i.scope, maxUses: i.maxUses, uses: i.uses, createdAt: i.createdAt, expiresAt: i.expiresAt, status: i.status, lastRedeemedAt: i.lastRedeemedAt })));
    return;
  }
  if (list.length === 0) {
    say(ctx, opts.all ? 'No invites.' : 'No open invites (--all shows expired, revoked and superseded ones).');
    return;
  }
  const now = ctx.now();
  for (const line of table(['ID', 'LABEL', 'SCOPE', 'USES', 'CREATED', 'EXPIRES', 'STATUS'], list.map((i) => row(i, now)))) out(ctx, line);
}

/** `invite revoke ID`. */
export async function inviteRevoke(ctx: Ctx, id: string): Promise<void> {
  const r = await withAdmin(ctx, (admin) => admin.revokeInvite(id));
  if (ctx.json) outJson(ctx, { id: r.id, label: r.label, scope: r.scope, maxUses: r.maxUses, uses: r.uses, expiresAt: r.expiresAt, status: r.status, alreadyRevoked: r.alreadyRevoked });
  say(ctx, r.alreadyRevoked ? `Invite ${r.id} "${r.label}" was already revoked.` : `Revoked invite ${r.id} "${r.label}". Its code and any pairing not yet completed no longer work.`);
}

/** `invite rotate ID`: new code, uses reset, same expiry. */
export async function inviteRotate(ctx: Ctx, id: string, opts: { qr?: boolean | undefined }): Promise<void> {
  checkQr(ctx, opts.qr);
  const c = await withAdmin(ctx, (admin) => admin.rotateInvite(id));
  await shownOnce(ctx, c, 'Rotated', Boolean(opts.qr));
  say(ctx, 'The old code no longer works.');
}

async function readCode(ctx: Ctx): Promise<string> {
  if (ctx.stdinIsTTY) {
    const { input } = await import('@inquirer/prompts');
    return input({ message: 'Invite code' }, { input: ctx.stdin, output: ctx.stderr });
  }
  return chompOnce(await readAllStdin(ctx, 1024)).trim();
}

/**
 * A profile name for `server` when --save gives none: its host name made
 * into a profile name (`media.example.org` → `media-example-org`), with
 * `-2`, `-3` … appended when that name is taken.
 */
export function profileNameFor(server: URL, taken: readonly string[]): string {
  let base = server.hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 56);
  if (base === '' || base === 'local') base = 'server';
  if (!taken.includes(base)) return base;
  for (let n = 2; ; n++) if (!taken.includes(`${base}-${n}`)) return `${base}-${n}`;
}

/**
 * `invite redeem [CODE] --server URL [--name DEVICE] [--save NAME | --print-token]`,
 * on the new device: redeem the code on the server, exchange the pairing
 * token for a token named after this device, and store that token sealed as
 * a remote profile (NAME from --save, else derived from the server's host);
 * the first profile becomes the default remote. The token is printed only
 * with --print-token, and then nothing is stored.
 */
export async function inviteRedeem(ctx: Ctx, opts: {
  code?: string | undefined; server: string; name?: string | undefined;
  save?: string | undefined; printToken?: boolean | undefined; ca?: string | undefined;
  allowPlainHttp?: boolean | undefined; force?: boolean | undefined; default?: boolean | undefined;
}): Promise<void> {
  const { parseServerUrl, isLoopbackHost, pairWithServer } = await import('../../client/pairing.js');
  const server = parseServerUrl(opts.server);
  const device = validateLabel(opts.name ?? hostname(), 'device name');
  let profile: string | undefined;
  let makeDefault = false;
  let ca: { path: string; pem: string } | undefined;
  let timeoutMs: number | undefined;
  if (opts.printToken) {
    if (opts.save !== undefined || opts.default || opts.force) {
      throw new UsageError('--print-token stores nothing: it does not go with --save, --default or --force', undefined, 'usage.invalid');
    }
  } else {
    // Everything that could refuse to save is checked before the invite is spent.
    const { checkProfileName, profileNames, timeoutFrom } = await import('../../client/profiles.js');
    const { Config } = await import('../../core/config/store.js');
    const { checkNewProfile, checkPlainHttp } = await import('./remote.js');
    const config = Config.load(ctx.env);
    if (opts.save !== undefined) {
      profile = checkProfileName(opts.save, '--save name');
      checkNewProfile(config, profile, opts.force);
    } else {
      if (opts.force) throw new UsageError('--force replaces the profile named by --save NAME: give it', undefined, 'usage.invalid');
      profile = profileNameFor(server, profileNames(config));
    }
    const current = config.get<string>('remote.default');
    makeDefault = Boolean(opts.default) || typeof current !== 'string' || current === '';
    checkPlainHttp(ctx, server, opts.allowPlainHttp, 'the invite code and the token');
    timeoutMs = timeoutFrom(config);
  }
  if (opts.ca !== undefined) {
    const { resolve } = await import('node:path');
    const { readCa } = await import('../../client/profiles.js');
    const path = resolve(opts.ca);
    ca = { path, pem: readCa(path, '--ca') };
  }
  const typed = opts.code ?? (await readCode(ctx));
  const norm = normalizeCode(typed);
  if (!norm) {
    throw new UsageError('that is not an invite code: expected 16 letters and digits, like ABCD-EFGH-JKMN-PQRS',
      'copy it again from `mediagate invite create` on the server (dashes, spaces and case do not matter)', 'usage.invalid_code');
  }
  if (!profile && server.protocol === 'http:' && !isLoopbackHost(server.hostname)) {
    say(ctx, `warning: ${server.origin} is plain HTTP: the invite code and the new token cross the network unencrypted. Prefer https://.`);
  }
  const t = await pairWithServer(server, formatCode(norm), device, { ...(ca ? { ca: ca.pem } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
  const serverText = server.origin + server.pathname.replace(/\/+$/, '');
  if (profile) {
    const { saveProfile } = await import('./remote.js');
    await saveProfile(ctx, { name: profile, url: server, token: t.token, caPath: ca?.path, makeDefault });
    if (ctx.json) outJson(ctx, { id: t.id, scope: t.scope, label: t.label, server: serverText, profile, default: makeDefault });
    say(ctx, `Paired with ${serverText} as "${t.label}" (token ${t.id}, scope ${t.scope}); the token is stored sealed as remote profile '${profile}'.`);
    say(ctx, makeDefault
      ? `It is now the default remote: commands go there unless given --remote NAME or --remote local (mediagate remote use --none undoes it).`
      : `Use it with: mediagate --remote ${profile} status   (or make it the default: mediagate remote use ${profile})`);
    return;
  }
  if (ctx.json) outJson(ctx, { id: t.id, token: t.token, scope: t.scope, label: t.label, server: serverText });
  else out(ctx, t.token);
  say(ctx, `Paired with ${server.origin} as "${t.label}" (token ${t.id}, scope ${t.scope}).`);
  say(ctx, 'The token is shown only this once and stored nowhere: keep it safe. Clients send it as "Authorization: Bearer <token>".');
}
