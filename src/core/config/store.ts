import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { assertNotWritableByOthers, configDir, ensurePrivateDir } from '../paths.js';
import { type ConfigValue, CONFIG_KEYS, findKeySpec, keySpec } from './keys.js';

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
 * hot commands stay cheap. Writes go through `conf` (see ConfigWriter).
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

/**
 * Writes config through `conf` (atomic write, 0600 file) in a 0700 dir.
 * Imported lazily by the commands that change config.
 */
export async function openConfigWriter(env: NodeJS.ProcessEnv = process.env) {
  const dir = ensurePrivateDir(configDir(env));
  assertNotWritableByOthers(join(dir, CONFIG_FILE), 'file');
  Config.load(env); // refuse to write on top of a broken file
  const { default: Conf } = await import('conf');
  const store = new Conf<Record<string, unknown>>({
    cwd: dir,
    configName: 'config',
    projectName: 'mediagate',
    configFileMode: 0o600,
    accessPropertiesByDotNotation: true,
    clearInvalidConfig: false,
  });
  return {
    set(key: string, value: ConfigValue): void {
      const spec = keySpec(key);
      if (!spec.check(value)) throw new ConfigError(`invalid value for '${key}'`, undefined, 'config.invalid_value');
      store.set(key, value);
    },
    /** Store a value that is already sealed (`nacl:v1:…`). */
    setRaw(key: string, value: string): void {
      keySpec(key);
      store.set(key, value);
    },
    unset(key: string): boolean {
      keySpec(key);
      const had = store.has(key);
      store.delete(key);
      pruneEmpty(store, key);
      return had;
    },
  };
}

function pruneEmpty(store: { get(k: string): unknown; delete(k: string): void }, key: string): void {
  const parts = key.split('.');
  for (let i = parts.length - 1; i > 0; i--) {
    const parent = parts.slice(0, i).join('.');
    const v = store.get(parent);
    if (v && typeof v === 'object' && Object.keys(v).length === 0) store.delete(parent);
    else break;
  }
}
