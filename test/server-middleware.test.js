// All middleware composed in the order the server assembly is expected to
// use, on a real node:http server: ordering, per-IP limits and lockout from
// distinct loopback addresses, trusted-proxy X-Forwarded-For.
//
// With MEDIAGATE_BENCH=1 it also measures, with wrk (-t2 -c2 -d5s, keep-alive),
// a bare node:http server against the same server behind all middleware,
// alternating rounds (MEDIAGATE_BENCH_ROUNDS, default 3), requests/s and the
// server's CPU time per request. Steadier numbers on a busy machine:
//   MEDIAGATE_BENCH=1 MEDIAGATE_BENCH_WRK_CPU=1 taskset -c 0 node test/server-middleware.test.js
import t from 'tap';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { assignRequestId } from '../dist/server/request-id.js';
import { secureResponseClass } from '../dist/server/security-headers.js';
import { CorsPolicy } from '../dist/server/cors.js';
import { TrustedProxies, clientIp, rateLimitKey } from '../dist/server/client-ip.js';
import { RateLimiter, GENERAL_LIMIT } from '../dist/server/rate-limit.js';
import { FailureLockout } from '../dist/server/failure-lockout.js';
import { Router, routeError } from '../dist/server/router.js';
import { readJsonBody } from '../dist/server/json-body.js';
import { HttpError, ErrorCode, sendError, sendJson } from '../dist/server/http-error.js';
import { startRequestTimeout, configureServerTimeouts } from '../dist/server/request-timeout.js';
import { scopeAllows } from '../dist/core/scopes.js';

if (process.env.MEDIAGATE_BENCH === '1') t.setTimeout(600_000);

const STATUS = { state: 'playing', title: 'SineA', artist: 'Probe', position: 12.5, duration: 30 };
const TOKENS = new Map([['mg_read', 'read'], ['mg_admin', 'admin']]);

/**
 * A stand-in for the server assembly: the middleware in order, fake auth.
 * Returns the request handler and the ServerResponse class that adds the
 * security headers to every response.
 */
function compose({ tls = false, limit = GENERAL_LIMIT, trustedProxies = [], corsOrigins = ['https://app.example.net'] } = {}) {
  const ServerResponse = secureResponseClass({ tls });
  const cors = new CorsPolicy(corsOrigins);
  const trusted = new TrustedProxies(trustedProxies);
  const general = new RateLimiter({ ...limit, sweep: false });
  const lockout = new FailureLockout({ sweep: false });
  const router = new Router([
    { method: 'GET', path: '/api/health', scope: 'public', handler: () => ({ ok: true }) },
    { method: 'GET', path: '/api/status', scope: 'read', handler: () => STATUS },
    { method: 'PUT', path: '/api/volume', scope: 'control', handler: async (req) => ({ volume: (await readJsonBody(req)).level }) },
    { method: 'GET', path: '/api/audit', scope: 'admin', handler: () => ({ events: [] }) },
  ]);
  async function handle(req, res) {
    const id = assignRequestId(req, res);
    const timer = startRequestTimeout(res, { requestId: id });
    try {
      const ip = clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted);
      const key = rateLimitKey(ip);
      const rl = general.check(key);
      if (!rl.allowed) throw new HttpError(429, ErrorCode.rateLimited, 'too many requests; slow down', { retryAfterSeconds: rl.retryAfterSeconds });
      if (cors.handlePreflight(req, res, id)) return;
      cors.apply(req, res);
      const m = router.match(req.method, req.url);
      const err = routeError(m);
      if (err) throw err;
      if (m.route.scope !== 'public') {
        const auth = req.headers.authorization;
        if (auth === undefined) throw new HttpError(401, 'auth.missing_token', 'this endpoint needs a bearer token', { headers: { 'www-authenticate': 'Bearer realm="mediagate"' } });
        const locked = lockout.isLocked(key);
        if (locked.locked) throw new HttpError(429, ErrorCode.locked, 'too many failed attempts from this address; try again later', { retryAfterSeconds: locked.retryAfterSeconds });
        const scope = auth.startsWith('Bearer ') ? TOKENS.get(auth.slice(7)) : undefined;
        if (!scope) {
          lockout.recordFailure(key);
          throw new HttpError(401, 'auth.invalid_token', 'the token is not valid', { headers: { 'www-authenticate': 'Bearer realm="mediagate", error="invalid_token"' } });
        }
        if (!scopeAllows(scope, m.route.scope)) throw new HttpError(403, 'auth.insufficient_scope', `this endpoint needs the ${m.route.scope} scope`);
      }
      sendJson(res, 200, await m.route.handler(req, m.params));
    } catch (e) {
      sendError(res, e, id);
    } finally {
      timer.cancel();
    }
  }
  return { handle, ServerResponse };
}

