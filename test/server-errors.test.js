// Error answers: the mapping table, sanitised messages (no stack, no path),
// headers (Retry-After, Allow, WWW-Authenticate) and the 30 s request timeout.
import t from 'tap';
import http from 'node:http';
import { once } from 'node:events';
import {
  HttpError, toErrorResponse, sendError, sanitizeMessage, ErrorCode,
} from '../dist/server/http-error.js';
import { startRequestTimeout, configureServerTimeouts, pendingRequestTimeouts, REQUEST_TIMEOUT_MS } from '../dist/server/request-timeout.js';
import {
  MediagateError, UsageError, NoPlayerError, AuthError, ConfigError, UnreachableError, TimeoutError, ExitCode,
} from '../dist/core/errors.js';

t.test('MediagateError → status table', async (t) => {
  const table = [
    [new UsageError('bad scope', undefined, 'usage.invalid_scope'), 422],
    [new UsageError('bad', undefined, 'usage.invalid_volume'), 422],
    [new UsageError('no token with id x', undefined, 'token.not_found'), 404],
    [new UsageError('no invite', undefined, 'invite.not_found'), 404],
    [new UsageError('token is revoked', undefined, 'token.revoked'), 409],
    [new UsageError('invite used up', undefined, 'invite.used_up'), 409],
    [new UsageError('bad json', undefined, 'request.invalid_json'), 400],
    [new NoPlayerError('no MPRIS player named x', undefined, 'player.not_found'), 404],
    [new NoPlayerError('cannot seek now', undefined, 'player.unsupported'), 409],
    [new NoPlayerError('no player', undefined, 'player.unavailable'), 503],
    [new TimeoutError('MPD status', 2000), 503],
    [new NoPlayerError('pactl failed', undefined, 'volume.backend_failed'), 503],
    [new AuthError('bad token', undefined, 'auth.invalid_token'), 401],
    [new AuthError('missing', undefined, 'auth.missing_token'), 401],
    [new AuthError('need admin', undefined, 'auth.insufficient_scope'), 403],
    [new AuthError('denied'), 403],
    [new AuthError('locked', undefined, 'auth.locked'), 429],
    [new ConfigError('state dir is group-writable', undefined, 'config.unsafe'), 503],
    [new ConfigError('lock busy', undefined, 'state.locked'), 503],
    [new UnreachableError('down'), 503],
    [new MediagateError('player.error', 'player refused Seek', ExitCode.failure), 500],
    [new HttpError(405, ErrorCode.methodNotAllowed, 'no', { headers: { Allow: 'GET' } }), 405],
    [new Error('boom'), 500],
    ['a string', 500],
    [undefined, 500],
  ];
  for (const [err, status] of table) {
    const r = toErrorResponse(err);
    t.equal(r.status, status, `${err?.code ?? err?.message ?? String(err)} → ${status}`);
    if (status === 503 || status === 429) t.match(r.headers['retry-after'], /^[1-9]\d*$/, 'with Retry-After');
    if (status === 401) t.equal(r.headers['www-authenticate'], 'Bearer realm="mediagate"');
  }
  t.equal(toErrorResponse(new HttpError(405, 'x', 'y', { headers: { Allow: 'GET' } })).headers.allow, 'GET');
  t.equal(toErrorResponse(new HttpError(401, 'auth.missing_token', 'y')).headers['www-authenticate'], 'Bearer realm="mediagate"', '401 always challenges');
  t.equal(toErrorResponse(new HttpError(401, 'auth.invalid_token', 'y', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } })).headers['www-authenticate'], 'Bearer error="invalid_token"', 'a given challenge is kept');
  t.equal(toErrorResponse(new ConfigError('lock busy', undefined, 'state.locked')).headers['retry-after'], '1');
  const cfg = toErrorResponse(new ConfigError('key file /home/u/.config/mediagate/key has mode 0644', undefined, 'secret.bad_key'));
  t.notMatch(cfg.message, /key file|0644/, 'config details stay in the server log');
  t.equal(cfg.code, 'secret.bad_key');
  const unknown = toErrorResponse(new Error('ECONNREFUSED /var/run/secret.sock'));
  t.same([unknown.code, unknown.message.includes('/var')], ['server.internal', false]);
  t.equal(toErrorResponse(new HttpError(429, ErrorCode.rateLimited, 'slow down', { retryAfterSeconds: 7 })).headers['retry-after'], '7');
  t.equal(toErrorResponse(new HttpError(429, ErrorCode.rateLimited, 'slow down', { retryAfterSeconds: 0.2 })).headers['retry-after'], '1', 'at least 1 s');
  t.equal(toErrorResponse(new HttpError(42, 'x', 'y')).status, 500, 'an impossible status becomes 500');
});

