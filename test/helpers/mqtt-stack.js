// One machine of the house for MQTT tests: a real Mosquitto (or one given),
// optionally MPD, mpv on a private bus and PulseAudio, and a real
// `mediagate serve` with its bridge configured through the real CLI.
import { join } from 'node:path';
import { runCli } from './cli.js';
import { startMpv, startSessionBus } from './dbus.js';
import { startMosquitto, watch } from './mosquitto.js';
import { startMpd } from './mpd.js';
import { makeMusic, tempDir } from './proc.js';
import { startPulse } from './pulse.js';
import { serveEnv, startServe } from './serve.js';

/**
 * Options: broker (a startMosquitto handle; else one is started: anonymous
 * unless users are given), node ('box'), mpd, mpv, pulse (start those),
 * config (more `config set` pairs), password (stored with config set-secret),
 * serveArgs. Returns {mq, mpd, bus, mpv, pa, env, srv, node, topic(rel), watch(filters, opts)}.
 */
export async function startStack(t, opts = {}) {
  const mq = opts.broker ?? await startMosquitto(t, { anonymous: !opts.users, users: opts.users ?? {} });
  const node = opts.node ?? 'box';
  const mpd = opts.mpd ? await startMpd(t) : undefined;
  const bus = opts.mpv ? await startSessionBus(t) : undefined;
  const mpv = opts.mpv ? await startMpv(t, bus, [join(makeMusic(join(tempDir(t), 'music')), 'a.ogg')]) : undefined;
  const pa = opts.pulse ? await startPulse(t) : undefined;
  const extra = {
    ...(mpd ? { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) } : {}),
    ...(bus ? { DBUS_SESSION_BUS_ADDRESS: bus.address } : {}),
    ...(pa ? { XDG_RUNTIME_DIR: pa.runtime } : {}),
    ...(opts.env ?? {}),
  };
  const { env } = await serveEnv(t, extra, { 'mqtt.url': opts.url ?? mq.url, 'mqtt.node': node, ...(opts.config ?? {}) });
  if (opts.password !== undefined) {
    const r = await runCli(['config', 'set-secret', 'mqtt.password'], { env, input: opts.password });
    if (r.code !== 0) throw new Error(`set-secret: ${r.stderr}`);
  }
  const srv = opts.noServe ? undefined : await startServe(t, env, { args: opts.serveArgs ?? [] });
  return {
    mq, mpd, bus, mpv, pa, env, srv, node,
    topic: (rel) => `mediagate/${node}/${rel}`,
    watch: (filters, w = {}) => watch(t, mq, filters, w),
  };
}

/** Parse a message's JSON text. */
export const json = (m) => JSON.parse(m.text);

/** Wait until the serve's bridge says it is connected (its log line). */
export async function bridgeConnected(srv, { count = 1, ms = 15000 } = {}) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const n = (srv.err().match(/mqtt: connected to /g) ?? []).length;
    if (n >= count) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`serve's bridge did not connect (${count}) within ${ms} ms:\n${srv.err()}`);
}
