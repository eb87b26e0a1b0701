/**
 * Sealed secrets: values such as the MPD password are stored in config.json as
 * `nacl:v1:<base64(nonce ‖ secretbox)>` under a 32-byte key that lives in
 * `secret.key` (0600, config dir) or in MEDIAGATE_SECRET_KEY (base64).
 *
 * The key file holds one base64 key per line. The first line is the current
 * key (used to seal); further lines exist only while a key rotation is in
 * progress (see rotateKey) and are accepted for opening.
 */
import nacl from 'tweetnacl';
import { nodeCrypto } from './lazy-builtins.js';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, UsageError } from './errors.js';
import { assertNotWritableByOthers, configDir, ensurePrivateDir } from './paths.js';
import { Config, updateConfig } from './config/store.js';
import { findKeySpec, keySpec } from './config/keys.js';
import { withLock } from './state/lock.js';
import { writeFileAtomic } from './state/atomic.js';
import { type AuditActor, type AuditSink, nullAudit } from './audit/types.js';
import { localActor } from './actor.js';

export const KEY_FILE = 'secret.key';
export const SEALED_PREFIX = 'nacl:v1:';
const KEY_BYTES = nacl.secretbox.keyLength; // 32
const NONCE_BYTES = nacl.secretbox.nonceLength; // 24

type Env = NodeJS.ProcessEnv;

/** The keys that can open secrets; `current` seals. */
export interface Keyring {
  current: Uint8Array;
  /** current first, then keys still accepted while a rotation is unfinished. */
  all: Uint8Array[];
  source: 'env' | 'file';
  /** The key file (also when the key came from the environment: where it would be). */
  path: string;
}

export interface SecretOptions {
  env?: Env;
  audit?: AuditSink;
  actor?: AuditActor;
}

// ---------------------------------------------------------------- primitives

export function generateKey(): Uint8Array {
  return new Uint8Array(nodeCrypto().randomBytes(KEY_BYTES));
}

/** A base64 key (file line or MEDIAGATE_SECRET_KEY) → 32 bytes, or a ConfigError naming where it came from. */
export function decodeKey(text: string, origin: string): Uint8Array {
  const s = text.trim();
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(s) ? Buffer.from(s, 'base64') : Buffer.alloc(0);
  if (bytes.length !== KEY_BYTES) {
    throw new ConfigError(
      `${origin} is not a valid secret key: it must be the base64 form of exactly ${KEY_BYTES} bytes`,
      origin === 'MEDIAGATE_SECRET_KEY'
        ? 'make one with: head -c 32 /dev/urandom | base64'
        : 'restore the key file from a backup, or set MEDIAGATE_SECRET_KEY',
      'secret.bad_key',
    );
  }
  return new Uint8Array(bytes);
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(SEALED_PREFIX);
}

/** Seal `plaintext` under `key` with a fresh random 24-byte nonce. */
export function seal(plaintext: string, key: Uint8Array): string {
  if (key.length !== KEY_BYTES) throw new ConfigError('secret key must be 32 bytes', undefined, 'secret.bad_key');
  const nonce = new Uint8Array(nodeCrypto().randomBytes(NONCE_BYTES));
  const box = nacl.secretbox(new Uint8Array(Buffer.from(plaintext, 'utf8')), nonce, key);
  const out = Buffer.concat([nonce, box]);
  return SEALED_PREFIX + out.toString('base64');
}

/**
 * Open a sealed value with `key` (or any key of a keyring). A value that was
 * changed, truncated or sealed under another key is a ConfigError (exit 5);
 * secretbox authenticates, so a wrong key never yields garbage.
 */
