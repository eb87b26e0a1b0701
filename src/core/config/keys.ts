import { isIP } from 'node:net';
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

/** A remote profile name: letters, digits, `_` and `-` (a config key segment); `local` is reserved for this machine. */
const profileName = {
  parse(text: string): string {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(text)) throw new Error('must be a remote profile name: 1–64 letters, digits, _ or -');
    if (text === 'local') throw new Error("'local' means this machine, not a profile");
    return text;
  },
  check: (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v) && v !== 'local',
};

const sealed = {
  parse(): never { throw new Error('is a secret: set it with `mediagate config set-secret`'); },
  check: (v: unknown) => typeof v === 'string' && v.startsWith('nacl:v1:'),
};

/**
 * A comma-separated list (`a,b,c`) stored as a string array; each entry is
 * checked by `entry`, which returns the normalised entry or throws a message.
 * Stored values are checked structurally only (an array of single-line
 * strings): `serve` checks the entries again at startup and refuses to start
 * with a message naming the bad one, which says more than a generic error.
 * With `strict`, a stored value must also be what `entry` gives for each
 * entry (for lists nothing else re-checks).
 */
function stringList(what: string, entry: (text: string) => string, opts: { strict?: boolean } = {}) {
  const valid = (s: string): boolean => { try { return entry(s) === s; } catch { return false; } };
  return {
    parse(text: string): string[] {
      const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      if (items.length === 0) throw new Error(`must be a comma-separated list of ${what} (remove the key with \`mediagate config unset\`)`);
      return items.map((s) => {
        try { return entry(s); } catch (e) { throw new Error(`'${s.slice(0, 100)}' ${(e as Error).message}`); }
      });
    },
    check: (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0 && !/[\0\r\n]/.test(s) && (!opts.strict || valid(s))),
  };
}

/** An exact web origin (`https://host[:port]`), normalised; never a wildcard. */
function webOrigin(text: string): string {
  if (text.includes('*')) throw new Error('is a wildcard: CORS wildcards are refused, list each origin');
  let u: URL;
  try { u = new URL(text); } catch { throw new Error('is not an origin such as https://home.example.net'); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('must start with http:// or https://');
  if (u.username || u.password || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || /[?#]/.test(text)) {
    throw new Error('must be an origin only (scheme://host[:port]), without a path, query, fragment or credentials');
  }
  return u.origin;
}

/** An IP address or CIDR range (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`). */
function ipOrCidr(text: string): string {
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const family = isIP(addr);
  if (family === 0) throw new Error('is not an IP address or CIDR range (e.g. 10.0.0.0/8, fd00::/8)');
  if (slash >= 0) {
    const bits = text.slice(slash + 1);
    const max = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) throw new Error(`has an invalid prefix length (0–${max})`);
  }
  return text;
}

/** A player name as --player takes it: `mpd`, `mpv`, `vlc.instance42` (MPRIS bus-name segments). */
function playerName(text: string): string {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(text) || text.length > 255) throw new Error('is not a player name such as mpv, mpd or chromium');
  return text;
}

/** A URI scheme (`https`), lower case, without the colon. */
function uriScheme(text: string): string {
  const s = text.replace(/:(\/\/)?$/, '').toLowerCase();
  if (!/^[a-z][a-z0-9+.-]{0,31}$/.test(s)) throw new Error('is not a URI scheme such as https');
  return s;
}

