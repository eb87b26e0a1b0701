import { Config, describeKeys, type ConfigTx } from '../../core/config/store.js';
import { findKeySpec, keySpec, parseValue } from '../../core/config/keys.js';
import { ConfigError } from '../../core/errors.js';
import { out, outJson, say, type Ctx } from '../context.js';

/**
 * How a stored value is shown: secrets masked (in a list, one that cannot be
 * opened is marked rather than failing the whole list); `reveal` opens it for
 * the local owner and records that in the audit log.
 */
async function shown(ctx: Ctx, key: string, value: unknown, mode: 'get' | 'list' | 'reveal'): Promise<unknown> {
  if (!findKeySpec(key)?.secret) return value;
  const secrets = await import('../../core/secrets.js');
  if (mode !== 'reveal') return secrets.displayValue(key, value as string, ctx.env, { onError: mode === 'list' ? 'mark' : 'throw' });
  const { openAuditLog } = await import('../../core/audit/log.js');
  const { localActor } = await import('../../core/actor.js');
  const audit = openAuditLog(ctx.env, { syncIo: true });
  try {
    return secrets.revealSecret(Config.load(ctx.env), key, ctx.env, { audit, actor: localActor() });
  } finally {
    await audit.close();
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `config get KEY [--reveal]`: the stored value or its default. */
export async function configGet(ctx: Ctx, key: string, opts: { reveal?: boolean | undefined }): Promise<void> {
  const spec = keySpec(key);
  const config = Config.load(ctx.env);
  const value = config.get(key);
  if (value === undefined) {
    if (ctx.json) outJson(ctx, { key, value: null, set: false });
    throw new ConfigError(`'${key}' is not set`, spec.description, 'config.not_set');
  }
  const v = await shown(ctx, key, value, opts.reveal ? 'reveal' : 'get');
  if (ctx.json) outJson(ctx, { key, value: v, set: config.has(key), secret: Boolean(spec.secret) });
  else out(ctx, text(v));
}

/** `config set KEY VALUE`: validated against the key's schema; secrets refused (use set-secret). */
export async function configSet(ctx: Ctx, key: string, valueText: string): Promise<void> {
  const value = parseValue(key, valueText);
  await auditedChange(ctx, 'config.set', key, (tx) => tx.set(key, value));
  if (ctx.json) outJson(ctx, { key, value });
}

/** `config unset KEY`. */
export async function configUnset(ctx: Ctx, key: string): Promise<void> {
  keySpec(key);
  const had = await auditedChange(ctx, 'config.unset', key, (tx) => tx.unset(key));
  if (ctx.json) outJson(ctx, { key, removed: had });
  else if (!had) say(ctx, `'${key}' was not set`);
}

/** `config list [--all]`: stored values (secrets masked); with --all every key with its default and meaning. */
export async function configList(ctx: Ctx, opts: { all?: boolean | undefined }): Promise<void> {
  const config = Config.load(ctx.env);
  if (opts.all) {
    const rows = [];
    for (const k of describeKeys()) {
      const set = k.key.includes('*') ? config.childrenOf(k.key.replace(/\.\*$/, '')).length > 0 : config.has(k.key);
      const value = k.key.includes('*') || !set ? null : await shown(ctx, k.key, config.get(k.key), 'list');
      rows.push({ key: k.key, value, default: k.default ?? null, set, secret: k.secret, description: k.description });
    }
    if (ctx.json) outJson(ctx, rows);
    else for (const r of rows) out(ctx, `${r.key.padEnd(20)} ${r.set ? text(r.value ?? '(set)') : `(default: ${r.default === null ? 'none' : text(r.default)})`}  # ${r.description}`);
    return;
  }
  const rows: Array<{ key: string; value: unknown }> = [];
  for (const [key, value] of config.entries()) rows.push({ key, value: await shown(ctx, key, value, 'list') });
  if (ctx.json) outJson(ctx, Object.fromEntries(rows.map((r) => [r.key, r.value])));
  else for (const r of rows) out(ctx, `${r.key}=${text(r.value)}`);
}

/**
 * Make one config change, recorded in the audit log first, inside the
 * config transaction: a change that cannot be recorded is not made (exit 5).
 */
async function auditedChange<T>(ctx: Ctx, action: string, key: string, change: (tx: ConfigTx) => T): Promise<T> {
  const [{ updateConfig }, { withRequiredAudit, recordFirst }, { localActor }] = await Promise.all([
    import('../../core/config/store.js'), import('./security-audit.js'), import('../../core/actor.js'),
  ]);
  return withRequiredAudit(ctx, `'${key}' was changed`, (audit) => updateConfig(ctx.env, async (tx) => {
    const result = change(tx);
    await recordFirst(ctx, audit, { actor: localActor(), action, target: key, outcome: 'ok' }, `'${key}'`);
    return result;
  }));
}