function bare(req, res) {
  const body = JSON.stringify(STATUS);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function listen(t, app) {
  const server = typeof app === 'function' ? http.createServer(app) : http.createServer({ ServerResponse: app.ServerResponse }, app.handle);
  configureServerTimeouts(server);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  return server.address().port;
}

function call(port, { method = 'GET', path = '/api/status', headers = {}, body, from } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, localAddress: from, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

t.test('composed: allowed request carries every header', async (t) => {
  const port = await listen(t, compose());
  const r = await call(port, { headers: { authorization: 'Bearer mg_read', 'x-request-id': 'abc', origin: 'https://app.example.net' } });
  t.equal(r.status, 200);
  t.same(r.json, STATUS);
  t.equal(r.headers['x-request-id'], 'abc');
  t.equal(r.headers['x-frame-options'], 'DENY');
  t.equal(r.headers['access-control-allow-origin'], 'https://app.example.net');
  const put = await call(port, { method: 'PUT', path: '/api/volume', headers: { authorization: 'Bearer mg_admin', 'content-type': 'application/json' }, body: '{"level":30}' });
  t.same([put.status, put.json], [200, { volume: 30 }], 'admin ⊃ control');
});

t.test('composed: denials are JSON with the security headers and request id', async (t) => {
  const port = await listen(t, compose());
  const cases = [
    [{ headers: {} }, 401, 'auth.missing_token'],
    [{ headers: { authorization: 'Bearer mg_wrong' } }, 401, 'auth.invalid_token'],
    [{ path: '/api/audit', headers: { authorization: 'Bearer mg_read' } }, 403, 'auth.insufficient_scope'],
    [{ path: '/api/../api/audit', headers: { authorization: 'Bearer mg_admin' } }, 400, 'request.bad_path'],
    [{ method: 'DELETE', headers: { authorization: 'Bearer mg_read' } }, 405, 'route.method_not_allowed'],
    [{ method: 'PUT', path: '/api/volume', headers: { authorization: 'Bearer mg_admin', 'content-type': 'text/plain' }, body: 'x' }, 415, 'request.unsupported_media_type'],
  ];
  for (const [opts, status, code] of cases) {
    const r = await call(port, { ...opts, from: '127.0.0.5' });
    t.equal(r.status, status, `${code}: ${status}`);
    t.equal(r.json.error.code, code);
    t.equal(r.json.error.requestId, r.headers['x-request-id']);
    t.equal(r.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    t.equal(r.headers['cache-control'], 'no-store');
  }
  const pre = await call(port, { method: 'OPTIONS', path: '/api/status', headers: { origin: 'https://app.example.net', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
  t.equal(pre.status, 204, 'a preflight needs no token');
});

t.test('composed: per-IP bucket from distinct loopback addresses; 429 with Retry-After', async (t) => {
  const port = await listen(t, compose({ limit: { rate: 1, burst: 3 } }));
  for (let i = 0; i < 3; i++) t.equal((await call(port, { path: '/api/health', from: '127.0.0.2' })).status, 200);
  const denied = await call(port, { path: '/api/health', from: '127.0.0.2' });
  t.equal(denied.status, 429, 'denied: 127.0.0.2 spent its burst');
  t.equal(denied.headers['retry-after'], '1');
  t.equal(denied.json.error.code, 'rate_limit.exceeded');
  t.equal((await call(port, { path: '/api/health', from: '127.0.0.3' })).status, 200, 'allowed: 127.0.0.3 has its own bucket');
  const spoof = await call(port, { path: '/api/health', from: '127.0.0.2', headers: { 'x-forwarded-for': '198.51.100.9' } });
  t.equal(spoof.status, 429, 'a spoofed X-Forwarded-For from an untrusted peer changes nothing');
});

t.test('composed: trusted proxy — the forwarded address is what counts', async (t) => {
  const port = await listen(t, compose({ limit: { rate: 1, burst: 2 }, trustedProxies: ['127.0.0.10'] }));
  const via = (client) => call(port, { path: '/api/health', from: '127.0.0.10', headers: { 'x-forwarded-for': `6.6.6.6, ${client}` } });
  t.equal((await via('198.51.100.1')).status, 200);
  t.equal((await via('198.51.100.1')).status, 200);
  t.equal((await via('198.51.100.1')).status, 429, 'denied: the forwarded client is limited');
  t.equal((await via('198.51.100.2')).status, 200, 'allowed: another forwarded client through the same proxy');
});

t.test('composed: lockout after 10 failures — correct token refused, other IP fine', async (t) => {
  const port = await listen(t, compose({ limit: { rate: 1000, burst: 1000 } }));
  for (let i = 0; i < 10; i++) t.equal((await call(port, { from: '127.0.0.7', headers: { authorization: `Bearer mg_guess${i}` } })).status, 401);
  const locked = await call(port, { from: '127.0.0.7', headers: { authorization: 'Bearer mg_read' } });
  t.equal(locked.status, 429, 'denied: the correct token from the locked address');
  t.equal(locked.json.error.code, 'auth.locked');
  t.equal(locked.headers['retry-after'], '900');
  const other = await call(port, { from: '127.0.0.8', headers: { authorization: 'Bearer mg_read' } });
  t.equal(other.status, 200, 'allowed: another address with the correct token');
});

function wrk(url, headers = []) {
  return new Promise((resolve, reject) => {
    // MEDIAGATE_BENCH_WRK_CPU=1 (with the test itself under `taskset -c 0`) keeps wrk off the server's core.
    const cpu = process.env.MEDIAGATE_BENCH_WRK_CPU;
    const args = ['-t2', '-c2', '-d5s', ...headers.flatMap((h) => ['-H', h]), url];
    const [cmd, argv] = cpu ? ['taskset', ['-c', cpu, 'wrk', ...args]] : ['wrk', args];
    execFile(cmd, argv, { timeout: 30_000 }, (err, stdout) => {
      if (err) return reject(err);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
      resolve({ rps, non2xx });
    });
  });
}

/** Run wrk against a server and also measure this process's CPU time per request it served. */
async function measure(counter, url, headers) {
  const n0 = counter.n;
  const c0 = process.cpuUsage();
  const r = await wrk(url, headers);
  const c = process.cpuUsage(c0);
  return { ...r, cpuUsPerReq: (c.user + c.system) / (counter.n - n0) };
}

t.test('bench: bare node:http vs node:http + all middleware (wrk -t2 -c2 -d5s)', { timeout: 300_000, skip: process.env.MEDIAGATE_BENCH !== '1' && 'set MEDIAGATE_BENCH=1 to run' }, async (t) => {
  const counted = (counter, f) => (req, res) => { counter.n++; return f(req, res); };
  const bareCount = { n: 0 };
  const mwCount = { n: 0 };
  const barePort = await listen(t, counted(bareCount, bare));
  // The limiter stays ON (a limit no benchmark reaches) so its cost is measured.
  const app = compose({ limit: { rate: 1e9, burst: 1e9 } });
  const mwPort = await listen(t, { ServerResponse: app.ServerResponse, handle: counted(mwCount, app.handle) });
  const auth = ['Authorization: Bearer mg_read'];
  const rounds = [];
  const n = Number(process.env.MEDIAGATE_BENCH_ROUNDS ?? 3);
  for (let i = 0; i < n; i++) {
    const b = await measure(bareCount, `http://127.0.0.1:${barePort}/api/status`);
    const m = await measure(mwCount, `http://127.0.0.1:${mwPort}/api/status`, auth);
    t.equal(m.non2xx, 0, 'every middleware request answered 200');
    rounds.push({ bare: b.rps, middleware: m.rps, ratio: m.rps / b.rps, bareCpu: b.cpuUsPerReq, mwCpu: m.cpuUsPerReq, cpuRatio: b.cpuUsPerReq / m.cpuUsPerReq });
  }
  const med = (k) => { const v = rounds.map((r) => r[k]).sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
  for (const r of rounds) {
    t.comment(`round: bare ${r.bare.toFixed(0)} req/s, middleware ${r.middleware.toFixed(0)} req/s, ratio ${r.ratio.toFixed(3)}; ` +
      `server CPU ${r.bareCpu.toFixed(1)} vs ${r.mwCpu.toFixed(1)} µs/request, ratio ${r.cpuRatio.toFixed(3)}`);
  }
  t.comment(`median: bare ${med('bare').toFixed(0)} req/s, middleware ${med('middleware').toFixed(0)} req/s, ratio ${med('ratio').toFixed(3)}; ` +
    `CPU/request ratio ${med('cpuRatio').toFixed(3)}`);
  t.ok(med('ratio') > 0.5, 'middleware keeps more than half the bare throughput');
});
