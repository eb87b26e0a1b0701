import { findKeySpec } from '../../core/config/keys.js';
import { UsageError } from '../../core/errors.js';
import { keyFilePath, rotateKey, setSecret } from '../../core/secrets.js';
import { outJson, say, type Ctx } from '../context.js';
import { withRequiredAudit } from './security-audit.js';
import { chompOnce, readAllStdin } from './input.js';

/** Ask twice on a TTY, with nothing echoed. Prompts go to stderr. */
async function promptSecret(ctx: Ctx, key: string): Promise<string> {
  const { password } = await import('@inquirer/prompts');
  const io = { input: ctx.stdin, output: ctx.stderr };
  const first = await password({ message: `Value for ${key} (not shown)` }, io);
  if (first === '') return first;
  const again = await password({ message: 'Again, to confirm' }, io);
  if (again !== first) throw new UsageError('the two values differ; nothing was stored', undefined, 'usage.secret_mismatch');
  return first;
}

/**
 * Something besides the expected arguments was on the command line — most
 * likely a secret. Refused (exit 2) without repeating it: it is not stored,
 * and the message says so. `what` names the secret ("A secret"), `how` how to
 * give it instead.
 */
export function refuseSecretInArgv(usage: string, extra: number, what: string, how: string): never {
  throw new UsageError(
    `${usage}; ${extra} more argument(s) were given and ignored (not repeated here, not stored). ${what} is never read from the command line`,
    how,
    'usage.secret_in_argv',
  );
}

/** `config set-secret KEY <more>` (see refuseSecretInArgv). */
export function refuseSecretOnCommandLine(extra: number): never {
  refuseSecretInArgv('config set-secret takes only KEY', extra, 'A secret',
    'pipe the value in (printf \'%s\' "$VALUE" | mediagate config set-secret KEY) or run in a terminal to be prompted. If you typed a real secret, it may be in your shell history: change it');
}

/** `remote add NAME URL <more>`: what came after the URL may be a token (see refuseSecretInArgv). */
export function refuseTokenOnCommandLine(extra: number): never {
  refuseSecretInArgv('remote add takes only NAME and URL', extra, 'A token',
    'pipe it in (printf \'%s\' "$TOKEN" | mediagate remote add NAME URL) or run in a terminal to be prompted. If you typed a real token, it may be in your shell history: revoke it (mediagate token revoke) and make a new one');
}

/**
 * `config set-secret KEY`: the value comes from a hidden prompt on a TTY,
 * from stdin otherwise (one trailing newline dropped) — never from argv.
 */
export async function configSetSecret(ctx: Ctx, key: string): Promise<void> {
  // An unknown key is not echoed either: it may be the value typed in its place.
  const spec = findKeySpec(key);
  if (!spec) {
    throw new UsageError('unknown config key (not repeated here, in case it was the value)',
      'secret keys: mpd.password, server.tlsKeyPassphrase, mqtt.password, remotes.NAME.token (see: mediagate config list --all)', 'config.unknown_key');
  }
  if (!spec.secret) throw new UsageError(`'${key}' is not a secret`, `set it with: mediagate config set ${key} VALUE`, 'config.not_secret');
  let value: string;
  if (ctx.stdinIsTTY) {
    value = await promptSecret(ctx, key);
  } else {
    value = chompOnce(await readAllStdin(ctx));
    if (value === '') {
      throw new UsageError('no value on stdin: refusing to store an empty secret',
        `pipe it in (printf '%s' "$VALUE" | mediagate config set-secret ${key}) or run in a terminal to be prompted`, 'usage.empty_secret');
    }
  }
  if (/[\r\n]/.test(value)) throw new UsageError('a secret must be a single line', undefined, 'usage.invalid_secret');
  await withRequiredAudit(ctx, `${key} was stored`, (audit) => setSecret(key, value, { env: ctx.env, audit }));
  if (ctx.json) outJson(ctx, { key, set: true, sealed: true });
  say(ctx, `Stored ${key} (sealed with the key in ${ctx.env.MEDIAGATE_SECRET_KEY ? 'MEDIAGATE_SECRET_KEY' : keyFilePath(ctx.env)}).`);
}

/** `config rotate-key`: re-seal every secret under a new key. */
export async function configRotateKey(ctx: Ctx): Promise<void> {
  const r = await withRequiredAudit(ctx, 'the key was rotated (every secret is sealed with the new one)', (audit) => rotateKey({ env: ctx.env, audit }));
  if (ctx.json) outJson(ctx, { resealed: r.resealed, keyFile: keyFilePath(ctx.env) });
  say(ctx, `New key in ${keyFilePath(ctx.env)}; re-sealed ${r.resealed} secret${r.resealed === 1 ? '' : 's'}. Back up the new key file: the old one no longer opens anything.`);
}
