import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { assertNotWritableByOthers, configDir, ensurePrivateDir } from '../paths.js';
import { type ConfigValue, CONFIG_KEYS, findKeySpec, keySpec } from './keys.js';
import { withLock } from '../state/lock.js';

export const CONFIG_FILE = 'config.json';

type Tree = { [k: string]: unknown };

/** Flatten `{mpd:{port:1}}` to `[['mpd.port', 1]]`. Arrays are leaves. */
export function flatten(tree: Tree, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(...flatten(v as Tree, key));
    else out.push([key, v]);
  }
  return out;
}

/**
 * The config as read from disk: a plain JSON read, no heavy imports, so the
 * hot commands stay cheap. Writes go through updateConfig (conf, under our lock).
 * Every key in the file is checked; a bad one is a ConfigError naming it.
 */
export class Config {
  readonly dir: string;
  readonly path: string;
  private readonly values: Map<string, unknown>;

  private constructor(dir: string, values: Map<string, unknown>) {
    this.dir = dir;
    this.path = join(dir, CONFIG_FILE);
    this.values = values;
  }

  static load(env: NodeJS.ProcessEnv = process.env): Config {
    const dir = configDir(env);
    const path = join(dir, CONFIG_FILE);
    assertNotWritableByOthers(dir, 'directory');
    assertNotWritableByOthers(path, 'file');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Config(dir, new Map());
      throw new ConfigError(`cannot read ${path}: ${(e as Error).message}`, undefined, 'config.unreadable');
    }
    let tree: unknown;
    try {
      tree = text.trim() === '' ? {} : JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${path} is not valid JSON: ${(e as Error).message}`, 'fix or remove the file', 'config.corrupt');
    }
    if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) {
      throw new ConfigError(`${path} must hold a JSON object`, 'fix or remove the file', 'config.corrupt');
    }
    const values = new Map<string, unknown>();
    for (const [key, value] of flatten(tree as Tree)) {
      const spec = findKeySpec(key);
      if (!spec) throw new ConfigError(`unknown config key '${key}' in ${path}`, `remove it with: mediagate config unset ${key}`, 'config.unknown_key');
      if (!spec.check(value)) throw new ConfigError(`invalid value for '${key}' in ${path}`, `set it again with: mediagate config set ${key} VALUE`, 'config.invalid_value');
      values.set(key, value);
    }
    return new Config(dir, values);
  }

  /** The stored value, else the key's default, else undefined. */
  get<T extends ConfigValue = ConfigValue>(key: string): T | undefined {
    if (this.values.has(key)) return this.values.get(key) as T;
    return keySpec(key).default as T | undefined;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** Stored values (not defaults), sorted by key. */
  entries(): Array<[string, unknown]> {
    return [...this.values.entries()].sort(([a], [b]) => a.localeCompare(b));
  }

  /** Stored keys under `prefix.` (e.g. the names of media folders). */
  childrenOf(prefix: string): Array<[string, unknown]> {
    const p = `${prefix}.`;
    return this.entries().filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v]);
  }
}

/** All keys with their defaults and descriptions, for `config list --all` and the man page. */
export function describeKeys(): Array<{ key: string; description: string; default: ConfigValue | undefined; secret: boolean }> {
  return CONFIG_KEYS.map((s) => ({ key: s.key, description: s.description, default: s.default, secret: Boolean(s.secret) }));
}

/** Operations on the config inside one locked transaction (see updateConfig). */
export interface ConfigTx {
  /** The config as it is on disk now (read inside the lock). */
  readonly current: Config;
  set(key: string, value: ConfigValue): void;
  /** Store a value that is already sealed (`nacl:v1:…`). */
  setRaw(key: string, value: string): void;
  /** Remove a key (and parents left empty); whether it was set. */
  unset(key: string): boolean;
}

function setPath(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  for (const p of parts.slice(0, -1)) {
    const next = node[p];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[p] = {};
    node = node[p] as Tree;
  }
  node[parts[parts.length - 1]!] = value;
}

/** Delete `key`, then every parent left empty; whether it existed. */
function deletePath(tree: Tree, key: string): boolean {
  const parts = key.split('.');
  const chain: Tree[] = [tree];
  for (const p of parts.slice(0, -1)) {
    const next = chain[chain.length - 1]![p];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) return false;
    chain.push(next as Tree);
  }
  const leaf = parts[parts.length - 1]!;
  const parent = chain[chain.length - 1]!;
  if (!Object.prototype.hasOwnProperty.call(parent, leaf)) return false;
  delete parent[leaf];
  for (let i = chain.length - 1; i > 0; i--) {
    if (Object.keys(chain[i]!).length > 0) break;
    delete chain[i - 1]![parts[i - 1]!];
  }
  return true;
}

/**
 * Change config in one transaction: under the config file's cross-process
 * lock, the file is read afresh, `fn` applies its changes, and the result is
 * written once, atomically (0600, in a 0700 dir). Every config write goes
 * through here, so two writers (a `config set` and a `config rotate-key`, say)
 * never work from the same old copy and undo each other's change.
 * Lock order: the secret key file's lock (if any) before this one.
 */
export async function updateConfig<T>(env: NodeJS.ProcessEnv, fn: (tx: ConfigTx) => T | Promise<T>): Promise<T> {
  const dir = ensurePrivateDir(configDir(env));
  const path = join(dir, CONFIG_FILE);
  assertNotWritableByOthers(path, 'file');
  return withLock(path, async () => {
    const current = Config.load(env); // refuse to write on top of a broken file
    // conf does the reading and the atomic 0600 write; the lock around it is
    // ours, because conf itself has none across processes.
    const { default: Conf } = await import('conf');
    const store = new Conf<Tree>({
      cwd: dir,
      configName: 'config',
      projectName: 'mediagate',
      configFileMode: 0o600,
      accessPropertiesByDotNotation: false,
      clearInvalidConfig: false,
    });
    const tree = store.store; // read afresh inside the lock
    let changed = false;
    const tx: ConfigTx = {
      current,
      set(key, value) {
        const spec = keySpec(key);
        if (!spec.check(value)) throw new ConfigError(`invalid value for '${key}'`, undefined, 'config.invalid_value');
        setPath(tree, key, value);
        changed = true;
      },
      setRaw(key, value) {
        keySpec(key);
        setPath(tree, key, value);
        changed = true;
      },
      unset(key) {
        keySpec(key);
        const had = deletePath(tree, key);
        if (had) changed = true;
        return had;
      },
    };
    const result = await fn(tx);
    if (changed) store.store = tree; // one atomic write of the whole file
    return result;
  });
}

/**
 * Single config changes, each its own locked transaction (see updateConfig).
 * Use updateConfig directly to change several keys at once.
 */
export async function openConfigWriter(env: NodeJS.ProcessEnv = process.env) {
  ensurePrivateDir(configDir(env));
  Config.load(env); // refuse early to write on top of a broken file
  return {
    set: (key: string, value: ConfigValue): Promise<void> => updateConfig(env, (tx) => tx.set(key, value)),
    /** Store a value that is already sealed (`nacl:v1:…`). */
    setRaw: (key: string, value: string): Promise<void> => updateConfig(env, (tx) => tx.setRaw(key, value)),
    unset: (key: string): Promise<boolean> => updateConfig(env, (tx) => tx.unset(key)),
  };
}
