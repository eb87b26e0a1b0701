import { ConfigError } from '../errors.js';

/** Value types a config key can hold. */
export type ConfigValue = string | number | boolean | string[];

export interface KeySpec {
  /** Exact key (`mpd.port`) or a pattern with one `*` segment (`media.folders.*`). */
  key: string;
  description: string;
  /** Turns the command-line text into the stored value; throws a message on bad input. */
  parse(text: string): ConfigValue;
  /** Checks a value read from the file (it may have been edited by hand). */
  check(value: unknown): boolean;
  default?: ConfigValue;
  /** Stored sealed; set only through `config set-secret`, shown masked. */
  secret?: boolean;
}

function integer(min: number, max: number) {
  return {
    parse(text: string): number {
      if (!/^-?\d+$/.test(text.trim())) throw new Error(`must be a whole number from ${min} to ${max}`);
      const n = Number(text);
      if (n < min || n > max) throw new Error(`must be a whole number from ${min} to ${max}`);
      return n;
    },
    check: (v: unknown) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max,
  };
}

function oneOf<T extends string>(...values: T[]) {
  return {
    parse(text: string): T {
      if (!(values as string[]).includes(text)) throw new Error(`must be one of: ${values.join(', ')}`);
      return text as T;
    },
    check: (v: unknown) => typeof v === 'string' && (values as string[]).includes(v),
  };
}

const nonEmptyString = {
  parse(text: string): string {
    if (text.trim() === '' || /[\0\r\n]/.test(text)) throw new Error('must be a non-empty single-line string');
    return text;
  },
  check: (v: unknown) => typeof v === 'string' && v.trim() !== '' && !/[\0\r\n]/.test(v),
};

const absolutePath = {
  parse(text: string): string {
    if (!text.startsWith('/') || text.includes('\0')) throw new Error('must be an absolute path');
    return text;
  },
  check: (v: unknown) => typeof v === 'string' && v.startsWith('/') && !v.includes('\0'),
};

const httpUrl = {
  parse(text: string): string {
    let u: URL;
    try { u = new URL(text); } catch { throw new Error('must be an http:// or https:// URL'); }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('must be an http:// or https:// URL');
    return text.replace(/\/+$/, '');
  },
  check: (v: unknown) => typeof v === 'string' && /^https?:\/\//.test(v),
};

const sealed = {
  parse(): never { throw new Error('is a secret: set it with `mediagate config set-secret`'); },
  check: (v: unknown) => typeof v === 'string' && v.startsWith('nacl:v1:'),
};

/** Every key mediagate understands. Unknown keys are refused. */
export const CONFIG_KEYS: KeySpec[] = [
  { key: 'mpd.host', description: 'MPD host name, IP or unix socket path (overridden by MPD_HOST)', ...nonEmptyString, default: 'localhost' },
  { key: 'mpd.port', description: 'MPD TCP port (overridden by MPD_PORT)', ...integer(1, 65535), default: 6600 },
  { key: 'mpd.password', description: 'MPD password (sealed secret)', ...sealed, secret: true },
  { key: 'mpd.enabled', description: 'look for an MPD server at all (true|false)', ...boolParser(), default: true },
  { key: 'player.default', description: 'player used when --player is not given (default: most recently active)', ...nonEmptyString },
  { key: 'backend.timeoutMs', description: 'time limit for one call to a player or mixer, in milliseconds', ...integer(50, 60000), default: 3000 },
  { key: 'volume.backend', description: 'system mixer: auto, pulse, pipewire, alsa or player', ...oneOf('auto', 'pulse', 'pipewire', 'alsa', 'player'), default: 'auto' },
  { key: 'volume.alsaControl', description: 'ALSA simple control used by the alsa backend', ...nonEmptyString, default: 'Master' },
  { key: 'volume.alsaCard', description: 'ALSA card index or name used by the alsa backend', ...nonEmptyString },
  { key: 'server.publicUrl', description: 'URL under which clients reach `mediagate serve` (used in invite links)', ...httpUrl },
  { key: 'media.folders.*', description: 'a named media folder: absolute path of its root', ...absolutePath },
];

function boolParser() {
  return {
    parse(text: string): boolean {
      if (text === 'true' || text === 'yes' || text === '1') return true;
      if (text === 'false' || text === 'no' || text === '0') return false;
      throw new Error('must be true or false');
    },
    check: (v: unknown) => typeof v === 'boolean',
  };
}

/** The spec for `key`, or a ConfigError naming the key. */
export function keySpec(key: string): KeySpec {
  const spec = findKeySpec(key);
  if (!spec) {
    throw new ConfigError(`unknown config key '${key}'`, 'run `mediagate config list --all` to see the keys', 'config.unknown_key');
  }
  return spec;
}

export function findKeySpec(key: string): KeySpec | undefined {
  const parts = key.split('.');
  return CONFIG_KEYS.find((s) => {
    const sp = s.key.split('.');
    return sp.length === parts.length && sp.every((p, i) => (p === '*' ? /^[A-Za-z0-9_-]{1,64}$/.test(parts[i]!) : p === parts[i]));
  });
}

/** Parse command-line text for `key` into its stored value, with an error that names the key. */
export function parseValue(key: string, text: string): ConfigValue {
  const spec = keySpec(key);
  try {
    return spec.parse(text);
  } catch (e) {
    throw new ConfigError(`invalid value for '${key}': ${(e as Error).message}`, undefined, 'config.invalid_value');
  }
}
