// The HTTP layer of a real `mediagate serve`: start-up refusals, exact
// security headers, HSTS only under TLS, CORS, rate and creation limits,
// body and routing errors, request ids, and error bodies that never carry a
// stack or an absolute path.
import t from 'tap';
import { API_SECURITY_HEADERS } from './helpers/security.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { runCli } from './helpers/cli.js';
import { api, auditEvents, cliToken, selfSigned, serveEnv, startServe } from './helpers/serve.js';

const SECURITY = API_SECURITY_HEADERS;

function checkSecurityHeaders(t, res, what) {
  for (const [k, v] of Object.entries(SECURITY)) t.equal(res.headers[k], v, `${what}: ${k}`);
}

function noLeak(t, res, what) {
  t.notMatch(res.text, /\n\s+at |\.js:\d+|\/tmp\/|\/home\/|\/work\/|node_modules/, `${what}: no stack or absolute path`);
}

/** Send `text` as is and return everything the server answers. */
function rawHttp(port, text) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(text));
    let got = '';
    sock.setEncoding('utf8').on('data', (d) => { got += d; });
    sock.on('end', () => resolve(got));
    sock.on('error', reject);
  });
}

t.test('start-up refusals', async (t) => {
  const { env, configDir } = await serveEnv(t);
  let s = await startServe(t, env, { args: ['--host', '0.0.0.0'], expectExit: true });
  t.equal(s.code, 2, 'non-loopback without TLS: exit 2');
  t.match(s.err(), /refusing to serve plain HTTP on 0\.0\.0\.0.*unencrypted/);
  t.match(s.err(), /--allow-plain-http/);

  const tls = selfSigned(t);
  s = await startServe(t, env, { args: ['--tls-cert', tls.cert], expectExit: true });
  t.equal(s.code, 2, 'TLS with only a certificate: exit 2');
  t.match(s.err(), /TLS needs both a certificate and a key/);
  s = await startServe(t, env, { args: ['--tls-key', tls.key], expectExit: true });
  t.equal(s.code, 2, 'TLS with only a key: exit 2');

  // A wildcard origin cannot be set with the CLI, and a hand-edited one stops serve.
  let r = await runCli(['config', 'set', 'server.corsOrigins', 'https://a.example,*'], { env });
  t.equal(r.code, 5, 'config set refuses a wildcard origin');
  t.match(r.stderr, /wildcard/);
  r = await runCli(['config', 'set', 'server.corsOrigins', 'https://a.example,https://b.example:8443/'], { env });
  t.equal(r.code, 0, r.stderr);
  r = await runCli(['config', 'get', 'server.corsOrigins', '--json'], { env });
  t.same(JSON.parse(r.stdout).value, ['https://a.example', 'https://b.example:8443'], 'a comma list, normalised');
  writeFileSync(join(configDir, 'config.json'), JSON.stringify({ server: { corsOrigins: ['*'] } }), { mode: 0o600 });
  s = await startServe(t, env, { expectExit: true });
  t.equal(s.code, 5, '`*` in server.corsOrigins: exit 5');
  t.match(s.err(), /wildcard/);
  writeFileSync(join(configDir, 'config.json'), JSON.stringify({ server: { trustedProxies: ['10.0.0.0/33'] } }), { mode: 0o600 });
  s = await startServe(t, env, { expectExit: true });
  t.equal(s.code, 5, 'invalid trustedProxies CIDR: exit 5');
  t.match(s.err(), /10\.0\.0\.0\/33/);
  r = await runCli(['config', 'set', 'server.trustedProxies', '10.0.0.0/8,nonsense'], { env });
  t.equal(r.code, 5, 'config set refuses a bad range');
  writeFileSync(join(configDir, 'config.json'), '{}', { mode: 0o600 });

  // Starts with --allow-plain-http, with a warning naming the risk.
  s = await startServe(t, env, { args: ['--host', '0.0.0.0', '--allow-plain-http'] });
  t.match(s.err(), /warning: serving plain HTTP on 0\.0\.0\.0.*unencrypted/);
  const h = await api(`http://127.0.0.1:${s.port}`, 'GET', '/api/health');
  t.equal(h.status, 200);
  t.equal((await s.stop()).code, 0);
});

