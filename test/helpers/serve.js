// A real `mediagate serve` process for one test, on 127.0.0.1 and a port the
// OS picks (--port 0), with private config and state dirs; and an HTTP
// client (undici) that can send from another loopback address, set any
// header and speak TLS to a self-signed server. Stopped by PID when `t` ends.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import dbus from 'dbus-next';
import { BIN, cliEnv, runCli } from './cli.js';
import { checkAnswer } from './openapi.js';
import { sh, tempDir } from './proc.js';

const live = new Set();
process.on('exit', () => { for (const c of live) { try { c.kill('SIGKILL'); } catch {} } });

/**
 * Start `mediagate serve --port 0 ...args` (or `port`: to come back on the same one; null: no --port) with `env` (from cliEnv). Resolves
 * once it prints "listening on URL" — or, with `expectExit`, when it exits.
 * Returns {url, port, pid, child, out(), err(), adminToken, stop(signal), exited}.
 */
export async function startServe(t, env, { args = [], expectExit = false, timeoutMs = 20000, port = 0, nodeArgs = [] } = {}) {
  // port null: no --port flag at all (the config's server.port, or the default).
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'serve', ...(port === null ? [] : ['--port', String(port)]), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => child.once('close', (code, signal) => { live.delete(child); resolve({ code, signal }); }));
  const stop = async (signal = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => { try { child.kill('SIGKILL'); } catch {} }, 10000);
    const r = await exited;
    clearTimeout(timer);
    return r;
  };
  t.teardown(() => stop());
  const started = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start within ${timeoutMs} ms:\n${err}`)), timeoutMs);
    const check = () => {
      const m = /listening on (https?:\/\/\S+)/.exec(err);
      // "listening on" is the last start-up message (after the first-start token, if any).
      if (m && !expectExit) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stderr.on('data', check);
    exited.then((r) => { clearTimeout(timer); if (expectExit) resolve(null); else reject(new Error(`serve exited (${r.code ?? r.signal}) before listening:\n${err}`)); });
  });
  const handle = {
    child,
    pid: child.pid,
    exited,
    stop,
    out: () => out,
    err: () => err,
    url: started,
    port: started ? Number(new URL(started).port) : undefined,
    adminToken: /^\s+(mg_[A-Za-z0-9_-]{43})\s*$/m.exec(err)?.[1],
  };
  if (expectExit) { const r = await exited; handle.code = r.code; }
  return handle;
}

/** cliEnv plus config set through the real CLI (`config set KEY VALUE`). */
export async function serveEnv(t, extra = {}, config = {}) {
  const e = cliEnv(t, { MPD_PORT: '1', ...extra });
  for (const [k, v] of Object.entries(config)) {
    const r = await runCli(['config', 'set', k, String(v)], { env: e.env });
    if (r.code !== 0) throw new Error(`config set ${k}: ${r.stderr}`);
  }
  return e;
}

const agents = new Map();
/** An undici Agent that connects from `localAddress` (127.0.0.x), optionally trusting `ca`. */
export function agentFor(localAddress, ca) {
  const key = `${localAddress ?? ''}|${ca ? 'tls' : ''}`;
  if (!agents.has(key)) agents.set(key, new Agent({ ...(localAddress ? { localAddress } : {}), ...(ca ? { connect: { ca } } : {}), keepAliveTimeout: 1000 }));
  return agents.get(key);
}

/**
 * One request. `token` becomes the Bearer header; `json` a JSON body with
 * Content-Type; `body` a raw body. Resolves {status, headers, text, json} —
 * after checking the answer against the OpenAPI document (helpers/openapi.js):
 * an answer the document does not describe rejects, and the test fails.
 */
export async function api(srv, method, path, { token, json, body, headers = {}, from, ca } = {}) {
  const h = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  let payload = body;
  if (json !== undefined) { payload = JSON.stringify(json); h['content-type'] ??= 'application/json'; }
  const base = typeof srv === 'string' ? srv : srv.url;
  const res = await request(`${base}${path}`, { method, headers: h, body: payload, dispatcher: agentFor(from, ca) });
  const text = await res.body.text();
  await checkAnswer({ method, path, status: res.statusCode, headers: res.headers, text });
  let parsed;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  return { status: res.statusCode, headers: res.headers, text, json: parsed };
}

/** Create a token with the CLI; returns {id, token, scope, label}. */
export async function cliToken(env, label, scope, extra = []) {
  const r = await runCli(['token', 'create', '--label', label, '--scope', scope, '--json', ...extra], { env });
  if (r.code !== 0) throw new Error(`token create: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Audit events as `mediagate audit --json` prints them. */
