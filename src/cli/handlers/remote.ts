import { resolve as resolvePath } from 'node:path';
import { Config } from '../../core/config/store.js';
import type { AdminApi } from '../../core/admin.js';
import { UsageError } from '../../core/errors.js';
import {
  checkProfileName, isLoopbackHost, parseBaseUrl, profileNames, readCa, resolveRemote, timeoutFrom,
} from '../../client/profiles.js';
import { out, outJson, say, type Ctx } from '../context.js';
import { chompOnce, readAllStdin } from './input.js';
import { table } from './format.js';

/**
 * Where token, invite and audit commands get their data: this machine's
 * stores, or (with --remote / MEDIAGATE_REMOTE / remote.default) a server's
 * admin API. Both implement AdminApi, so the commands render the same way.
 */
export async function withAdmin<T>(ctx: Ctx, fn: (admin: AdminApi, remote: boolean) => Promise<T>): Promise<T> {
  const config = Config.load(ctx.env);
  const remote = resolveRemote(ctx.remote, ctx.env, config);
  if (remote) {
    const { remoteClient, RemoteAdmin } = await import('../../client/session.js');
    return fn(new RemoteAdmin(await remoteClient(config, remote, ctx.env)), true);
  }
  const { LocalAdmin } = await import('../../core/admin.js');
  const { withAudit } = await import('./security-audit.js');
  return fn(new LocalAdmin({ env: ctx.env, now: ctx.now, audited: (f) => withAudit(ctx, f) }), false);
}

/** Is this command going to a remote server? (For the few things only this machine can do.) */
export function isRemote(ctx: Ctx): boolean {
  return resolveRemote(ctx.remote, ctx.env, Config.load(ctx.env)) !== undefined;
}

// ------------------------------------------------------------ remote profiles

const TOKEN_RE = /^mg_[A-Za-z0-9_-]{16,256}$/;

/** Refuse plain http to another machine unless allowed; when allowed, say what it risks. */
export function checkPlainHttp(ctx: Ctx, url: URL, allow: boolean | undefined, what = 'the token'): void {
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return;
  if (!allow) {
    throw new UsageError(
      `refusing plain http:// to ${url.host}: ${what} would cross the network unencrypted, and anyone who sees the traffic could take it and control this server`,
      'use https:// (serve with --tls-cert/--tls-key, or behind a TLS proxy); or, on a network you trust, pass --allow-plain-http',
      'usage.plain_http',
    );
  }
  say(ctx, `warning: ${url.origin} is plain HTTP: ${what} crosses the network unencrypted; anyone who can see the traffic can take it and control the server. Prefer https://.`);
}

async function readToken(ctx: Ctx, name: string): Promise<string> {
  let value: string;
  if (ctx.stdinIsTTY) {
    const { password } = await import('@inquirer/prompts');
    value = await password({ message: `Token for remote '${name}' (mg_…, not shown)` }, { input: ctx.stdin, output: ctx.stderr });
  } else {
    value = chompOnce(await readAllStdin(ctx, 4096));
  }
  value = value.trim();
  if (value === '') {
    throw new UsageError('no token given: nothing was stored',
      `pipe it in (printf '%s' "$TOKEN" | mediagate remote add ${name} URL) or run in a terminal to be asked`, 'usage.empty_secret');
  }
  if (value.startsWith('mgp_')) {
    throw new UsageError('that is a pairing token, which only works once to fetch a device token',
      `pair with: mediagate invite redeem CODE --server URL --save ${name}`, 'usage.invalid_token');
  }
  if (!TOKEN_RE.test(value)) {
    throw new UsageError('that does not look like a mediagate token (mg_ followed by letters, digits, - and _)',
      'copy it again from `mediagate token create` on the server', 'usage.invalid_token');
  }
  return value;
}

function loadCa(ca: string | undefined): { path: string; pem: string } | undefined {
  if (ca === undefined) return undefined;
  const path = resolvePath(ca);
  return { path, pem: readCa(path, '--ca') };
}

/**
 * Store profile `name` → url + sealed token (+ CA path). The token is sealed
 * first, so a profile never exists with a URL and no token; an old profile's
 * CA is dropped unless given again.
 */
