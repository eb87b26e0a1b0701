// Denials on a real `mediagate serve`: every ordinary refusal is in the audit
// log with actor, address and its own request id; a flood past the per-address
// budget (30 a minute per kind) becomes a bounded number of lines plus one
// line with the exact count. CORS preflights spend the per-address bucket and
// a refused one is audited; WebSocket upgrades: no credential is not a
// failure (no lockout), a locked one gets the real Retry-After, refusals over
// the rate limit are audited; WS log lines have the request log's shape.
import t from 'tap';
import WebSocket from 'ws';
import { api, auditEvents, cliToken, serveEnv, startServe } from './helpers/serve.js';

/** Open /api/ws; resolves {status, headers, body} (101 when it opened; the socket is closed again). */
function upgrade(srv, { token, from, origin, path = '/api/ws' } = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}${path}`, ['mediagate.v1'], {
      headers: token ? { authorization: `Bearer ${token}` } : {}, ...(from ? { localAddress: from } : {}), ...(origin ? { origin } : {}),
    });
    ws.once('open', () => { ws.close(); resolve({ status: 101 }); });
    ws.once('unexpected-response', (_q, res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d) => { text += d; }).on('end', () => {
        let body = null;
        try { body = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, body });
      });
    });
    ws.once('error', (e) => resolve({ status: 'error', error: e }));
  });
}

t.test('ordinary denials: each one recorded with actor, address and its own request id', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const reader = await cliToken(env, 'den-reader', 'read');
  const srv = await startServe(t, env);
  const missing = [];
  const forbidden = [];
  for (let i = 0; i < 20; i++) {
    const r = await api(srv, 'GET', '/api/status', { from: '127.0.3.1' });
    t.equal(r.status, 401);
    missing.push(r.json.error.requestId);
    const f = await api(srv, 'GET', '/api/tokens', { token: reader.token, from: '127.0.3.1' });
    t.equal(f.status, 403);
    forbidden.push(f.headers['x-request-id']);
  }
  t.equal((await srv.stop()).code, 0);
  const events = await auditEvents(env);
  const miss = events.filter((e) => e.action === 'auth.missing_token' && e.ip === '127.0.3.1');
  t.equal(miss.length, 20, '20 missing-token refusals → 20 events');
  t.same(miss.map((e) => e.requestId).sort(), [...missing].sort(), 'each with the request id its answer carried (all distinct)');
  t.equal(new Set(missing).size, 20);
  t.ok(miss.every((e) => e.actor.id === 'anonymous' && e.outcome === 'denied' && e.target === 'GET /api/status'), 'actor, outcome, target');
  const forb = events.filter((e) => e.action === 'auth.forbidden' && e.ip === '127.0.3.1');
  t.equal(forb.length, 20, '20 wrong-scope refusals → 20 events');
  t.same(forb.map((e) => e.requestId).sort(), [...forbidden].sort());
  t.ok(forb.every((e) => e.actor.label === 'den-reader'), 'the token holder is the actor');
  t.notOk(events.some((e) => /similar refusal/.test(e.detail ?? '')), 'no summary line: nothing was over the budget');
});

t.test('a flood of 429s: 30 recorded individually, then one line with the exact count; another address unaffected', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 1, 'server.rateLimit.burst': 5 });
  const srv = await startServe(t, env);
  const refused = [];
  let ok = 0;
  for (let i = 0; i < 120; i++) {
    const r = await api(srv, 'GET', '/api/health', { from: '127.0.3.2' });
    if (r.status === 429) refused.push(r.headers['x-request-id']);
    else if (r.status === 200) ok++;
  }
  t.ok(refused.length >= 60, `most refused (${refused.length} × 429, ${ok} × 200)`);
  // Another address, a few 429s: each recorded.
  const few = [];
  for (let i = 0; i < 8; i++) {
    const r = await api(srv, 'GET', '/api/health', { from: '127.0.3.3' });
    if (r.status === 429) few.push(r.headers['x-request-id']);
  }
  t.ok(few.length >= 1, `the neighbour got ${few.length} × 429`);
  t.equal((await srv.stop()).code, 0, 'shutdown writes the pending count');
  const events = (await auditEvents(env, ['--action', 'rate_limit'])).filter((e) => e.action === 'rate_limit.exceeded');
  const mine = events.filter((e) => e.ip === '127.0.3.2');
  const individual = mine.filter((e) => e.requestId !== undefined);
  const summaries = mine.filter((e) => e.requestId === undefined);
  t.equal(individual.length, 30, 'the first 30 recorded individually');
  t.same(individual.map((e) => e.requestId), refused.slice(0, 30), 'with their own request ids, in order');
  t.equal(summaries.length, 1, 'then one summary line (bounded: 31 lines for the whole flood)');
  const m = /^\+(\d+) similar refusal\(s\) from this address within 60 s \(request ids not recorded\)/.exec(summaries[0]?.detail ?? '');
  t.ok(m, `summary wording: ${summaries[0]?.detail}`);
  t.equal(Number(m?.[1]), refused.length - 30, `the count is exact (${refused.length} refusals = 30 + ${refused.length - 30})`);
  t.equal(summaries[0]?.actor.id, 'anonymous');
  const theirs = events.filter((e) => e.ip === '127.0.3.3');
  t.same(theirs.map((e) => e.requestId), few, 'the neighbour\'s refusals each recorded, not swallowed by the flood');
});

t.test('CORS preflights spend the per-address bucket; a refused preflight is audited', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 1, 'server.rateLimit.burst': 5, 'server.corsOrigins': 'https://app.example' });
  const srv = await startServe(t, env);
  const pre = (from, origin = 'https://app.example') => api(srv, 'OPTIONS', '/api/volume', { from, headers: { origin, 'access-control-request-method': 'PUT' } });
  const codes = {};
  for (let i = 0; i < 30; i++) {
    const s = (await pre('127.0.3.4')).status;
    codes[s] = (codes[s] ?? 0) + 1;
  }
  t.ok(codes[429] >= 15, `preflights from one address get 429 past the burst (${JSON.stringify(codes)})`);
  t.ok(codes[204] >= 5, 'the first ones are allowed');
  const r = await pre('127.0.3.5');
  t.equal(r.status, 204, 'another address is unaffected');
  const denied = await pre('127.0.3.6', 'https://evil.example');
  t.equal(denied.status, 403, 'a foreign origin is refused');
  t.equal(denied.json.error.code, 'cors.denied');
  t.equal((await srv.stop()).code, 0);
  const events = await auditEvents(env);
  const cors = events.filter((e) => e.action === 'cors.denied');
  t.equal(cors.length, 1, 'the refused preflight is audited');
  t.equal(cors[0]?.requestId, denied.headers['x-request-id'], 'with its request id');
  t.equal(cors[0]?.ip, '127.0.3.6');
  t.match(cors[0]?.detail, /evil\.example/);
  t.ok(events.some((e) => e.action === 'rate_limit.exceeded' && e.ip === '127.0.3.4' && e.target === 'OPTIONS /api/volume'), 'a preflight 429 is audited');
  t.notOk(events.some((e) => e.ip === '127.0.3.5' && e.outcome === 'denied'), 'an allowed preflight is not a denial');
});

t.test('WebSocket upgrades: no credential is no failure; wrong ones lock with the real Retry-After; 429s audited; log shape', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const admin = await cliToken(env, 'den-admin', 'admin');
  const srv = await startServe(t, env);

  // 12 tokenless upgrades: each 401 missing_token, none counted.
  for (let i = 0; i < 12; i++) {
    const r = await upgrade(srv, { from: '127.0.3.7' });
    t.equal(r.status, 401, `tokenless upgrade ${i + 1} → 401`);
    t.equal(r.body?.error?.code, 'auth.missing_token');
  }
  t.equal((await api(srv, 'GET', '/api/auth/whoami', { token: admin.token, from: '127.0.3.7' })).status, 200, 'the address is not locked out: the admin token still works over HTTP');
  t.equal((await upgrade(srv, { token: admin.token, from: '127.0.3.7' })).status, 101, 'and over WebSocket');

  // 10 wrong tokens over WS lock the address, for HTTP too, with the lock's real remaining time.
  for (let i = 0; i < 10; i++) t.equal((await upgrade(srv, { token: `mg_${'W'.repeat(42)}${i}`, from: '127.0.3.8' })).status, 401, `wrong token ${i + 1}`);
  const locked = await upgrade(srv, { token: admin.token, from: '127.0.3.8' });
  t.equal(locked.status, 429, 'locked: even the right token is refused');
  t.equal(locked.body?.error?.code, 'auth.locked');
  const retry = Number(locked.headers['retry-after']);
  t.ok(retry > 60 && retry <= 900, `Retry-After is the remaining lock time (${retry} s of 15 min), not a fixed 60`);
  const http = await api(srv, 'GET', '/api/auth/whoami', { token: admin.token, from: '127.0.3.8' });
  t.equal(http.status, 429);
  t.ok(Math.abs(Number(http.headers['retry-after']) - retry) <= 2, 'the same remaining time as over HTTP');
  t.equal((await srv.stop()).code, 0);

  const events = await auditEvents(env);
  const missing = events.filter((e) => e.action === 'auth.missing_token' && e.ip === '127.0.3.7');
  t.equal(missing.length, 12, 'each tokenless upgrade audited');
  t.equal(new Set(missing.map((e) => e.requestId)).size, 12, 'with distinct request ids');
  t.ok(events.some((e) => e.action === 'auth.locked' && e.ip === '127.0.3.8' && e.requestId === locked.body.error.requestId), 'the locked upgrade audited');

  // The request log: WS lines in the same shape as every request, no token.
  const lines = srv.out().split('\n').filter((l) => l.includes('/api/ws'));
  t.ok(lines.length >= 24, `WS upgrades are in the request log (${lines.length})`);
  const shape = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z GET \/api\/ws (\d{3}) [\d.]+ms rid=\S+ actor=(-|"[^"]*")$/;
  const bad = lines.filter((l) => !shape.test(l));
  t.same(bad, [], 'every WS upgrade line has the request log\'s shape');
  t.ok(lines.some((l) => / 101 .* actor="den-admin"$/.test(l)), 'an accepted upgrade names the actor, quoted');
  t.ok(lines.some((l) => / 401 .* actor=-$/.test(l)), 'a refused one has no actor');
  const closes = srv.out().split('\n').filter((l) => / ws closed \d+/.test(l));
  t.ok(closes.length >= 1 && closes.every((l) => /^\d{4}-\d\d-\d\dT\S+Z ws closed \d+ after \d+ s rid=\S+ actor="den-admin"$/.test(l)), `close lines too: ${closes[0]}`);
  t.notOk(srv.out().includes(admin.token), 'no token in the request log');
});

t.test('WebSocket upgrades over the rate limit are refused and audited', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 1, 'server.rateLimit.burst': 3 });
  const admin = await cliToken(env, 'den-ws', 'read');
  const srv = await startServe(t, env);
  const got = [];
  for (let i = 0; i < 8; i++) got.push(await upgrade(srv, { token: admin.token, from: '127.0.3.9' }));
  const refused = got.filter((r) => r.status === 429);
  t.ok(refused.length >= 3, `upgrades past the burst get 429 (${got.map((r) => r.status).join(' ')})`);
  t.ok(got.slice(0, 3).every((r) => r.status === 101), 'the first ones open');
  t.equal((await srv.stop()).code, 0);
  const events = (await auditEvents(env)).filter((e) => e.action === 'rate_limit.exceeded' && e.ip === '127.0.3.9');
  t.same(events.map((e) => e.requestId).sort(), refused.map((r) => r.body.error.requestId).sort(), 'each refused upgrade audited with its request id');
  t.ok(events.every((e) => e.target === 'GET /api/ws'));
});
