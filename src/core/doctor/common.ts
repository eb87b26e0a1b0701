/** Checks on every platform: MPD, the config and state dirs, a running serve, the MQTT broker. */
import { statSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import type { Config } from '../config/store.js';
import { MediagateError } from '../errors.js';
import { assertNotWritableByOthers, configDir, stateDir } from '../paths.js';
import { runningServeUrl } from '../serve-url.js';
import type { Check } from './report.js';

export interface ProbeContext {
  env: NodeJS.ProcessEnv;
  config: Config;
  timeoutMs: number;
  mpdPassword?: string | undefined;
}

const msg = (e: unknown) => (e instanceof MediagateError ? e.message : (e as Error)?.message ?? String(e));
const hint = (e: unknown) => (e instanceof MediagateError ? e.hint : undefined);

export async function checkMpd(c: ProbeContext): Promise<Check> {
  if (c.config.get<boolean>('mpd.enabled') === false) {
    return { id: 'mpd', area: 'players', name: 'MPD', status: 'skip', found: 'turned off (mpd.enabled false)' };
  }
  const { MpdSource, resolveMpdAddress } = await import('../players/mpd.js');
  let source: InstanceType<typeof MpdSource> | undefined;
  try {
    const address = resolveMpdAddress({
      env: c.env,
      configHost: c.config.has('mpd.host') ? c.config.get<string>('mpd.host') : undefined,
      configPort: c.config.has('mpd.port') ? c.config.get<number>('mpd.port') : undefined,
      configPassword: c.mpdPassword,
    });
    source = new MpdSource({ env: c.env, timeoutMs: c.timeoutMs, address });
    const s = await source.player().state();
    return { id: 'mpd', area: 'players', name: 'MPD', status: 'ok', found: `answers (${s.status}${s.title ? `: ${s.title}` : ''})`, enables: 'players' };
  } catch (e) {
    return { id: 'mpd', area: 'players', name: 'MPD', status: 'warn', found: 'not reachable', why: msg(e), fix: hint(e) ?? 'start mpd, or point MPD_HOST / mpd.host at it' };
  } finally {
    await source?.close();
  }
}

/** The config and state dirs: private, and not writable by others (what every command checks too). */
export function checkStateDirs(env: NodeJS.ProcessEnv): Check[] {
  const out: Check[] = [];
  for (const [id, name, dir] of [['config-dir', 'config dir', configDir(env)], ['state-dir', 'state dir', stateDir(env)]] as const) {
    try {
      assertNotWritableByOthers(dir, 'directory');
      let mode: number | undefined;
      try { mode = statSync(dir).mode & 0o777; } catch { /* not made yet */ }
      if (mode === undefined) { out.push({ id, area: 'state', name, status: 'ok', found: `${dir} (created 0700 on first use)` }); continue; }
      const loose = mode & 0o077;
      out.push(loose
        ? { id, area: 'state', name, status: 'warn', found: `${dir} (mode ${mode.toString(8)})`, why: 'others can read it', fix: `chmod 700 '${dir}'` }
        : { id, area: 'state', name, status: 'ok', found: `${dir} (mode ${mode.toString(8)})` });
    } catch (e) {
      out.push({ id, area: 'state', name, status: 'fail', found: dir, why: msg(e), fix: hint(e) });
    }
  }
  const key = join(configDir(env), 'secret.key');
  try {
    const mode = statSync(key).mode & 0o777;
    if (mode & 0o077) out.push({ id: 'secret-key', area: 'state', name: 'secret key file', status: 'fail', found: `${key} (mode ${mode.toString(8)})`, why: 'group or others can read the key that opens every sealed secret', fix: `chmod 600 '${key}'` });
    else out.push({ id: 'secret-key', area: 'state', name: 'secret key file', status: 'ok', found: `${key} (mode ${mode.toString(8)})` });
  } catch {
    out.push({ id: 'secret-key', area: 'state', name: 'secret key file', status: 'skip', found: env.MEDIAGATE_SECRET_KEY ? 'MEDIAGATE_SECRET_KEY is set' : 'none yet (made when a first secret is set)' });
  }
  return out;
}

/** A serve process recorded in the state dir's serve.json: is it running, and does it answer /api/health? */
export async function checkServe(c: ProbeContext): Promise<Check> {
  const url = runningServeUrl(c.env);
  if (!url) return { id: 'serve', area: 'serve', name: 'mediagate serve', status: 'skip', found: 'not running (no live serve.json in the state dir)', fix: 'start it with `mediagate serve` (see the README for running it at login)' };
  try {
    const { request } = url.startsWith('https:') ? await import('node:https') : await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/api/health`, { method: 'GET', timeout: c.timeoutMs, rejectUnauthorized: false }, (res: import('node:http').IncomingMessage) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${c.timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
    return status === 200
      ? { id: 'serve', area: 'serve', name: 'mediagate serve', status: 'ok', found: `running at ${url} (/api/health 200)` }
      : { id: 'serve', area: 'serve', name: 'mediagate serve', status: 'warn', found: `running at ${url}`, why: `/api/health answered ${status}` };
  } catch (e) {
    return { id: 'serve', area: 'serve', name: 'mediagate serve', status: 'warn', found: `recorded at ${url}`, why: `it does not answer: ${msg(e)}`, fix: 'restart it; check its log' };
  }
}

/**
 * The MQTT broker, when `mqtt.url` is configured: a plain TCP (mqtt://, ws://)
 * or TLS (mqtts://, wss://, certificate checked) connection to its address —
 * enough to tell "nothing listens" and "the certificate is refused" from a
 * broker that is there. The hook for a fuller check (an MQTT CONNECT with the
 * configured credentials) is `probeBroker`, which the MQTT bridge can replace.
 */
export async function checkMqtt(c: ProbeContext): Promise<Check> {
  if (!c.config.has('mqtt.url')) return { id: 'mqtt', area: 'mqtt', name: 'MQTT broker', status: 'skip', found: 'not configured (mqtt.url)' };
  const text = String(c.config.get('mqtt.url'));
  let u: URL;
  try { u = new URL(text); } catch { return { id: 'mqtt', area: 'mqtt', name: 'MQTT broker', status: 'fail', found: 'mqtt.url is not a URL', fix: 'mediagate config set mqtt.url mqtts://broker.example.net' }; }
  return probeBroker(u, c.timeoutMs);
}

const DEFAULT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'mqtts:': 8883, 'ws:': 80, 'wss:': 443, 'tcp:': 1883, 'ssl:': 8883 };

export async function probeBroker(u: URL, timeoutMs: number): Promise<Check> {
  const tls = u.protocol === 'mqtts:' || u.protocol === 'wss:' || u.protocol === 'ssl:';
  const port = Number(u.port) || DEFAULT_PORTS[u.protocol] || 1883;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const where = `${host}:${port}${tls ? ' (TLS)' : ''}`;
  try {
    await new Promise<void>((resolve, reject) => {
      const sock = tls ? tlsConnect({ host, port, servername: host, timeout: timeoutMs }) : netConnect({ host, port, timeout: timeoutMs });
      sock.once(tls ? 'secureConnect' : 'connect', () => { sock.end(); resolve(); });
      sock.once('timeout', () => { sock.destroy(); reject(new Error(`no answer within ${timeoutMs} ms`)); });
      sock.once('error', reject);
    });
    return { id: 'mqtt', area: 'mqtt', name: 'MQTT broker', status: 'ok', found: `${where} accepts connections${tls ? ' with a valid certificate' : ''}` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const fix = code === 'ECONNREFUSED' ? 'start the broker, or fix mqtt.url' : tls && /certificate|self.signed|CERT/i.test(String((e as Error).message)) ? 'give the broker a certificate this machine trusts (or set the CA mediagate should trust)' : 'check mqtt.url and that the broker is reachable from here';
    return { id: 'mqtt', area: 'mqtt', name: 'MQTT broker', status: 'fail', found: where, why: (e as Error).message, fix };
  }
}