export async function saveProfile(ctx: Ctx, p: { name: string; url: URL; token: string; caPath?: string | undefined; makeDefault?: boolean | undefined }): Promise<void> {
  const { setSecret } = await import('../../core/secrets.js');
  const { withAudit } = await import('./security-audit.js');
  const { updateConfig } = await import('../../core/config/store.js');
  await withAudit(ctx, (audit) => setSecret(`remotes.${p.name}.token`, p.token, { env: ctx.env, audit }));
  await updateConfig(ctx.env, (tx) => {
    tx.set(`remotes.${p.name}.url`, p.url.href.replace(/\/+$/, ''));
    if (p.caPath) tx.set(`remotes.${p.name}.ca`, p.caPath);
    else tx.unset(`remotes.${p.name}.ca`);
    if (p.makeDefault) tx.set('remote.default', p.name);
  });
  const { auditLocal } = await import('../audit-local.js');
  await auditLocal(ctx, { action: 'remote.add', target: p.name, outcome: 'ok', detail: p.url.origin });
}

/** Refuse to overwrite a profile silently. */
export function checkNewProfile(config: Config, name: string, force: boolean | undefined): void {
  if (!force && profileNames(config).includes(name)) {
    throw new UsageError(`remote profile '${name}' exists already`, `replace it with --force, or remove it first: mediagate remote remove ${name}`, 'usage.profile_exists');
  }
}

export interface RemoteAddOptions {
  name: string;
  url: string;
  ca?: string | undefined;
  verify?: boolean | undefined;
  allowPlainHttp?: boolean | undefined;
  force?: boolean | undefined;
  default?: boolean | undefined;
}

/**
 * `remote add NAME URL`: the token comes from a hidden prompt on a TTY or
 * from stdin — never argv. Checked with GET /api/auth/whoami before anything
 * is stored (unless --no-verify).
 */
export async function remoteAdd(ctx: Ctx, opts: RemoteAddOptions): Promise<void> {
  const name = checkProfileName(opts.name);
  const url = parseBaseUrl(opts.url);
  const config = Config.load(ctx.env);
  checkNewProfile(config, name, opts.force);
  const ca = loadCa(opts.ca);
  checkPlainHttp(ctx, url, opts.allowPlainHttp);
  const token = await readToken(ctx, name);
  let who: { id: string; label: string; scope: string } | undefined;
  if (opts.verify !== false) {
    const { ApiClient } = await import('../../client/http.js');
    const api = new ApiClient({ url, token, ca: ca?.pem, timeoutMs: timeoutFrom(config) });
    const j = await api.get<Record<string, unknown>>('/api/auth/whoami');
    who = { id: String(j.id ?? '?'), label: String(j.label ?? '?'), scope: String(j.scope ?? '?') };
  }
  await saveProfile(ctx, { name, url, token, caPath: ca?.path, makeDefault: opts.default });
  const shownUrl = url.href.replace(/\/+$/, '');
  if (ctx.json) {
    outJson(ctx, { name, url: shownUrl, default: Boolean(opts.default), verified: Boolean(who), ...(who ? { tokenId: who.id, label: who.label, scope: who.scope } : {}) });
  }
  say(ctx, `Added remote '${name}' → ${shownUrl}${who ? ` (token ${who.id} "${who.label}", scope ${who.scope})` : ' (token not checked)'}; the token is stored sealed.`);
  say(ctx, opts.default ? `It is now the default: commands go there unless given --remote local.` : `Use it with: mediagate status --remote ${name}   (or: mediagate remote use ${name})`);
}

interface ProfileRow { name: string; url: string | null; default: boolean; token: string | null; ca: string | null }