/** A broker URL: mqtt://host[:port] or mqtts://host[:port], without credentials or a path. */
const brokerUrl = {
  parse(text: string): string {
    let u: URL;
    try { u = new URL(text); } catch { throw new Error('must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT]'); }
    if (u.protocol !== 'mqtt:' && u.protocol !== 'mqtts:') throw new Error('must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT]');
    if (u.username || u.password) throw new Error('must not hold credentials: set mqtt.username and `config set-secret mqtt.password`');
    if ((u.pathname !== '' && u.pathname !== '/') || u.search || u.hash || !u.hostname) throw new Error('must be only a scheme, host and port (mqtt://HOST[:PORT])');
    return `${u.protocol}//${u.host}`;
  },
  check: (v: unknown) => typeof v === 'string' && /^mqtts?:\/\/[^/@?#\s]+$/.test(v),
};

/** A topic prefix: levels of printable characters, no wildcards, no leading `$` or `/`. */
const topicPrefix = {
  parse(text: string): string {
    if (!/^[^\s/$+#\0][^\s+#\0]{0,99}$/.test(text) || text.endsWith('/') || text.includes('//')) {
      throw new Error('must be an MQTT topic prefix without wildcards (+ #), spaces, a leading $ or / or a trailing /');
    }
    return text;
  },
  check: (v: unknown) => typeof v === 'string' && /^[^\s/$+#\0][^\s+#\0]{0,99}$/.test(v) && !v.endsWith('/') && !v.includes('//'),
};

const nodeName = {
  parse(text: string): string {
    if (!/^[a-z0-9_-]{1,64}$/.test(text)) throw new Error('must be 1–64 of a-z, 0-9, _ and - (it is a topic level)');
    return text;
  },
  check: (v: unknown) => typeof v === 'string' && /^[a-z0-9_-]{1,64}$/.test(v),
};

const protocolVersion = {
  parse(text: string): number {
    if (text !== '4' && text !== '5') throw new Error('must be 5 (MQTT 5) or 4 (MQTT 3.1.1)');
    return Number(text);
  },
  check: (v: unknown) => v === 4 || v === 5,
};

/** The MQTT bridge of `serve` and the broker connection of `nodes` / `--node`. */
function MQTT_KEYS(): KeySpec[] {
  return [
    { key: 'mqtt.url', description: 'MQTT broker for the bridge in `serve` and for `nodes` / --node: mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (TLS, verified)', ...brokerUrl },
    { key: 'mqtt.username', description: 'user name at the MQTT broker (audited actor: mqtt:<user>)', ...nonEmptyString },
    { key: 'mqtt.password', description: 'password at the MQTT broker (sealed secret)', ...sealed, secret: true },
    { key: 'mqtt.ca', description: 'CA certificate (PEM) the broker\'s TLS certificate must chain to, when not a public CA', ...absolutePath },
    { key: 'mqtt.cert', description: 'client certificate (PEM) for a broker that asks for one; needs mqtt.key', ...absolutePath },
    { key: 'mqtt.key', description: 'private key (PEM) of mqtt.cert', ...absolutePath },
    { key: 'mqtt.node', description: 'this machine\'s name on the broker (a-z, 0-9, _ and -; default: from the host name)', ...nodeName },
    { key: 'mqtt.baseTopic', description: 'first topic level of every mediagate topic', ...topicPrefix, default: 'mediagate' },
    { key: 'mqtt.discovery', description: 'publish Home Assistant device discovery (true|false)', ...boolParser(), default: true },
    { key: 'mqtt.discoveryPrefix', description: 'Home Assistant discovery prefix (its birth message is <prefix>/status)', ...topicPrefix, default: 'homeassistant' },
    { key: 'mqtt.commands', description: 'commands accepted over MQTT: control (play, pause, seek, volume…) or off (read-only: nothing is subscribed); never admin', ...oneOf('off', 'control'), default: 'control' },
    { key: 'mqtt.protocol', description: 'MQTT protocol version: 5, or 4 (3.1.1) for older brokers', ...protocolVersion, default: 5 },
    { key: 'mqtt.playerDevices', description: 'also one Home Assistant device per player (true|false)', ...boolParser(), default: false },
    { key: 'mqtt.artworkMaxBytes', description: 'largest artwork published on .../artwork, in bytes (larger pictures are not sent; 0 sends none)', ...integer(0, 10 * 1024 * 1024), default: 65536 },
  ];
}

/** Every key mediagate understands. Unknown keys are refused. */
export const CONFIG_KEYS: KeySpec[] = [
  { key: 'mpd.host', description: 'MPD host name, IP or unix socket path (overridden by MPD_HOST)', ...nonEmptyString, default: 'localhost' },
  { key: 'mpd.port', description: 'MPD TCP port (overridden by MPD_PORT)', ...integer(1, 65535), default: 6600 },
  { key: 'mpd.password', description: 'MPD password (sealed secret)', ...sealed, secret: true },
  { key: 'mpd.enabled', description: 'look for an MPD server at all (true|false)', ...boolParser(), default: true },
  { key: 'player.default', description: 'player used when --player is not given (default: most recently active)', ...nonEmptyString },
  { key: 'players.ignore', description: 'players no command sees, comma-separated (as --ignore-player; chromium also ignores chromium.instance1234)', ...stringList('player names', playerName, { strict: true }) },
  { key: 'backend.timeoutMs', description: 'time limit for one call to a player or mixer, in milliseconds', ...integer(50, 60000), default: 3000 },
  { key: 'volume.backend', description: 'system mixer: auto, pulse, pipewire, alsa, macos, windows or player', ...oneOf('auto', 'pulse', 'pipewire', 'alsa', 'macos', 'windows', 'player'), default: 'auto' },
  { key: 'volume.alsaControl', description: 'ALSA simple control used by the alsa backend', ...nonEmptyString, default: 'Master' },
  { key: 'volume.alsaCard', description: 'ALSA card index or name used by the alsa backend', ...nonEmptyString },
  { key: 'volume.alsaDevice', description: 'ALSA control device used by the alsa backend (amixer -D), e.g. pulse; overrides volume.alsaCard', ...nonEmptyString },
  { key: 'server.publicUrl', description: 'URL under which clients reach `mediagate serve` (used in invite links)', ...httpUrl },
  { key: 'server.host', description: 'address `mediagate serve` binds (a non-loopback address needs TLS or --allow-plain-http)', ...nonEmptyString, default: '127.0.0.1' },
  { key: 'server.port', description: 'TCP port of `mediagate serve` (0 picks a free port)', ...integer(0, 65535), default: 8420 },
  { key: 'server.tlsCert', description: 'TLS certificate (PEM) for `mediagate serve`; needs server.tlsKey', ...absolutePath },
  { key: 'server.tlsKey', description: 'TLS private key (PEM) for `mediagate serve`; needs server.tlsCert', ...absolutePath },
  { key: 'server.tlsProfile', description: 'TLS protocols and ciphers of `mediagate serve`: intermediate (TLS 1.2 ECDHE+AEAD and 1.3) or modern (TLS 1.3 only)', ...oneOf('intermediate', 'modern'), default: 'intermediate' },
  { key: 'server.tlsKeyPassphrase', description: 'passphrase of the TLS private key (sealed secret)', ...sealed, secret: true },
  { key: 'server.corsOrigins', description: 'web origins allowed to call the API from a browser, comma-separated (no wildcards)', ...stringList('origins', webOrigin) },
  { key: 'server.trustedProxies', description: 'reverse proxies whose X-Forwarded-For is believed: addresses or CIDR ranges, comma-separated', ...stringList('addresses or CIDR ranges', ipOrCidr) },
  { key: 'server.rateLimit.rps', description: 'requests per second per client address (0 turns this limit off)', ...integer(0, 100000), default: 20 },
  { key: 'server.openSchemes', description: 'URI schemes `POST /api/player/open` (and the WebSocket open command) accept, comma-separated; a plain path is never accepted there', ...stringList('URI schemes', uriScheme, { strict: true }), default: ['http', 'https'] },
  { key: 'server.openScope', description: 'scope a token needs to open a URI over the API (it makes this machine fetch it): control or admin', ...oneOf('control', 'admin'), default: 'admin' },
  { key: 'server.rateLimit.burst', description: 'requests a client address may send at once before the per-second limit applies', ...integer(1, 1000000), default: 40 },
  { key: 'media.folders.*', description: 'a named media folder: absolute path of its root', ...absolutePath },
  { key: 'remotes.*.url', description: 'a remote profile for --remote: URL of that `mediagate serve` (set with `mediagate remote add`)', ...httpUrl },
  { key: 'remotes.*.token', description: 'the token of that remote profile (sealed secret)', ...sealed, secret: true },
  { key: 'remotes.*.ca', description: 'CA certificate (PEM) that remote profile\'s TLS certificate must chain to, when not a public CA', ...absolutePath },
  { key: 'remote.default', description: 'remote profile commands use when neither --remote nor MEDIAGATE_REMOTE is given (`mediagate remote use`)', ...profileName },
  { key: 'remote.timeoutMs', description: 'how long a command waits for a remote server (ms)', ...integer(100, 600000), default: 10000 },
  ...MQTT_KEYS(),
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

// ------------------------------------------------ scripts, callbacks, MPD paths

/**
 * Keys whose values the owner writes by hand in config.json: a script
 * definition (`scripts.<name>` = {command, params, timeout, …}) is stored as
 * the nested JSON object, so each of its fields is a key here. `config set`
 * refuses them (one field at a time cannot be validated as a script); reading
 * a file accepts any JSON value for them, and src/core/scripts.ts checks each
 * definition as a whole, with an error that names the script.
 */
const handEdited = {
  parse(): never { throw new Error('is part of a script definition: edit the "scripts" object in config.json by hand (see `mediagate script list --help`)'); },
  check: (_v: unknown) => true,
};

const scriptName = {
  parse(text: string): string {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(text)) throw new Error('must be the name of a script (letters, digits, _ and -, at most 64)');
    return text;
  },
  check: (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v),
};

const SCRIPT_KEYS: KeySpec[] = [
  { key: 'mpd.musicDirectory', description: "MPD's music_directory as seen from this machine (needed by `play file` when MPD is reached over TCP; over its unix socket MPD tells it)", ...absolutePath },
  { key: 'callbacks.on.play', description: 'script run (event JSON on stdin) when the active player starts or resumes playing', ...scriptName },
  { key: 'callbacks.on.pause', description: 'script run (event JSON on stdin) when the active player pauses', ...scriptName },
  { key: 'callbacks.on.stop', description: 'script run (event JSON on stdin) when the active player stops', ...scriptName },
  { key: 'callbacks.on.trackChange', description: 'script run (event JSON on stdin) when the title, artist or album changes', ...scriptName },
  { key: 'callbacks.on.volumeChange', description: 'script run (event JSON on stdin) when the volume or mute changes', ...scriptName },
  { key: 'scripts.*.command', description: 'script: argv array; {param} placeholders only as whole elements (edit config.json)', ...handEdited },
  { key: 'scripts.*.description', description: 'script: one line shown by `script list` (edit config.json)', ...handEdited },
  { key: 'scripts.*.timeout', description: 'script: seconds before its process tree is killed: above 0 and at most 300 (e.g. 0.5), default 10 (edit config.json)', ...handEdited },
  { key: 'scripts.*.maxOutput', description: 'script: bytes of stdout and of stderr kept, default 65536 (edit config.json)', ...handEdited },
  { key: 'scripts.*.scope', description: 'script: scope a token needs to run it: read, control or admin (default admin) (edit config.json)', ...handEdited },
  { key: 'scripts.*.params.*.pattern', description: 'script parameter: regular expression the whole value must match (edit config.json)', ...handEdited },
  { key: 'scripts.*.params.*.required', description: 'script parameter: true when it must be given (edit config.json)', ...handEdited },
  { key: 'scripts.*.env.*', description: 'script: environment variable given to it, besides PATH, HOME and LANG (edit config.json)', ...handEdited },
];
CONFIG_KEYS.push(...SCRIPT_KEYS);