t.test('sanitizeMessage: no stack, no filesystem path', async (t) => {
  const cases = [
    ['no MPD at /run/mpd/socket: ENOENT', 'no MPD at <path>: ENOENT'],
    ["ENOENT: no such file or directory, open '/work/main/state/tokens.json'", "ENOENT: no such file or directory, open '<path>'"],
    ['cannot read /tmp/mg-xyz/key (EACCES)', 'cannot read <path> (EACCES)'],
    ['failed at file:///work/main/dist/server/x.js:10:5', 'failed at <path>'],
    ['C:\\Users\\me\\AppData\\mediagate\\key missing', '<path> missing'],
    ['share \\\\server\\share\\x gone', 'share <path> gone'],
    ['see ~/.config/mediagate/config.json', 'see <path>'],
    ['Error: boom\n    at f (/work/main/dist/a.js:1:1)\n    at g (node:internal/x:2:2)', 'Error: boom'],
    ['HTTP 404 for /api/auth/redeem', 'HTTP 404 for /api/auth/redeem'],
    ['MPD at 127.0.0.1:6600 refused', 'MPD at 127.0.0.1:6600 refused'],
    ['see https://example.net/docs/x', 'see https://example.net/docs/x'],
    ['volume 50/100, and/or mute', 'volume 50/100, and/or mute'],
    ['bell\u0007 and\ttab', 'bell and tab'],
    ['token mg_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA refused', 'token mg_… refused'],
    ['pairing mgp_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB used', 'pairing mgp_… used'],
  ];
  for (const [input, want] of cases) t.equal(sanitizeMessage(input), want, JSON.stringify(input).slice(0, 60));
  t.equal(sanitizeMessage('x'.repeat(1000)).length, 300, 'capped at 300 characters');
  t.equal(sanitizeMessage(''), 'error');
});

async function serve(t, handler) {
  const server = http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  return server.address().port;
}

async function get(port, path = '/', agent = false) {
  const res = await new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port, path, agent }, resolve).on('error', reject));
  let body = '';
  res.setEncoding('utf8');
  for await (const c of res) body += c;
  return { status: res.statusCode, headers: res.headers, body };
}

t.test('error bodies on the wire: exact shape, never a stack or a path', async (t) => {
  const errors = {
    '/node': Object.assign(new Error("EACCES: permission denied, open '/work/main/secret/key'"), { code: 'EACCES' }),
    '/stacky': (() => { const e = new Error('Something\n at /tmp/x.js:1:1'); return e; })(),
    '/mg': new NoPlayerError('no MPD at /run/user/1000/mpd.sock: connection refused', 'start mpd with /usr/bin/mpd'),
    '/auth': new AuthError('the token is not valid', undefined, 'auth.invalid_token'),
    '/limited': new HttpError(429, ErrorCode.rateLimited, 'too many requests', { retryAfterSeconds: 3 }),
    '/typeerror': (() => { try { null.x(); } catch (e) { return e; } })(),
  };
  const port = await serve(t, (req, res) => {
    res.setHeader('etag', '"stale"');
    res.setHeader('content-length', '99999');
    sendError(res, errors[req.url], 'rid-e');
  });
  for (const path of Object.keys(errors)) {
    const r = await get(port, path);
    const parsed = JSON.parse(r.body);
    t.same(Object.keys(parsed), ['error']);
    t.same(Object.keys(parsed.error), ['code', 'message', 'requestId'], `${path}: exact shape`);
    t.equal(parsed.error.requestId, 'rid-e');
    t.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    t.equal(r.headers['cache-control'], 'no-store');
    t.equal(r.headers.etag, undefined, 'stale headers from the handler removed');
    t.notMatch(r.body, /\/work|\/tmp|\/run|\/usr|\/home|\bat \S+:\d+|node:internal|\.js:\d/, `${path}: no path, no stack (${parsed.error.message})`);
  }
  const node = JSON.parse((await get(port, '/node')).body).error;
  t.same([node.code, node.message], ['server.internal', 'the server failed to handle this request; the details are in the server log'], 'unknown errors are generic');
  const mg = await get(port, '/mg');
  t.equal(mg.status, 503);
  t.equal(mg.headers['retry-after'], '5');
  t.equal(JSON.parse(mg.body).error.message, 'no MPD at <path>: connection refused');
  const auth = await get(port, '/auth');
  t.equal(auth.status, 401);
  t.equal(auth.headers['www-authenticate'], 'Bearer realm="mediagate"');
  const lim = await get(port, '/limited');
  t.equal(lim.status, 429);
  t.equal(lim.headers['retry-after'], '3');
  t.equal((await get(port, '/typeerror')).status, 500);
});