/** `remote list`: profiles with the token masked. */
export async function remoteList(ctx: Ctx): Promise<void> {
  const config = Config.load(ctx.env);
  const dflt = config.get<string>('remote.default');
  const names = profileNames(config);
  const { displayValue, loadKeyring } = await import('../../core/secrets.js');
  let ring: ReturnType<typeof loadKeyring> | undefined;
  try { ring = loadKeyring(ctx.env); } catch { ring = undefined; }
  const rows: ProfileRow[] = names.map((name) => {
    const tokenKey = `remotes.${name}.token`;
    return {
      name,
      url: config.has(`remotes.${name}.url`) ? String(config.get(`remotes.${name}.url`)) : null,
      default: dflt === name,
      token: config.has(tokenKey) ? displayValue(tokenKey, config.get(tokenKey), ctx.env, { onError: 'mark', ...(ring !== undefined ? { keyring: ring } : {}) }) : null,
      ca: config.has(`remotes.${name}.ca`) ? String(config.get(`remotes.${name}.ca`)) : null,
    };
  });
  if (ctx.json) { outJson(ctx, rows); return; }
  if (rows.length === 0) {
    say(ctx, 'No remote profiles. Add one with: mediagate remote add NAME URL (or pair: mediagate invite redeem CODE --server URL --save NAME)');
    return;
  }
  for (const line of table(['', 'NAME', 'URL', 'TOKEN', 'CA'], rows.map((r) => [r.default ? '*' : ' ', r.name, r.url ?? '(no url)', r.token ?? '(none)', r.ca ?? '-']))) out(ctx, line);
  if (dflt && !names.includes(dflt)) say(ctx, `note: remote.default is '${dflt}', which is not a profile; fix it with: mediagate remote use NAME|--none`);
}

/** `remote remove NAME`: its URL, token and CA; the default too when it was this one. */
export async function remoteRemove(ctx: Ctx, nameText: string): Promise<void> {
  const name = checkProfileName(nameText);
  const config = Config.load(ctx.env);
  if (!profileNames(config).includes(name)) {
    throw new UsageError(`no remote profile '${name}'`, 'see them with: mediagate remote list', 'usage.unknown_remote');
  }
  const { updateConfig } = await import('../../core/config/store.js');
  const wasDefault = await updateConfig(ctx.env, (tx) => {
    for (const k of ['url', 'token', 'ca']) tx.unset(`remotes.${name}.${k}`);
    const dflt = tx.current.get('remote.default') === name;
    if (dflt) tx.unset('remote.default');
    return dflt;
  });
  const { auditLocal } = await import('../audit-local.js');
  await auditLocal(ctx, { action: 'remote.remove', target: name, outcome: 'ok' });
  if (ctx.json) outJson(ctx, { name, removed: true, wasDefault });
  say(ctx, `Removed remote '${name}'${wasDefault ? '; it was the default, so commands act on this machine again' : ''}. Its token still works on the server until revoked there (mediagate token revoke ID --remote …, or on the server).`);
}

/** `remote use NAME` / `remote use --none`: the profile commands use without --remote. */
export async function remoteUse(ctx: Ctx, nameText: string | undefined, opts: { none?: boolean | undefined }): Promise<void> {
  if (opts.none && nameText !== undefined) throw new UsageError('give a profile name or --none, not both', undefined, 'usage.invalid');
  if (!opts.none && nameText === undefined) throw new UsageError('which profile? give a NAME, or --none to act on this machine', 'see them with: mediagate remote list', 'usage.missing_argument');
  const { updateConfig } = await import('../../core/config/store.js');
  const { auditLocal } = await import('../audit-local.js');
  if (opts.none || nameText === 'local') {
    await updateConfig(ctx.env, (tx) => tx.unset('remote.default'));
    await auditLocal(ctx, { action: 'remote.use', outcome: 'ok', detail: 'none' });
    if (ctx.json) outJson(ctx, { default: null });
    say(ctx, 'No default remote: commands act on this machine unless given --remote NAME.');
    return;
  }
  const name = checkProfileName(nameText!);
  const config = Config.load(ctx.env);
  if (!profileNames(config).includes(name)) {
    throw new UsageError(`no remote profile '${name}'`, `add it first: mediagate remote add ${name} URL`, 'usage.unknown_remote');
  }
  await updateConfig(ctx.env, (tx) => tx.set('remote.default', name));
  await auditLocal(ctx, { action: 'remote.use', target: name, outcome: 'ok' });
  if (ctx.json) outJson(ctx, { default: name });
  say(ctx, `Commands now go to remote '${name}' unless given --remote NAME or --remote local (MEDIAGATE_REMOTE overrides it too).`);
}
