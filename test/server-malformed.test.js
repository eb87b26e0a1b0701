// Requests node's HTTP parser refuses, CONNECT, Host-less requests, broken
// WebSocket handshakes and duplicate Authorization headers, against a real
// `mediagate serve`: each is answered with a JSON error carrying the
// security headers and a request id — never silence, an empty body or the
// ws library's plain text. (Found by the adversarial suite's HTTP fuzzer.)
import t from 'tap';
import net from 'node:net';
import { cliToken, serveEnv, startServe } from './helpers/serve.js';

/** Send `bytes`, collect the answer until the server closes or 3 s pass. */
function raw(port, bytes, { from } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress: from });
    let got = Buffer.alloc(0);
    const done = () => { clearTimeout(timer); sock.destroy(); resolve(parse(got.toString('latin1'))); };
    const timer = setTimeout(done, 3000);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d) => { got = Buffer.concat([got, d]); });
    sock.on('error', () => {});
    sock.on('close', done);
  });
}

function parse(text) {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '', text };
  const [line, ...rest] = text.slice(0, end).split('\r\n');
  const headers = {};
  for (const l of rest) { const i = l.indexOf(':'); headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim(); }
  const body = text.slice(end + 4);
  let json;
  try { json = JSON.parse(body); } catch { /* not JSON */ }
  return { status: Number(line.split(' ')[1]), headers, body, json, text };
}

function isJsonError(t, r, status, code, what) {
  t.equal(r.status, status, `${what}: ${status}`);
  t.equal(r.json?.error?.code, code, `${what}: code ${code}`);
  t.equal(r.headers['x-content-type-options'], 'nosniff', `${what}: security headers`);
  t.match(r.headers['content-type'], /^application\/json/, `${what}: JSON`);
  t.equal(r.json?.error?.requestId, r.headers['x-request-id'], `${what}: request id`);
  t.notMatch(r.body, /\n\s+at |\.js:\d+|\/tmp\//, `${what}: no stack or path`);
}

t.test('malformed HTTP, CONNECT and Host-less requests get JSON errors', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const srv = await startServe(t, env);

  isJsonError(t, await raw(srv.port, 'GET /api/hea\u0000lth HTTP/1.1\r\nHost: x\r\n\r\n'), 400, 'request.malformed', 'NUL in the request target');
  isJsonError(t, await raw(srv.port, 'GET /api/health HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n'), 400, 'request.malformed', 'obs-fold header');
  isJsonError(t, await raw(srv.port, `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20000)}\r\n\r\n`), 431, 'request.headers_too_large', 'oversized header');
  isJsonError(t, await raw(srv.port, 'POST /api/auth/redeem HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'), 400, 'request.malformed',
    'a bad chunk while the request is in flight (was: connection dropped, no answer)');
  isJsonError(t, await raw(srv.port, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'), 405, 'route.method_not_allowed', 'CONNECT (was: no answer)');
  isJsonError(t, await raw(srv.port, 'GET /api/health HTTP/1.1\r\n\r\n'), 400, 'request.missing_host', 'HTTP/1.1 without Host (was: empty body)');

  const ok10 = await raw(srv.port, 'GET /api/health HTTP/1.0\r\n\r\n');
  t.equal(ok10.status, 200, 'allowed: HTTP/1.0 needs no Host');
  const ok = await raw(srv.port, 'GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.equal(ok.status, 200, 'allowed: a well-formed request');
  t.same(ok.json, { ok: true });
});

t.test('duplicate Authorization headers are refused (node would read only the first)', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const tok = await cliToken(env, 'dup-auth', 'read');
  const srv = await startServe(t, env);
  const get = (auth) => raw(srv.port, `GET /api/auth/whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${auth.map((a) => `Authorization: ${a}\r\n`).join('')}\r\n`, { from: '127.0.5.1' });

  const one = await get([`Bearer ${tok.token}`]);
  t.equal(one.status, 200, 'allowed: one valid Authorization header');
  t.equal(one.json.label, 'dup-auth');
  isJsonError(t, await get([`Bearer ${tok.token}`, 'Bearer mg_garbage']), 401, 'auth.invalid_token', 'valid first, garbage second');
  isJsonError(t, await get(['Bearer mg_garbage', `Bearer ${tok.token}`]), 401, 'auth.invalid_token', 'garbage first, valid second');
  isJsonError(t, await get([`Bearer ${tok.token}`, `Bearer ${tok.token}`]), 401, 'auth.invalid_token', 'the same valid header twice');
  t.match((await get([`Bearer ${tok.token}`, `Bearer ${tok.token}`])).json.error.message, /exactly one Authorization header/);
});

t.test('broken WebSocket handshakes get JSON errors; a good one still upgrades', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const tok = await cliToken(env, 'ws-hs', 'read');
  const srv = await startServe(t, env);
  const hs = ({ method = 'GET', upgrade = 'websocket', key = 'dGhlIHNhbXBsZSBub25jZQ==', version = '13', auth = [`Bearer ${tok.token}`] } = {}) => raw(srv.port,
    `${method} /api/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n${key ? `Sec-WebSocket-Key: ${key}\r\n` : ''}Sec-WebSocket-Version: ${version}\r\n`
    + `${auth.map((a) => `Authorization: ${a}\r\n`).join('')}\r\n`, { from: '127.0.5.2' });

  const good = await hs();
  t.equal(good.status, 101, 'allowed: a well-formed handshake with one token upgrades');
  isJsonError(t, await hs({ method: 'PROPFIND' }), 405, 'route.method_not_allowed', 'PROPFIND upgrade (was: text "Invalid HTTP method")');
  isJsonError(t, await hs({ key: 'short' }), 400, 'request.bad_upgrade', 'bad Sec-WebSocket-Key (was: plain text)');
  isJsonError(t, await hs({ key: '' }), 400, 'request.bad_upgrade', 'no Sec-WebSocket-Key');
  const v = await hs({ version: '7' });
  isJsonError(t, v, 400, 'request.bad_upgrade', 'unsupported version');
  t.equal(v.headers['sec-websocket-version'], '13', 'names the supported version');
  isJsonError(t, await hs({ auth: [`Bearer ${tok.token}`, 'Bearer mg_garbage'] }), 401, 'auth.invalid_token', 'two Authorization headers on the upgrade');
});
