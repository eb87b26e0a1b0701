// A real node:http server on 127.0.0.1 with the /api/ws module attached, and
// its deps built from the REAL core: a TokenStore and InviteStore in a private
// state dir, the hash-chained audit log, a LiveState and LocalController over
// a real MPD, the colleague's CorsPolicy / FailureLockout / clientIp. Token
// changes made by other processes (the CLI) reach the module through fs.watch
// on the state dir — the same way the app can drive onTokensChanged.
import http from 'node:http';
import { watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { attachWebSocket } from '../../dist/server/ws.js';
import { TokenStore, TOKENS_FILE } from '../../dist/core/tokens.js';
import { openInviteStore } from '../../dist/core/invites.js';
import { openAuditLog, readAudit } from '../../dist/core/audit/log.js';
import { Config } from '../../dist/core/config/store.js';
import { LocalController } from '../../dist/core/control.js';
import { LiveState } from '../../dist/core/live.js';
import { PlayerHub } from '../../dist/core/players/hub.js';
import { statusJson } from '../../dist/core/players/json.js';
import { CorsPolicy } from '../../dist/server/cors.js';
import { FailureLockout } from '../../dist/server/failure-lockout.js';
import { TrustedProxies, clientIp } from '../../dist/server/client-ip.js';
import { cliEnv } from './cli.js';
import { checkWsMessage } from './openapi.js';

/** Error codes that say "this message does not fit the protocol" — what the schemas decide. */
const SHAPE_CODES = new Set(['request.invalid_json', 'request.not_an_object', 'request.unknown_type', 'request.invalid_message', 'request.unknown_action', 'usage.invalid_seek', 'usage.invalid_volume', 'usage.invalid_shuffle', 'usage.invalid_repeat', 'usage.invalid_uri']);

/**
 * Every message exchanged is checked against /api/ws-messages.json
 * (helpers/openapi.js): a server message the schemas do not describe fails
 * the test (thrown, so it cannot go unnoticed); a client message is checked
 * too, and — when it carries an id — the server's answer must agree with
 * the schemas: a message they refuse gets a shape error, one they accept
 * never does.
 */
function contractFailure(e) {
  setImmediate(() => { throw e; });
}

export const ALLOWED_ORIGIN = 'https://panel.example.net';

/**
 * Start MPD-backed core + HTTP server + WS module for test `t`.
 * `tokenEvents: false` leaves onTokensChanged silent (to test the per-command check).
 * Returns {url, port, env, stateDir, store, tokens:{read,control,admin}, pairingToken,
 *          live, controller, audit, lockout, logs, handle, server, auditEvents()}.
 */
export async function startWsServer(t, { mpd, maxFailures = 10, limits, origins = [ALLOWED_ORIGIN], tokenEvents = true } = {}) {
  const { env, configDir, stateDir } = cliEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
  // The player's own volume (MPD's software mixer): no system mixer on a test machine.
  writeFileSync(join(configDir, 'config.json'), `${JSON.stringify({ volume: { backend: 'player' } })}\n`, { mode: 0o600 });

  const audit = openAuditLog(env);
  const store = new TokenStore({ env, audit });
  const tokens = {
    read: await store.create({ label: 'reader', scope: 'read' }),
    control: await store.create({ label: 'remote', scope: 'control' }),
    admin: await store.create({ label: 'owner', scope: 'admin' }),
  };
  const invites = openInviteStore({ env, tokens: store });
  const invite = await invites.create({ label: 'phone', scope: 'control' });
  const redeemed = await invites.redeemInvite(invite.code);
  if (!redeemed.ok) throw new Error(`redeem failed: ${redeemed.reason}`);

  const config = Config.load(env);
  // Wired as serve wires them: one hub, and the controller acts on the player the live state knows.
  const hub = new PlayerHub({ env, config });
  const live = new LiveState(hub, { env, config, volume: true });
  const controller = new LocalController(env, config, { hub, known: live });
  await live.start();

  const cors = new CorsPolicy(origins);
  const trusted = new TrustedProxies([]);
  const lockout = new FailureLockout({ maxFailures });
  const listeners = new Set();
  const watcher = watch(stateDir, (_event, name) => {
    if (name === null || name === TOKENS_FILE) for (const l of listeners) l();
  });
  const logs = [];
  const deps = {
    authenticate(secret) {
      const r = store.resolveToken(secret);
      if (!r.ok) return null;
      const p = r.principal;
      return { tokenId: p.id, label: p.label, scope: p.scope, expiresAt: p.expiresAt };
    },
    stillValid: (id) => store.get(id)?.status === 'active',
    onTokensChanged(listener) {
      if (!tokenEvents) return () => {};
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    originAllowed: (o) => cors.originAllowed(o),
    clientIp: (req) => clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted),
    isLocked: (ip) => lockout.isLocked(ip).locked,
    lockRetryAfter: (ip) => lockout.isLocked(ip).retryAfterSeconds,
    recordFailure: (ip) => { lockout.recordFailure(ip); },
    live,
    controller,
    audit,
    // As serve's StatusView answers it: with `artwork` (no signed link here).
    statusJson: (s) => ({ ...statusJson(s), artwork: null }),
    log: (line) => logs.push(line),
    ...(limits ? { limits } : {}),
  };
  const server = http.createServer((req, res) => { res.statusCode = 404; res.end(); });
  const handle = attachWebSocket(server, deps);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  t.teardown(async () => {
    await handle.close();
    await new Promise((resolve) => server.close(() => resolve()));
    watcher.close();
    lockout.close();
    await live.stop();
    await controller.close();
    await store.flush();
    await audit.close();
  });
  return {
    url: `ws://127.0.0.1:${port}/api/ws`,
    port, env, stateDir, store, tokens, pairingToken: redeemed.pairingToken,
    live, controller, audit, lockout, logs, handle, server, deps,
    /** Every audit record so far (flushes first). */
    async auditEvents() { await audit.flush(); return readAudit(stateDir); },
  };
}

/**
 * Open a WS client. Resolves {ws, protocol, messages, next(pred, ms), closed}
 * on open, or {status, body, headers} when the upgrade is refused.
 */
export function connect(url, { token, protocols, headers = {}, origin, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    const ws = new WebSocket(url, protocols, { headers: h, origin, localAddress, perMessageDeflate: false });
    const client = wrap(ws);
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(body); } catch { /* not JSON */ }
        resolve({ refused: true, status: res.statusCode, headers: res.headers, body: json });
      });
    });
    ws.once('error', (e) => { if (ws.readyState !== WebSocket.OPEN) reject(e); });
  });
}

