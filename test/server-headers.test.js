// Security headers (exact, HSTS only under TLS), CORS allow-list and
// preflight, X-Request-ID — on real node:http / node:https servers on 127.0.0.1.
import t from 'tap';
import { API_SECURITY_HEADERS } from './helpers/security.js';
import http from 'node:http';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { securityHeaders, secureResponseClass, SECURITY_HEADERS, CONTENT_SECURITY_POLICY } from '../dist/server/security-headers.js';
import { CorsPolicy, parseOrigin } from '../dist/server/cors.js';
import { assignRequestId, requestIdFrom, newRequestId, SAFE_REQUEST_ID } from '../dist/server/request-id.js';
import { sendJson } from '../dist/server/http-error.js';

/**
 * A server whose handler is the middleware under test plus a trivial JSON
 * answer. `mode: 'class'` (the default) uses secureResponseClass; 'setHeader'
 * a plain ServerResponse with securityHeaders().
 */
async function serve(t, { tls, mode = 'class', cors = new CorsPolicy(['https://app.example.net', 'http://192.168.1.20:8123']), key, cert, handler: inner } = {}) {
  const apply = mode === 'setHeader' ? securityHeaders({ tls: Boolean(tls) }) : () => {};
  const handler = (req, res) => {
    const id = assignRequestId(req, res);
    apply(res);
    if (cors.handlePreflight(req, res, id)) return;
    cors.apply(req, res);
    if (inner) return inner(req, res, id);
    sendJson(res, 200, { ok: true, id });
  };
  const options = mode === 'class' ? { ServerResponse: secureResponseClass({ tls: Boolean(tls) }) } : {};
  const server = tls ? https.createServer({ ...options, key, cert }, handler) : http.createServer(options, handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }));
  return { port: server.address().port, server };
}