export async function auditEvents(env, args = []) {
  const r = await runCli(['audit', '--json', ...args], { env });
  if (r.code !== 0) throw new Error(`audit: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Every file under `dir`, recursively, with its content. */
export function filesUnder(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p); else out.push({ path: p, text: readFileSync(p, 'latin1') });
    }
  };
  walk(dir);
  return out;
}

/** A self-signed certificate for 127.0.0.1 made with openssl; {cert, key, certPem}. */
export function selfSigned(t) {
  const dir = tempDir(t, 'mg-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  return { cert, key, certPem: readFileSync(cert, 'utf8') };
}

/** A tiny PNG (1×1) written to `path`. */
export function writePng(path) {
  writeFileSync(path, Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5ee4c8d0000000049454e44ae426082', 'hex'));
  return path;
}

const { Message, Variant } = dbus;

/**
 * An MPRIS player on `bus` whose metadata carries `artUrl` (a real D-Bus
 * peer). `setArt(url)` changes it and emits PropertiesChanged.
 */
export async function startArtPlayer(t, bus, { name = 'artplayer', artUrl } = {}) {
  const conn = dbus.sessionBus({ busAddress: bus.address });
  conn.on('error', () => {});
  let art = artUrl;
  const meta = () => new Variant('a{sv}', {
    'mpris:trackid': new Variant('o', '/art/track/1'),
    'xesam:title': new Variant('s', 'Art Track'),
    ...(art ? { 'mpris:artUrl': new Variant('s', art) } : {}),
  });
  const props = () => ({
    PlaybackStatus: new Variant('s', 'Playing'), LoopStatus: new Variant('s', 'None'), Shuffle: new Variant('b', false),
    Volume: new Variant('d', 0.5), Position: new Variant('x', 0n), Metadata: meta(),
    CanPlay: new Variant('b', true), CanPause: new Variant('b', true), CanSeek: new Variant('b', false),
    CanGoNext: new Variant('b', false), CanGoPrevious: new Variant('b', false), CanControl: new Variant('b', true),
  });
  conn.addMethodHandler((msg) => {
    if (msg.path !== '/org/mpris/MediaPlayer2') return false;
    if (msg.interface === 'org.freedesktop.DBus.Properties') {
      if (msg.member === 'GetAll') {
        const all = msg.body[0] === 'org.mpris.MediaPlayer2.Player' ? props() : { Identity: new Variant('s', 'Art'), CanQuit: new Variant('b', false), CanRaise: new Variant('b', false) };
        conn.send(Message.newMethodReturn(msg, 'a{sv}', [all]));
        return true;
      }
      if (msg.member === 'Get') {
        const v = props()[msg.body[1]];
        conn.send(v ? Message.newMethodReturn(msg, 'v', [v]) : Message.newError(msg, 'org.freedesktop.DBus.Error.UnknownProperty', 'no such property'));
        return true;
      }
      return false;
    }
    if (msg.interface === 'org.mpris.MediaPlayer2.Player') { conn.send(Message.newMethodReturn(msg, '', [])); return true; }
    return false;
  });
  await conn.requestName(`org.mpris.MediaPlayer2.${name}`, 0);
  let stopped = false;
  const stop = () => { if (stopped) return; stopped = true; conn.disconnect(); conn._connection.stream.destroy(); };
  t.teardown(stop);
  return {
    name,
    stop,
    setArt(url) {
      art = url;
      conn.send(Message.newSignal('/org/mpris/MediaPlayer2', 'org.freedesktop.DBus.Properties', 'PropertiesChanged',
        'sa{sv}as', ['org.mpris.MediaPlayer2.Player', { Metadata: meta() }, []]));
    },
  };
}