function clientVerdict(obj) {
  let value = obj;
  if (typeof obj === 'string') { try { value = JSON.parse(obj); } catch { return { fits: false, id: undefined }; } }
  let fits = true;
  try { checkWsMessage('client', value); } catch { fits = false; }
  const id = value && typeof value === 'object' && (typeof value.id === 'string' || typeof value.id === 'number') ? value.id : undefined;
  return { fits, id, value };
}

/** Message queue + waiting helpers around a ws client. */
function wrap(ws) {
  const messages = [];
  const sent = new Map(); // id → does the message fit the schemas?
  const waiters = [];
  let closeInfo = null;
  const closeWaiters = [];
  ws.on('message', (data, isBinary) => {
    const at = performance.now();
    let msg;
    try { msg = JSON.parse(data.toString('utf8')); } catch { msg = { raw: data.toString('utf8'), isBinary }; }
    try {
      checkWsMessage('server', msg);
      if ((msg.type === 'error' || msg.type === 'result') && msg.id !== undefined && msg.id !== null && sent.has(msg.id)) {
        const s = sent.get(msg.id);
        sent.delete(msg.id);
        const shapeError = msg.type === 'error' && SHAPE_CODES.has(msg.code);
        if (s.fits && shapeError) throw new Error(`the server refused a message its schemas accept (${msg.code}: ${msg.message}): ${JSON.stringify(s.value).slice(0, 300)}`);
        if (!s.fits && !shapeError && !(msg.type === 'error' && /^(auth|rate_limit)\./.test(msg.code))) {
          throw new Error(`the server answered ${msg.type}${msg.code ? ` ${msg.code}` : ''} to a message its schemas refuse: ${JSON.stringify(s.value).slice(0, 300)}`);
        }
      }
    } catch (e) {
      contractFailure(e);
    }
    msg.__at = at;
    messages.push(msg);
    for (const w of [...waiters]) if (w.pred(msg)) { waiters.splice(waiters.indexOf(w), 1); clearTimeout(w.timer); w.resolve(msg); }
  });
  ws.on('error', () => {});
  ws.on('close', (code, reason) => {
    closeInfo = { code, reason: reason.toString('utf8'), at: performance.now() };
    for (const w of closeWaiters.splice(0)) w(closeInfo);
    for (const w of waiters.splice(0)) { clearTimeout(w.timer); w.reject(new Error(`socket closed (${code} ${closeInfo.reason}) while waiting for ${w.what}`)); }
  });
  return {
    ws,
    get protocol() { return ws.protocol; },
    messages,
    send(obj) {
      const v = clientVerdict(obj);
      if (v.id !== undefined) sent.set(v.id, v);
      ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
    },
    /** The next message (already received and not yet taken, or future) matching pred. */
    next(pred = () => true, ms = 3000, what = 'a message') {
      const i = messages.findIndex((m) => !m.__taken && pred(m));
      if (i >= 0) { messages[i].__taken = true; return Promise.resolve(messages[i]); }
      if (closeInfo) return Promise.reject(new Error(`socket closed (${closeInfo.code}) before ${what}`));
      return new Promise((resolve, reject) => {
        const w = {
          pred, what,
          resolve: (m) => { m.__taken = true; resolve(m); },
          reject,
          timer: setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); reject(new Error(`timed out after ${ms} ms waiting for ${what}`)); }, ms),
        };
        waiters.push(w);
      });
    },
    /** Resolves {code, reason, at} when the socket closes (rejects after `ms`). */
    closed(ms = 10000) {
      if (closeInfo) return Promise.resolve(closeInfo);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`socket not closed after ${ms} ms (readyState ${ws.readyState})`)), ms);
        closeWaiters.push((info) => { clearTimeout(timer); resolve(info); });
      });
    },
    get isOpen() { return ws.readyState === WebSocket.OPEN; },
    close() { if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(); },
  };
}