t.test('sendError after the headers went out cuts the connection', async (t) => {
  const port = await serve(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"partial":');
    sendError(res, new Error('late'), 'rid');
  });
  const outcome = await get(port).then(() => 'completed', (e) => e.code);
  t.equal(outcome, 'ECONNRESET', 'a half answer never looks complete');
});

t.test('request timeout: 503 JSON when the handler has not answered', async (t) => {
  let signalled = null;
  let logged = 0;
  const port = await serve(t, (req, res) => {
    const timer = startRequestTimeout(res, { ms: req.url === '/slow' ? 150 : 5000, requestId: 'rid-t', onTimeout: () => { logged++; } });
    timer.signal.addEventListener('abort', () => { signalled = timer.signal.reason; });
    if (req.url === '/fast') { res.end('{}'); timer.cancel(); }
    if (req.url === '/stream') { res.writeHead(200); res.write('{"a":'); }
  });
  const t0 = Date.now();
  const keepAlive = new http.Agent({ keepAlive: true });
  t.teardown(() => keepAlive.destroy());
  const slow = await get(port, '/slow', keepAlive);
  t.equal(slow.status, 503);
  t.ok(Date.now() - t0 >= 140, 'after the limit');
  t.same(JSON.parse(slow.body).error.code, 'request.timeout');
  t.equal(slow.headers['retry-after'], '5');
  t.equal(slow.headers.connection, 'keep-alive', 'a body-less GET keeps its connection');
  t.equal(logged, 1, 'onTimeout called');
  t.equal(signalled?.code, 'request.timeout', 'the handler is told to stop');
  const fast = await get(port, '/fast');
  t.equal(fast.status, 200, 'allowed: an answer in time is untouched');
  t.equal(REQUEST_TIMEOUT_MS, 30_000);
});

t.test('request timeout: cancel() stops the clock; a started answer is cut, not completed', async (t) => {
  const port = await serve(t, (req, res) => {
    const timer = startRequestTimeout(res, { ms: 100, requestId: 'x' });
    if (req.url === '/cancel') { timer.cancel(); setTimeout(() => res.end('{"late":true}'), 250); }
    if (req.url === '/half') { res.writeHead(200); res.write('{"a":'); }
  });
  const late = await get(port, '/cancel');
  t.same([late.status, late.body], [200, '{"late":true}'], 'cancelled: the slow answer arrives');
  const half = await get(port, '/half').then(() => 'completed', (e) => e.code);
  t.equal(half, 'ECONNRESET');
  t.equal(pendingRequestTimeouts(), 0, 'nothing left waiting: no timer at idle');
});

t.test('request timeout: a forgotten cancel() on an answered request is harmless', async (t) => {
  const port = await serve(t, (req, res) => {
    startRequestTimeout(res, { ms: 100, requestId: 'x', onTimeout: () => t.fail('must not fire for an answered request') });
    res.end('{}');
  });
  t.equal((await get(port)).status, 200);
  await new Promise((r) => setTimeout(r, 200));
  t.equal(pendingRequestTimeouts(), 0);
  t.throws(() => startRequestTimeout({}, { ms: 0, requestId: 'x' }), RangeError);
});

t.test('configureServerTimeouts sets node\'s limits', async (t) => {
  const server = http.createServer();
  configureServerTimeouts(server);
  t.same([server.requestTimeout, server.headersTimeout, server.keepAliveTimeout, server.maxHeadersCount, server.timeout], [30_000, 10_000, 5_000, 100, 0]);
  configureServerTimeouts(server, { requestTimeoutMs: 5000, headersTimeoutMs: 60_000 });
  t.equal(server.headersTimeout, 5000, 'headersTimeout never exceeds requestTimeout');

  // A slowloris client that never finishes its headers is cut off.
  const slow = http.createServer(() => t.fail('no request should complete'));
  configureServerTimeouts(slow, { headersTimeoutMs: 300, requestTimeoutMs: 300 });
  // node checks these limits on an interval (connectionsCheckingInterval); make it short for the test.
  slow.connectionsCheckingInterval = 100;
  await new Promise((r) => slow.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => { slow.closeAllConnections(); slow.close(r); }));
  const { connect } = await import('node:net');
  const s = connect(slow.address().port, '127.0.0.1');
  await once(s, 'connect');
  s.write('GET / HTTP/1.1\r\nHost: x\r\n');
  let reply = '';
  s.on('data', (d) => { reply += d; });
  const t0 = Date.now();
  await once(s, 'close');
  t.match(reply, /^HTTP\/1\.1 408/, `cut with 408 after ${Date.now() - t0} ms`);
});
