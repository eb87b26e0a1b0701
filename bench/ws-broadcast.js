#!/usr/bin/env node
// One volume change reaching 1,000 authenticated WebSocket clients through
// mediagate's /api/ws module, against a bare `ws` server broadcasting the
// same message to 1,000 clients — in the same run, rounds interleaved.
//
// Each server runs in its own child process (NODE_EXTRA_CA_CERTS unset); all
// 2,000 clients live in this process. A round: this process tells a server
// (over the IPC channel) to broadcast, and times until every one of its
// 1,000 clients has the message. The mediagate server is the real module
// with deps from the real core (TokenStore in a temp state dir, CorsPolicy,
// FailureLockout, clientIp); its clients authenticate with a bearer token and
// subscribe; the change is a 'volume' event on a LiveState-like emitter.
// The bare server does `for (const c of wss.clients) c.send(json)`.
//
// Run after a build: node bench/ws-broadcast.js [--rounds 31] [--clients 1000]
// Writes bench/results.json (key "wsBroadcast", other keys kept).
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';

const HERE = fileURLToPath(import.meta.url);
const ROOT = join(dirname(HERE), '..');
const { values: opts } = parseArgs({
  options: {
    server: { type: 'string' },
    rounds: { type: 'string', default: '31' },
    warmup: { type: 'string', default: '5' },
    clients: { type: 'string', default: '1000' },
    'no-write': { type: 'boolean', default: false },
  },
});

const volumeOf = (i) => ({ level: i % 101, muted: false, target: 'system', backend: 'pulse' });

// ---------------------------------------------------------------- server side
async function serveBare() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  process.on('message', (m) => {
    if (m.cmd !== 'emit') return;
    const t0 = performance.now();
    const json = JSON.stringify({ type: 'volume', data: volumeOf(m.i) });
    for (const c of wss.clients) c.send(json);
    process.send({ sent: performance.now() - t0 });
  });
  process.send({ port: wss.address().port });
}

async function serveMediagate() {
  const { attachWebSocket } = await import('../dist/server/ws.js');
  const { TokenStore } = await import('../dist/core/tokens.js');
  const { CorsPolicy } = await import('../dist/server/cors.js');
  const { FailureLockout } = await import('../dist/server/failure-lockout.js');
  const { TrustedProxies, clientIp } = await import('../dist/server/client-ip.js');
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-ws-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const env = { MEDIAGATE_STATE_DIR: dir, MEDIAGATE_CONFIG_DIR: dir };
  const store = new TokenStore({ env });
  const { token } = await store.create({ label: 'bench', scope: 'read' });
  const live = new EventEmitter();
  let volume = volumeOf(0);
  live.snapshot = () => ({ players: [], active: null, volume, problems: [] });
  const cors = new CorsPolicy([]);
  const lockout = new FailureLockout();
  const trusted = new TrustedProxies([]);
  const server = http.createServer((_q, res) => { res.statusCode = 404; res.end(); });
  attachWebSocket(server, {
    authenticate(secret) {
      const r = store.resolveToken(secret);
      return r.ok ? { tokenId: r.principal.id, label: r.principal.label, scope: r.principal.scope, expiresAt: r.principal.expiresAt } : null;
    },
    stillValid: (id) => store.get(id)?.status === 'active',
    onTokensChanged: () => () => {},
    originAllowed: (o) => cors.originAllowed(o),
    clientIp: (req) => clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted),
    isLocked: (ip) => lockout.isLocked(ip).locked,
    recordFailure: (ip) => { lockout.recordFailure(ip); },
    live,
    controller: null,
    audit: { append() {} },
    statusJson: (s) => s,
    log: () => {},
    limits: { maxConnections: 100_000 },
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  process.on('message', (m) => {
    if (m.cmd !== 'emit') return;
    const t0 = performance.now();
    volume = volumeOf(m.i);
    live.emit('volume', volume);
    process.send({ sent: performance.now() - t0 });
  });
  process.send({ port: server.address().port, token });
}

// ---------------------------------------------------------------- client side
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
const round2 = (x) => Math.round(x * 100) / 100;

function startServer(kind) {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const child = fork(HERE, ['--server', kind], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
    child.once('message', (m) => resolve({ child, ...m }));
  });
}