t.test('security headers, HSTS only under TLS, request ids, 404/405 JSON', async (t) => {
  const { env } = await serveEnv(t);
  const tok = await cliToken(env, 'r', 'read');
  const srv = await startServe(t, env);
  let r = await api(srv, 'GET', '/api/health');
  t.same(r.json, { ok: true });
  checkSecurityHeaders(t, r, 'health');
  t.notOk(r.headers['strict-transport-security'], 'no HSTS over plain HTTP');
  t.match(r.headers['content-type'], /^application\/json/);
  t.match(r.headers['x-request-id'], /^[A-Za-z0-9.-]{12}$/, 'a generated request id');

  r = await api(srv, 'GET', '/api/health', { headers: { 'x-request-id': 'upstream-42.a:b' } });
  t.equal(r.headers['x-request-id'], 'upstream-42.a:b', 'a safe upstream id is echoed');
  r = await api(srv, 'GET', '/api/nothing', { headers: { 'x-request-id': 'bad id <script>' } });
  t.not(r.headers['x-request-id'], 'bad id <script>', 'an unsafe one is replaced');
  t.equal(r.status, 404);
  t.equal(r.json.error.code, 'route.not_found');
  t.equal(r.json.error.requestId, r.headers['x-request-id'], 'the error names the request id');
  checkSecurityHeaders(t, r, '404');

  r = await api(srv, 'DELETE', '/api/status', { token: tok.token });
  t.equal(r.status, 405);
  t.equal(r.json.error.code, 'route.method_not_allowed');
  t.match(r.headers.allow, /GET/);
  // Sent raw: a URL library would resolve the dot segments before sending.
  const raw = await rawHttp(srv.port, 'GET /api/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.match(raw, /^HTTP\/1\.1 400 /, 'dot segments are refused, not resolved');
  t.match(raw, /"code":"request\.bad_path"/);
  t.notMatch(raw, /\/etc\/passwd|\n\s+at /, 'no path or stack echoed');

  // Errors from the core carry the hint the CLI prints, and no paths.
  r = await api(srv, 'GET', '/api/status', { token: tok.token });
  t.equal(r.status, 503, 'no player');
  t.ok(r.json.error.hint, 'hint included');
  noLeak(t, r, 'no player');
  t.equal((await srv.stop()).code, 0);

  const tls = selfSigned(t);
  const s2 = await startServe(t, env, { args: ['--tls-cert', tls.cert, '--tls-key', tls.key] });
  t.match(s2.url, /^https:\/\//);
  r = await api(s2, 'GET', '/api/health', { ca: tls.certPem });
  t.equal(r.status, 200);
  t.equal(r.headers['strict-transport-security'], 'max-age=31536000', 'HSTS under TLS');
  checkSecurityHeaders(t, r, 'TLS');
  t.equal((await s2.stop()).code, 0);
});

t.test('bodies: 413, 415, 400, 422', async (t) => {
  const { env } = await serveEnv(t);
  const tok = await cliToken(env, 'c', 'control');
  const srv = await startServe(t, env);
  let r = await api(srv, 'PUT', '/api/volume', { token: tok.token, body: JSON.stringify({ level: 1, pad: 'x'.repeat(70 * 1024) }), headers: { 'content-type': 'application/json' } });
  t.equal(r.status, 413, 'over 64 KiB');
  t.equal(r.json.error.code, 'request.body_too_large');
  r = await api(srv, 'PUT', '/api/volume', { token: tok.token, body: 'level=5', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.equal(r.status, 415, 'not JSON');
  r = await api(srv, 'PUT', '/api/volume', { token: tok.token, body: '{"level":', headers: { 'content-type': 'application/json' } });
  t.equal(r.status, 400, 'broken JSON');
  t.equal(r.json.error.code, 'request.invalid_json');
  noLeak(t, r, '400');
  r = await api(srv, 'PUT', '/api/volume', { token: tok.token, json: { level: 150 } });
  t.equal(r.status, 422, 'level out of range');
  t.equal(r.json.error.code, 'usage.invalid_field');
  t.match(r.json.error.message, /level/);
  r = await api(srv, 'PUT', '/api/volume', { token: tok.token, json: [1, 2] });
  t.equal(r.status, 422, 'not an object');
  r = await api(srv, 'POST', '/api/player/seek', { token: tok.token, json: { position: 1, offset: 2 } });
  t.equal(r.status, 422, 'two seek targets');
  r = await api(srv, 'POST', '/api/tokens', { token: tok.token, json: {} });
  t.equal(r.status, 403, 'scope is checked before the body is read');
});

t.test('CORS: allowed and denied origins, preflight', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.corsOrigins': 'https://app.example' });
  const tok = await cliToken(env, 'r', 'read');
  const srv = await startServe(t, env);
  let r = await api(srv, 'GET', '/api/auth/whoami', { token: tok.token, headers: { origin: 'https://app.example' } });
  t.equal(r.status, 200);
  t.equal(r.headers['access-control-allow-origin'], 'https://app.example', 'allowed origin');
  t.match(r.headers.vary, /Origin/);
  t.notOk(r.headers['access-control-allow-credentials'], 'never credentials');
  r = await api(srv, 'GET', '/api/auth/whoami', { token: tok.token, headers: { origin: 'https://evil.example' } });
  t.notOk(r.headers['access-control-allow-origin'], 'no CORS header for another origin');

  r = await api(srv, 'OPTIONS', '/api/volume', { headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type' } });
  t.equal(r.status, 204, 'preflight allowed');
  t.equal(r.headers['access-control-allow-origin'], 'https://app.example');
  t.match(r.headers['access-control-allow-headers'], /Authorization/);
  checkSecurityHeaders(t, r, 'preflight');
  r = await api(srv, 'OPTIONS', '/api/volume', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' } });
  t.equal(r.status, 403, 'preflight denied');
  t.notOk(r.headers['access-control-allow-origin']);
  t.equal(r.json.error.code, 'cors.denied');
});

t.test('rate limit: 429 with Retry-After, per address; rps 0 turns it off', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 1, 'server.rateLimit.burst': 3 });
  const srv = await startServe(t, env);
  const codes = [];
  for (let i = 0; i < 5; i++) codes.push((await api(srv, 'GET', '/api/health', { from: '127.0.0.8' })).status);
  t.same(codes, [200, 200, 200, 429, 429], 'burst of 3, then 429');
  const r = await api(srv, 'GET', '/api/health', { from: '127.0.0.8' });
  t.equal(r.status, 429);
  t.equal(r.json.error.code, 'rate_limit.exceeded');
  t.ok(Number(r.headers['retry-after']) >= 1, `Retry-After ${r.headers['retry-after']}`);
  t.equal((await api(srv, 'GET', '/api/health', { from: '127.0.0.9' })).status, 200, 'another address has its own bucket');
  // Failed authentications spend the bucket too.
  const bad = [];
  for (let i = 0; i < 4; i++) bad.push((await api(srv, 'GET', '/api/status', { token: `mg_${'D'.repeat(43)}`, from: '127.0.0.10' })).status);
  t.same(bad, [401, 401, 401, 429]);
  const events = await auditEvents(env, ['--action', 'rate_limit']);
  const eight = events.filter((e) => e.ip === '127.0.0.8');
  t.equal(eight.length, 3, 'each of the 3 × 429 is audited (a flood past 30 a minute is summarised: serve-denials.test.js)');
  t.ok(eight.every((e) => e.outcome === 'denied' && e.actor.id === 'anonymous' && e.requestId), 'with actor and request id');
  t.equal(new Set(eight.map((e) => e.requestId)).size, 3, 'distinct request ids');
  t.ok(eight.some((e) => e.requestId === r.headers['x-request-id']), 'the one answered last among them');
  t.equal((await srv.stop()).code, 0);

  const e2 = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const s2 = await startServe(t, e2.env);
  const all = await Promise.all(Array.from({ length: 100 }, () => api(s2, 'GET', '/api/health', { from: '127.0.0.8' })));
  t.ok(all.every((x) => x.status === 200), 'rps 0: 100 requests at once all pass');
});

t.test('token and invite creation: 5 a minute per token', async (t) => {
  const { env } = await serveEnv(t);
  const admin = await cliToken(env, 'boss', 'admin');
  const srv = await startServe(t, env);
  const codes = [];
  for (let i = 0; i < 3; i++) codes.push((await api(srv, 'POST', '/api/tokens', { token: admin.token, json: { label: `t${i}`, scope: 'read' } })).status);
  for (let i = 0; i < 2; i++) codes.push((await api(srv, 'POST', '/api/invites', { token: admin.token, json: { label: `i${i}`, scope: 'read' } })).status);
  const r = await api(srv, 'POST', '/api/tokens', { token: admin.token, json: { label: 'sixth', scope: 'read' } });
  codes.push(r.status);
  t.same(codes, [200, 200, 200, 200, 200, 429], 'the sixth creation in a minute is refused');
  t.equal(r.json.error.code, 'rate_limit.exceeded');
  t.ok(Number(r.headers['retry-after']) >= 1);
  t.equal((await api(srv, 'GET', '/api/tokens', { token: admin.token })).status, 200, 'other admin requests still work');
  const other = await cliToken(env, 'boss2', 'admin');
  t.equal((await api(srv, 'POST', '/api/tokens', { token: other.token, json: { label: 'x', scope: 'read' } })).status, 200, 'another admin token has its own limit');
});