export function open(sealed: string, key: Uint8Array | readonly Uint8Array[], what = 'sealed value'): string {
  if (!isSealed(sealed)) {
    throw new ConfigError(`${what} is not a sealed secret (expected ${SEALED_PREFIX}…)`, 'set it again with `mediagate config set-secret`', 'secret.malformed');
  }
  const b64 = sealed.slice(SEALED_PREFIX.length);
  const raw = /^[A-Za-z0-9+/]*={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
  if (raw.length < NONCE_BYTES + nacl.secretbox.overheadLength) {
    throw new ConfigError(`${what} is damaged (too short or not base64)`, 'set it again with `mediagate config set-secret`', 'secret.malformed');
  }
  const nonce = new Uint8Array(raw.subarray(0, NONCE_BYTES));
  const box = new Uint8Array(raw.subarray(NONCE_BYTES));
  const keys = key instanceof Uint8Array ? [key] : key;
  for (const k of keys) {
    const plain = nacl.secretbox.open(box, nonce, k);
    if (plain) return Buffer.from(plain).toString('utf8');
  }
  throw new ConfigError(
    `cannot open ${what}: it was changed after sealing or sealed under a different key`,
    'check MEDIAGATE_SECRET_KEY / secret.key, or set the secret again with `mediagate config set-secret`',
    'secret.open_failed',
  );
}

const BULLETS = '••••';

/** `••••` + the last 4 characters for long values; only bullets for short ones (under 12). */
export function mask(plaintext: string): string {
  const chars = [...plaintext];
  return chars.length >= 12 ? BULLETS + chars.slice(-4).join('') : BULLETS;
}

// ------------------------------------------------------------------ key file

export function keyFilePath(env: Env = process.env): string {
  return join(configDir(env), KEY_FILE);
}

/**
 * The key file must be private: anyone who can read it can open every secret,
 * anyone who can write it can swap it.
 */
function assertPrivateKeyFile(path: string): void {
  let mode: number;
  try { mode = statSync(path).mode; } catch { return; }
  if (mode & 0o077) {
    throw new ConfigError(
      `refusing to use key file ${path}: it is readable or writable by group or others (mode ${(mode & 0o777).toString(8)})`,
      `fix it with: chmod 600 '${path}'`,
      'config.unsafe_permissions',
    );
  }
}

function parseKeyFile(text: string, path: string): Uint8Array[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new ConfigError(`key file ${path} is empty`, 'restore it from a backup, or set MEDIAGATE_SECRET_KEY', 'secret.bad_key');
  return lines.map((l) => decodeKey(l, `key file ${path}`));
}

function keyFileText(keys: Uint8Array[]): string {
  return keys.map((k) => Buffer.from(k).toString('base64')).join('\n') + '\n';
}

/** The keyring from MEDIAGATE_SECRET_KEY or the key file; null when neither exists. */
export function loadKeyring(env: Env = process.env): Keyring | null {
  const path = keyFilePath(env);
  const fromEnv = env.MEDIAGATE_SECRET_KEY;
  if (fromEnv !== undefined && fromEnv !== '') {
    const k = decodeKey(fromEnv, 'MEDIAGATE_SECRET_KEY');
    return { current: k, all: [k], source: 'env', path };
  }
  assertNotWritableByOthers(configDir(env), 'directory');
  assertPrivateKeyFile(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(`cannot read key file ${path}: ${(e as Error).message}`, undefined, 'secret.unreadable');
  }
  const all = parseKeyFile(text, path);
  return { current: all[0]!, all, source: 'file', path };
}

/**
 * Create the key file unless it exists. The key is written to a temp file and
 * hard-linked into place: link() fails with EEXIST if another process got
 * there first (O_EXCL semantics), and readers never see a half-written file.
 * Then whichever key won is returned.
 */
function createKeyFile(env: Env): Keyring {
  const dir = ensurePrivateDir(configDir(env));
  const path = join(dir, KEY_FILE);
  const tmp = join(dir, `.${KEY_FILE}.new-${process.pid}-${nodeCrypto().randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, keyFileText([generateKey()]));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    try { unlinkSync(tmp); } catch { /* gone */ }
  }
  try {
    const dfd = openSync(dir, 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* best effort */ }
  const ring = loadKeyring({ ...env, MEDIAGATE_SECRET_KEY: '' });
  if (!ring) throw new ConfigError(`key file ${path} vanished while being created`, undefined, 'secret.unreadable');
  return ring;
}

/** Config keys whose stored value is sealed. */
export function sealedEntries(config: Config): Array<[string, string]> {
  return config.entries().filter((e): e is [string, string] => isSealed(e[1]));
}

function missingKeyError(path: string, secretKeys: string[]): ConfigError {
  return new ConfigError(
    `the secret key is missing (${path} does not exist and MEDIAGATE_SECRET_KEY is not set), but config holds sealed secrets: ${secretKeys.join(', ')}`,
    `restore ${path} from a backup or set MEDIAGATE_SECRET_KEY; or remove those secrets with \`mediagate config unset KEY\` and set them again`,
    'secret.key_missing',
  );
}

/**
 * The keyring, created on first need. Never creates a new key while sealed
 * secrets exist: that would orphan them silently.
 */
export function keyringFor(config: Config, env: Env = process.env, opts: { create?: boolean } = {}): Keyring | null {
  const ring = loadKeyring(env);
  if (ring) return ring;
  const sealedKeys = sealedEntries(config).map(([k]) => k);
  if (sealedKeys.length > 0) throw missingKeyError(keyFilePath(env), sealedKeys);
  return opts.create ? createKeyFile(env) : null;
}

// ------------------------------------------------------------ config access

export function isSecretKey(key: string): boolean {
  return Boolean(findKeySpec(key)?.secret);
}

/**
 * The plaintext of secret `key` (e.g. `mpd.password`), or undefined when it is
 * not set. Errors (missing key, wrong key, tampered value) are ConfigErrors
 * that name the config key. Retries once with freshly loaded config and key
 * so a concurrent `config rotate-key` in another process is not mistaken for
 * tampering.
 */
export function readSecret(config: Config, key: string, env: Env = process.env): string | undefined {
  const attempt = (cfg: Config): string | undefined => {
    const stored = cfg.has(key) ? cfg.get(key) : undefined;
    if (stored === undefined) return undefined;
    if (!isSealed(stored)) {
      throw new ConfigError(`config key '${key}' should hold a sealed secret but holds plain text`, `set it with: mediagate config set-secret ${key}`, 'secret.malformed');
    }
    const ring = loadKeyring(env);
    if (!ring) throw missingKeyError(keyFilePath(env), [key]);
    return open(stored, ring.all, `secret '${key}'`);
  };
  try {
    return attempt(config);
  } catch (e) {
    if (!(e instanceof ConfigError) || e.code !== 'secret.open_failed') throw e;
    return attempt(Config.load(env));
  }
}

/**
 * How `config get` / `config list` show a stored value. Secrets are opened and
 * masked (`••••1234`); other values are shown as they are (arrays joined by
 * commas). With `onError: 'mark'` a secret that cannot be opened is shown as
 * `•••• (cannot open: <code>)` instead of throwing (for `config list`).
 */
export function displayValue(
  key: string,
  stored: unknown,
  env: Env = process.env,
  opts: { onError?: 'throw' | 'mark'; keyring?: Keyring | null } = {},
): string {
  if (!isSecretKey(key) && !isSealed(stored)) {
    return Array.isArray(stored) ? stored.join(',') : String(stored);
  }
  try {
    if (!isSealed(stored)) {
      throw new ConfigError(`config key '${key}' should hold a sealed secret but holds plain text`, `set it with: mediagate config set-secret ${key}`, 'secret.malformed');
    }
    const ring = opts.keyring !== undefined ? opts.keyring : loadKeyring(env);
    if (!ring) throw missingKeyError(keyFilePath(env), [key]);
    return mask(open(stored, ring.all, `secret '${key}'`));
  } catch (e) {
    if (opts.onError === 'mark' && e instanceof ConfigError) return `${BULLETS} (cannot open: ${e.code})`;
    throw e;
  }
}

/**
 * The plaintext of a secret for `config get KEY --reveal` (local owner only:
 * never offer this over --remote). Audited as `secret.reveal` when given a sink.
 */
export function revealSecret(
  config: Config,
  key: string,
  env: Env = process.env,
  opts: { audit?: AuditSink; actor?: AuditActor } = {},
): string | undefined {
  const audit = opts.audit ?? nullAudit;
  const actor = opts.actor ?? localActor();
  if (!isSecretKey(key)) throw new UsageError(`'${key}' is not a secret`, `show it with: mediagate config get ${key}`, 'config.not_secret');
  try {
    const value = readSecret(config, key, env);
    audit.append({ actor, action: 'secret.reveal', target: key, outcome: 'ok', detail: value === undefined ? 'not set' : undefined });
    return value;
  } catch (e) {
    audit.append({ actor, action: 'secret.reveal', target: key, outcome: 'error', detail: (e as ConfigError).code });
    throw e;
  }
}

/**
 * Seal `plaintext` and store it as `key`. Held under the key file's lock so a
 * concurrent rotate-key cannot drop the key this value is sealed under.
 * Refuses to add a secret under a key that cannot open the existing ones.
 * The config itself is changed under the config lock (updateConfig), so a
 * concurrent `config set` neither loses this value nor is lost.
 */
export async function setSecret(key: string, plaintext: string, opts: SecretOptions = {}): Promise<void> {
  const env = opts.env ?? process.env;
  const audit = opts.audit ?? nullAudit;
  const actor = opts.actor ?? localActor();
  const spec = keySpec(key);
  if (!spec.secret) {
    throw new UsageError(`'${key}' is not a secret`, `set it with: mediagate config set ${key} VALUE`, 'config.not_secret');
  }
  if (plaintext === '') throw new UsageError('refusing to store an empty secret', `to remove it use: mediagate config unset ${key}`, 'usage.empty_secret');
  if (/[\0\r\n]/.test(plaintext)) throw new UsageError('a secret must be a single line without NUL characters', undefined, 'usage.invalid_secret');
  ensurePrivateDir(configDir(env));
  try {
    await withLock(keyFilePath(env), () => updateConfig(env, (tx) => {
      const ring = keyringFor(tx.current, env, { create: true })!;
      for (const [k, v] of sealedEntries(tx.current)) {
        if (k === key) continue;
        open(v, ring.all, `existing secret '${k}'`); // refuse to mix keys
      }
      tx.setRaw(key, seal(plaintext, ring.current));
    }));
  } catch (e) {
    audit.append({ actor, action: 'secret.set', target: key, outcome: 'error', detail: (e as { code?: string }).code ?? 'error' });
    throw e;
  }
  audit.append({ actor, action: 'secret.set', target: key, outcome: 'ok' });
}

export type RotateStep = 'keyring-written' | 'secrets-resealed' | 'keyfile-final';

export interface RotateOptions extends SecretOptions {
  /** Test hook called after each durable step (a test kills the process here). */
  onStep?: (step: RotateStep, detail?: string) => void;
}

/**
 * Re-seal every secret in config under a new key.
 *
 * Two files change (secret.key and config.json) and neither can be replaced
 * together with the other, so the order is chosen to keep one invariant at
 * every instant: *the keys in the key file open every secret in config*, and
 * config holds either all old or all new seals, never a mix:
 *
 *   1. key file := [new, old]      (atomic rename) — config is all-old: opens
 *   2. every secret := seal(new)    (ONE atomic config write) — all-new
 *   3. check every secret opens with new alone (read back from disk)
 *   4. key file := [new]           (atomic rename) — config is all-new: opens
 *
 * A crash before 1 leaves the old state; between 1 and 4 a two-key file that
 * opens everything (readers try each key); after 4 the new state. Running
 * rotate-key again after a crash finds two keys and finishes the rotation
 * with the new key instead of starting another. Everything runs under the
 * key file's lock, which setSecret also takes, so no secret is sealed under a
 * key that is about to be dropped; steps 1–2 also hold the config lock that
 * every config write takes, so a concurrent `config set` can neither write
 * back old seals over the new ones nor be lost.
 */
export async function rotateKey(opts: RotateOptions = {}): Promise<{ resealed: number }> {
  const env = opts.env ?? process.env;
  const audit = opts.audit ?? nullAudit;
  const actor = opts.actor ?? localActor();
  const step = opts.onStep ?? (() => {});
  if (env.MEDIAGATE_SECRET_KEY) {
    const e = new ConfigError(
      'the secret key comes from MEDIAGATE_SECRET_KEY, which mediagate cannot change',
      'unset MEDIAGATE_SECRET_KEY to use (and rotate) the key file, or re-seal under a new variable yourself: set-secret each secret with the new MEDIAGATE_SECRET_KEY',
      'secret.key_from_env',
    );
    audit.append({ actor, action: 'config.rotate_key', outcome: 'error', detail: e.code });
    throw e;
  }
  const path = keyFilePath(env);
  ensurePrivateDir(configDir(env));
  let resealed = 0;
  try {
    await withLock(path, async () => {
      const next = await updateConfig(env, (tx) => {
        const secrets = sealedEntries(tx.current);
        const ring = loadKeyring(env);
        if (!ring) {
          if (secrets.length > 0) throw missingKeyError(path, secrets.map(([k]) => k));
          createKeyFile(env); // nothing sealed yet: a fresh key is the whole rotation
          return null;
        }
        // Open everything first: refuse to start a rotation that cannot finish.
        const plain = secrets.map(([k, v]) => [k, open(v, ring.all, `secret '${k}'`)] as const);
        let key: Uint8Array;
        if (ring.all.length > 1) {
          key = ring.current; // an earlier rotation stopped midway: finish it
        } else {
          key = generateKey();
          writeFileAtomic(path, keyFileText([key, ...ring.all]), 0o600);
          step('keyring-written');
        }
        for (const [k, p] of plain) tx.setRaw(k, seal(p, key));
        resealed = plain.length;
        return key;
      });
      if (!next) return;
      if (resealed > 0) step('secrets-resealed');
      for (const [k, v] of sealedEntries(Config.load(env))) open(v, next, `re-sealed secret '${k}'`);
      writeFileAtomic(path, keyFileText([next]), 0o600);
      step('keyfile-final');
    });
  } catch (e) {
    audit.append({ actor, action: 'config.rotate_key', outcome: 'error', detail: (e as { code?: string }).code ?? 'error' });
    throw e;
  }
  audit.append({ actor, action: 'config.rotate_key', outcome: 'ok', detail: `re-sealed ${resealed} secret(s)` });
  return { resealed };
}