/** Open `n` clients (a few hundred at a time). Resolves the sockets once each is ready. */
async function openClients(kind, port, token, n, onMessage) {
  const sockets = [];
  const one = () => new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const ws = new WebSocket(`ws://127.0.0.1:${port}${kind === 'mediagate' ? '/api/ws' : '/'}`, { headers, perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('unexpected-response', (_q, res) => reject(new Error(`${kind}: upgrade refused ${res.statusCode}`)));
    ws.once('open', () => {
      if (kind !== 'mediagate') { ws.on('message', onMessage); resolve(ws); return; }
      ws.send('{"type":"subscribe"}');
      let initial = 0;
      const first = () => {
        if (++initial < 2) return; // status + volume
        ws.off('message', first);
        ws.on('message', onMessage);
        resolve(ws);
      };
      ws.on('message', first);
    });
  });
  for (let i = 0; i < n; i += 250) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 250); j++) batch.push(one());
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

async function main() {
  const N = Number(opts.clients);
  const ROUNDS = Number(opts.rounds);
  const WARMUP = Number(opts.warmup);
  const servers = {};
  for (const kind of ['bare', 'mediagate']) {
    const s = await startServer(kind);
    const state = { got: 0, done: null, last: null };
    const onMessage = (data) => {
      state.last = data;
      if (++state.got === N) state.done?.();
    };
    s.sockets = await openClients(kind, s.port, s.token, N, onMessage);
    s.state = state;
    s.times = [];
    s.sends = [];
    servers[kind] = s;
  }

  /** One broadcast to all N clients of `kind`; ms from the request to the last arrival. */
  const roundOf = (kind, i) => new Promise((resolve) => {
    const s = servers[kind];
    s.state.got = 0;
    let sent;
    let elapsed;
    const finish = () => { if (sent !== undefined && elapsed !== undefined) resolve({ elapsed, sent }); };
    s.child.once('message', (m) => { sent = m.sent; finish(); });
    const t0 = performance.now();
    s.state.done = () => { elapsed = performance.now() - t0; s.state.done = null; finish(); };
    s.child.send({ cmd: 'emit', i });
  });

  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    const order = r % 2 ? ['mediagate', 'bare'] : ['bare', 'mediagate'];
    for (const kind of order) {
      const { elapsed, sent } = await roundOf(kind, r + 1);
      const msg = JSON.parse(servers[kind].state.last.toString());
      if (msg.type !== 'volume' || msg.data.level !== (r + 1) % 101) throw new Error(`${kind}: wrong message ${JSON.stringify(msg)}`);
      if (r >= WARMUP) { servers[kind].times.push(elapsed); servers[kind].sends.push(sent); }
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  const bare = median(servers.bare.times);
  const mg = median(servers.mediagate.times);
  const bareSend = median(servers.bare.sends);
  const mgSend = median(servers.mediagate.sends);
  const result = {
    when: new Date().toISOString(),
    node: process.version,
    clients: N,
    rounds: ROUNDS,
    warmupRounds: WARMUP,
    note: 'ms from asking the server (IPC) to broadcast one volume change until all clients have it; medians over interleaved rounds; servers in separate processes, clients in the bench process; NODE_EXTRA_CA_CERTS unset',
    bareMedianMs: round2(bare),
    mediagateMedianMs: round2(mg),
    ratio: round2(mg / bare),
    serverSendMedianMs: { bare: round2(bareSend), mediagate: round2(mgSend) },
    serverSendRatio: round2(mgSend / bareSend),
    target: '≤ 1.5',
  };
  console.log(`WS broadcast to ${N} clients, ${ROUNDS} rounds (medians):`);
  console.log(`  bare ws      ${bare.toFixed(2)} ms   (server send loop ${bareSend.toFixed(2)} ms)`);
  console.log(`  mediagate    ${mg.toFixed(2)} ms   (server send loop ${mgSend.toFixed(2)} ms)`);
  console.log(`  ratio        ${result.ratio}   (server send loop ratio ${result.serverSendRatio}; target ≤ 1.5)`);

  for (const s of Object.values(servers)) {
    for (const ws of s.sockets) ws.terminate();
    s.child.removeAllListeners('exit');
    s.child.kill();
  }
  if (!opts['no-write']) {
    const path = join(ROOT, 'bench', 'results.json');
    const all = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
    all.wsBroadcast = result;
    writeFileSync(path, `${JSON.stringify(all, null, 2)}\n`);
  }
}

if (opts.server === 'bare') await serveBare();
else if (opts.server === 'mediagate') await serveMediagate();
else await main();