function request(port, { method = 'GET', path = '/api/status', headers = {}, tls, ca } = {}) {
  const mod = tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request({ host: '127.0.0.1', port, method, path, headers, ca, servername: 'localhost', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const EXPECTED = API_SECURITY_HEADERS;

t.test('security headers: exact values over plain HTTP, no HSTS', async (t) => {
  for (const mode of ['class', 'setHeader']) {
    const { port } = await serve(t, { tls: false, mode });
    const r = await request(port);
    t.equal(r.status, 200);
    for (const [k, v] of Object.entries(EXPECTED)) t.equal(r.headers[k], v, `${mode}: ${k}`);
    t.equal(r.headers['strict-transport-security'], undefined, `${mode}: no HSTS without TLS`);
    t.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  }
  t.equal(CONTENT_SECURITY_POLICY, EXPECTED['content-security-policy']);
  t.equal(SECURITY_HEADERS.length, 6);
});

t.test("secure response class: every way of answering carries the headers; the handler's own value wins", async (t) => {
  const answers = {
    '/end': (req, res) => res.end('x'),
    '/writeHead-object': (req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('x'); },
    '/writeHead-reason': (req, res) => { res.writeHead(200, 'Fine', ['content-type', 'text/plain']); res.end('x'); },
    '/setHeader': (req, res) => { res.setHeader('content-type', 'text/plain'); res.end('x'); },
    '/204': (req, res) => { res.statusCode = 204; res.end(); },
    '/304': (req, res) => { res.writeHead(304, ['etag', '"a"']); res.end(); },
    '/flush': (req, res) => { res.flushHeaders(); res.end('x'); },
    '/own-cache': (req, res) => { res.setHeader('Cache-Control', 'private, max-age=60'); sendJson(res, 200, {}); },
    '/own-cache-array': (req, res) => { res.writeHead(200, ['Cache-Control', 'private, max-age=60', 'content-type', 'image/png']); res.end('x'); },
    '/own-vary': (req, res) => { res.writeHead(200, { vary: 'Accept' }); res.end('x'); },
  };
  const { port } = await serve(t, { handler: (req, res) => answers[req.url](req, res) });
  for (const path of Object.keys(answers)) {
    const r = await request(port, { path, headers: { origin: 'https://app.example.net', 'x-request-id': 'rid-7' } });
    for (const [k, v] of Object.entries(EXPECTED)) {
      if (k === 'cache-control' && path.startsWith('/own-cache')) continue;
      t.equal(r.headers[k], v, `${path}: ${k}`);
    }
    t.equal(r.headers['x-request-id'], 'rid-7', `${path}: request id`);
    if (path !== '/own-vary') t.equal(r.headers.vary, 'Origin', `${path}: vary`);
    t.equal(r.headers['access-control-allow-origin'], 'https://app.example.net', `${path}: CORS`);
  }
  const own = await request(port, { path: '/own-cache' });
  t.equal(own.headers['cache-control'], 'private, max-age=60', 'setHeader by the handler wins');
  const ownArr = await request(port, { path: '/own-cache-array' });
  t.equal(ownArr.headers['cache-control'], 'private, max-age=60', 'writeHead list by the handler wins, not sent twice');
  t.equal(ownArr.headers['content-type'], 'image/png');
  t.equal((await request(port, { path: '/own-vary' })).headers.vary, 'Accept');
  t.equal((await request(port, { path: '/writeHead-reason' })).status, 200);
  const head = await request(port, { method: 'HEAD', path: '/end' });
  t.equal(head.headers['x-frame-options'], 'DENY', 'HEAD too');
});

t.test('security headers: HSTS present under TLS (self-signed cert made here)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const key = readFileSync(join(dir, 'key.pem'));
  const cert = readFileSync(join(dir, 'cert.pem'));
  const { port } = await serve(t, { tls: true, key, cert });
  const r = await request(port, { tls: true, ca: cert });
  t.equal(r.status, 200);
  t.equal(r.headers['strict-transport-security'], 'max-age=31536000', 'HSTS under TLS');
  for (const [k, v] of Object.entries(EXPECTED)) t.equal(r.headers[k], v, k);
});

t.test('CORS: allowed origin gets exactly its origin back', async (t) => {
  const { port } = await serve(t);
  const r = await request(port, { headers: { origin: 'https://app.example.net' } });
  t.equal(r.headers['access-control-allow-origin'], 'https://app.example.net');
  t.equal(r.headers.vary, 'Origin');
  t.match(r.headers['access-control-expose-headers'], /X-Request-ID/);
  t.equal(r.headers['access-control-allow-credentials'], undefined, 'never credentials');
  const r2 = await request(port, { headers: { origin: 'http://192.168.1.20:8123' } });
  t.equal(r2.headers['access-control-allow-origin'], 'http://192.168.1.20:8123', 'with a port');
});

t.test('CORS: a disallowed origin gets no CORS header at all', async (t) => {
  const { port } = await serve(t);
  for (const origin of ['https://evil.example', 'https://app.example.net.evil.example', 'http://app.example.net', 'https://app.example.net:444', 'null', 'HTTPS://APP.EXAMPLE.NET']) {
    const r = await request(port, { headers: { origin } });
    const cors = Object.keys(r.headers).filter((h) => h.startsWith('access-control-'));
    t.same(cors, [], `${origin}: no access-control-* headers`);
    t.equal(r.headers.vary, 'Origin', 'Vary: Origin still set');
  }
  const none = await request(port);
  t.equal(none.headers['access-control-allow-origin'], undefined, 'no Origin: no CORS headers');
});

t.test('CORS: preflight allowed and denied', async (t) => {
  const { port } = await serve(t);
  const ok = await request(port, { method: 'OPTIONS', path: '/api/volume', headers: {
    origin: 'https://app.example.net', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type, x-request-id',
  } });
  t.equal(ok.status, 204);
  t.equal(ok.headers['access-control-allow-origin'], 'https://app.example.net');
  t.match(ok.headers['access-control-allow-methods'], /\bPUT\b/);
  t.match(ok.headers['access-control-allow-methods'], /\bPOST\b/);
  for (const h of ['Authorization', 'Content-Type', 'X-Request-ID']) t.match(ok.headers['access-control-allow-headers'], h);
  t.equal(ok.headers['access-control-max-age'], '600');
  t.match(ok.headers.vary, /^Origin\b/);
  t.equal(ok.body, '');

  const denied = [
    ['foreign origin', { origin: 'https://evil.example', 'access-control-request-method': 'GET' }],
    ['no origin', { 'access-control-request-method': 'GET' }],
    ['method not allowed', { origin: 'https://app.example.net', 'access-control-request-method': 'TRACE' }],
    ['header not allowed', { origin: 'https://app.example.net', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-evil' }],
  ];
  for (const [what, headers] of denied) {
    const r = await request(port, { method: 'OPTIONS', headers });
    t.equal(r.status, 403, `${what}: 403`);
    t.same(Object.keys(r.headers).filter((h) => h.startsWith('access-control-')), [], `${what}: no CORS headers`);
    t.equal(JSON.parse(r.body).error.code, 'cors.denied');
    t.equal(r.headers['x-frame-options'], 'DENY', 'security headers on the denial too');
  }
});

t.test('CORS: configuration is checked at startup', async (t) => {
  t.equal(parseOrigin('https://Example.COM:443/'), 'https://example.com', 'normalised');
  t.equal(parseOrigin('http://[::1]:8080'), 'http://[::1]:8080');
  const bad = [
    ['*', /wildcard/], ['https://*.example.com', /wildcard/], ['null', /null/],
    ['example.com', /http:\/\/ or https:\/\/|not a URL/], ['ftp://example.com', /http:\/\/ or https:\/\//],
    ['https://example.com/app', /origin only/], ['https://example.com?x=1', /origin only/], ['https://user:pw@example.com', /user name/],
    ['', /not a URL/], [42, /not text/],
  ];
  for (const [entry, message] of bad) t.throws(() => new CorsPolicy(['https://ok.example', entry]), { exitCode: 5, code: 'config.invalid_value', message }, `${JSON.stringify(entry)} refused`);
  t.throws(() => new CorsPolicy('*'), { exitCode: 5 });
  t.ok(new CorsPolicy([]), 'an empty list is fine (no browser access)');
});

t.test('WebSocket origin check: absent allowed, listed allowed, others denied', async (t) => {
  const cors = new CorsPolicy(['https://app.example.net']);
  t.equal(cors.originAllowed(undefined), true, 'non-browser client (no Origin)');
  t.equal(cors.originAllowed('https://app.example.net'), true);
  t.equal(cors.originAllowed('https://evil.example'), false);
  t.equal(cors.originAllowed(''), false, 'empty Origin is not absent');
  t.equal(cors.originAllowed('null'), false);
});

t.test('X-Request-ID: a safe upstream id is kept, anything else replaced', async (t) => {
  const { port } = await serve(t);
  const kept = await request(port, { headers: { 'x-request-id': 'abc-123_DEF.4:5' } });
  t.equal(kept.headers['x-request-id'], 'abc-123_DEF.4:5', 'accepted');
  t.equal(JSON.parse(kept.body).id, 'abc-123_DEF.4:5');
  const long = 'a'.repeat(128);
  t.equal((await request(port, { headers: { 'x-request-id': long } })).headers['x-request-id'], long, '128 characters accepted');
  for (const bad of ['a'.repeat(129), 'has space', 'semi;colon', '<script>', 'ünïcode', '../../etc', 'a,b']) {
    const r = await request(port, { headers: { 'x-request-id': bad } });
    t.not(r.headers['x-request-id'], bad, `${JSON.stringify(bad.slice(0, 20))} replaced`);
    t.match(r.headers['x-request-id'], /^[A-Za-z0-9.-]{12}$/);
  }
  const none = await request(port);
  t.match(none.headers['x-request-id'], /^[A-Za-z0-9.-]{12}$/, 'generated when absent');
  t.equal(requestIdFrom(['a', 'b']).length, 12, 'repeated header (array) is replaced');
  const ids = new Set(Array.from({ length: 10_000 }, newRequestId));
  t.equal(ids.size, 10_000, 'generated ids are unique');
  t.ok([...ids].every((id) => SAFE_REQUEST_ID.test(id)), 'and themselves safe');
});
