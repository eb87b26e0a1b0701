/**
 * The broker connection as config describes it (`mqtt.*`), for the bridge in
 * `serve` and for the fleet commands: one reading of the keys, one set of
 * connect options. Certificates are read here, with errors naming the key;
 * the password is opened from its sealed form and never leaves the options
 * object (no log line, error or argv holds it).
 *
 * TLS is never weakened: `rejectUnauthorized` is always true, the broker's
 * certificate must chain to `mqtt.ca` (when set) or a public CA and name the
 * host. There is no option to turn that off.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Config } from '../config/store.js';
import { ConfigError } from '../errors.js';
import { nodeFromHostname } from './topics.js';

export interface BrokerSettings {
  url: string;
  tls: boolean;
  protocolVersion: 4 | 5;
  username: string | undefined;
  password: string | undefined;
  ca: Buffer | undefined;
  cert: Buffer | undefined;
  key: Buffer | undefined;
  node: string;
  baseTopic: string;
  discovery: boolean;
  discoveryPrefix: string;
  commands: 'off' | 'control';
  playerDevices: boolean;
  artworkMaxBytes: number;
}

function readPem(config: Config, key: string): Buffer | undefined {
  const path = config.get<string>(key);
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(`cannot read ${key} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, `check the file named by ${key}: mediagate config get ${key}`, 'config.mqtt_file');
  }
}

/** Is the bridge configured at all (`mqtt.url` set)? */
export function mqttConfigured(config: Config): boolean {
  return config.has('mqtt.url');
}

/**
 * Everything needed to talk to the broker; ConfigError (exit 5) when
 * `mqtt.url` is not set or a file cannot be read. `readSecret` opens the
 * sealed password (passed in so core/secrets loads only when needed).
 */
export async function brokerSettings(config: Config, env: NodeJS.ProcessEnv): Promise<BrokerSettings> {
  const url = config.get<string>('mqtt.url');
  if (!url) {
    throw new ConfigError('no MQTT broker is configured', 'set one with: mediagate config set mqtt.url mqtt://HOST:1883 (or mqtts://HOST:8883)', 'config.mqtt_missing');
  }
  let password: string | undefined;
  if (config.has('mqtt.password')) {
    const { readSecret } = await import('../secrets.js');
    password = readSecret(config, 'mqtt.password', env);
  }
  const cert = readPem(config, 'mqtt.cert');
  const key = readPem(config, 'mqtt.key');
  if (Boolean(cert) !== Boolean(key)) {
    throw new ConfigError(`a client certificate needs both mqtt.cert and mqtt.key: only ${cert ? 'mqtt.cert' : 'mqtt.key'} is set`, 'set both, or unset the one that is set', 'config.mqtt_client_cert');
  }
  const tls = url.startsWith('mqtts:');
  if (!tls && (cert || config.has('mqtt.ca'))) {
    throw new ConfigError('mqtt.ca / mqtt.cert are set but mqtt.url is not mqtts://: the connection would not use them', 'use mqtts://HOST:PORT, or unset mqtt.ca and mqtt.cert', 'config.mqtt_tls_mismatch');
  }
  return {
    url,
    tls,
    protocolVersion: config.get<number>('mqtt.protocol') === 4 ? 4 : 5,
    username: config.get<string>('mqtt.username'),
    password,
    ca: readPem(config, 'mqtt.ca'),
    cert,
    key,
    node: config.get<string>('mqtt.node') ?? nodeFromHostname(hostname()),
    baseTopic: config.get<string>('mqtt.baseTopic') ?? 'mediagate',
    discovery: config.get<boolean>('mqtt.discovery') ?? true,
    discoveryPrefix: config.get<string>('mqtt.discoveryPrefix') ?? 'homeassistant',
    commands: config.get<string>('mqtt.commands') === 'off' ? 'off' : 'control',
    playerDevices: config.get<boolean>('mqtt.playerDevices') ?? false,
    artworkMaxBytes: config.get<number>('mqtt.artworkMaxBytes') ?? 65536,
  };
}

/** The audit actor id of commands that arrive through this connection. */
export function mqttActorId(s: Pick<BrokerSettings, 'username'>): string {
  return `mqtt:${s.username ?? 'anonymous'}`;
}

/**
 * MQTT.js connect options (a plain object: nothing here imports mqtt).
 * Reconnecting is left to the caller (`reconnectPeriod: 0`), which backs off.
 */
export function connectOptions(s: BrokerSettings, extra: { clientId: string; will?: { topic: string; payload: string; retain: boolean; qos: 0 | 1 }; connectTimeoutMs?: number; keepaliveS?: number }) {
  return {
    protocolVersion: s.protocolVersion,
    clientId: extra.clientId,
    clean: true,
    keepalive: extra.keepaliveS ?? 30,
    connectTimeout: extra.connectTimeoutMs ?? 10_000,
    reconnectPeriod: 0,
    queueQoSZero: false,
    resubscribe: false,
    ...(s.username !== undefined ? { username: s.username } : {}),
    ...(s.password !== undefined ? { password: s.password } : {}),
    ...(extra.will ? { will: { ...extra.will, payload: Buffer.from(extra.will.payload) } } : {}),
    ...(s.tls ? { rejectUnauthorized: true, ...(s.ca ? { ca: s.ca } : {}), ...(s.cert ? { cert: s.cert, key: s.key } : {}) } : {}),
  };
}
