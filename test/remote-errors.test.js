// The client's error mapping (src/client/errors.ts) as a table, a round trip
// through the server's own status table (every local error → HTTP answer →
// the error the remote CLI reports has the local exit code), network
// failures (exit 6, naming the server, never the token), and which server a
// command goes to (--remote, MEDIAGATE_REMOTE, remote.default, local).
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { exitCodeFor, errorFromResponse, errorFromNetwork, retryAfterSeconds, errorBodyOf } from '../dist/client/errors.js';
import { ApiClient, apiUrl } from '../dist/client/http.js';
import { resolveRemote, parseBaseUrl, isLoopbackHost, checkProfileName } from '../dist/client/profiles.js';
import { toErrorResponse } from '../dist/server/http-error.js';
import {
  MediagateError, UsageError, NoPlayerError, AuthError, ConfigError, UnreachableError, TimeoutError, ExitCode,
} from '../dist/core/errors.js';

const SERVER = 'https://media.example.org';
const body = (code, message = 'msg', extra = {}) => ({ error: { code, message, requestId: 'req-1', ...extra } });

t.test('exit code table: code first, then status', async (t) => {
  const table = [
    // [status, code, exit]
    [422, 'usage.invalid_volume', 2],
    [422, 'usage.invalid_field', 2],
    [400, 'request.invalid_json', 2],
    [415, 'request.unsupported_media_type', 2],
    [413, 'request.body_too_large', 2],
    [404, 'token.not_found', 2],
    [404, 'invite.not_found', 2],
    [409, 'token.revoked', 2],
    [409, 'invite.used_up', 2],
    [422, 'config.not_secret', 2],
    [404, 'player.not_found', 3],
    [409, 'player.unsupported', 3],
    [503, 'player.unavailable', 3],
    [503, 'player.none', 3],
    [503, 'backend.timeout', 3],
    [503, 'volume.no_mixer', 3],
    [503, 'volume.backend_failed', 3],
    [503, 'mpris.bus_error', 3],
    [503, 'mpd.protocol', 3],
    [500, 'player.error', 1],
    [500, 'mpris.closed', 1],
    [500, 'audit.broken', 1],
    [401, 'auth.invalid_token', 4],
    [401, 'auth.missing_token', 4],
    [403, 'auth.insufficient_scope', 4],
    [403, 'auth.origin_denied', 4],
    [429, 'auth.locked', 1],
    [429, 'rate_limit.exceeded', 1],
    [404, 'route.not_found', 1],
    [405, 'route.method_not_allowed', 1],
    [503, 'state.locked', 1],
    [503, 'config.invalid', 1],
    [503, 'secret.open_failed', 1],
    [500, 'server.internal', 1],
    // unknown codes: by status
    [400, 'something.else', 2],
    [422, undefined, 2],
    [401, undefined, 4],
    [403, 'cors.denied', 4],
    [409, undefined, 2],
    [500, undefined, 1],
    [502, 'gateway.bad', 1],
    [503, undefined, 1],
  ];
  for (const [status, code, exit] of table) {
    t.equal(exitCodeFor(status, code), exit, `${status} ${code ?? '(no code)'} → ${exit}`);
    if (code) {
      const e = errorFromResponse({ status, body: body(code, `message for ${code}`), server: SERVER });
      t.equal(e.exitCode, exit, `errorFromResponse ${code}`);
      t.equal(e.code, code);
      t.match(e.message, `message for ${code}`);
    }
  }
});

t.test('round trip through the server table keeps the local exit code', async (t) => {
  // Every error a local command can raise, as the server answers it, comes back with the same exit code
  // (2, 3, 4); the server's own problems (5: its config/state; 6; 1) are exit 1 for the caller.
  const local = [
    new UsageError('bad scope', undefined, 'usage.invalid_scope'),
    new UsageError('bad volume', 'use 0–100', 'usage.invalid_volume'),
    new UsageError('past the end', undefined, 'usage.invalid_seek'),
    new UsageError('no token with id x', 'see the tokens with: mediagate token list', 'token.not_found'),
    new UsageError('no invite', undefined, 'invite.not_found'),
    new UsageError('token x is revoked and cannot be rotated', undefined, 'token.revoked'),
    new UsageError('invite used up', undefined, 'invite.used_up'),
    new UsageError('invite superseded', undefined, 'invite.superseded'),
    new NoPlayerError('no MPRIS player named x', undefined, 'player.not_found'),
    new NoPlayerError('cannot seek', undefined, 'player.unsupported'),
    new NoPlayerError('no media player found', 'start one', 'player.none'),
    new NoPlayerError('pactl failed', undefined, 'volume.backend_failed'),
    new TimeoutError('MPD status', 2000),
    new AuthError('bad token', undefined, 'auth.invalid_token'),
    new AuthError('need control', undefined, 'auth.insufficient_scope'),
    new AuthError('denied'),
  ];
  for (const e of local) {
    const r = toErrorResponse(e);
    const back = errorFromResponse({ status: r.status, body: body(r.code, r.message, e.hint ? { hint: e.hint } : {}), server: SERVER });
    t.equal(back.exitCode, e.exitCode, `${e.code}: local exit ${e.exitCode}, remote ${back.exitCode} (HTTP ${r.status})`);
    t.equal(back.code, e.code);
    t.equal(back.message, e.message, 'same message');
    if (e.hint) t.equal(back.hint, e.hint, 'the server\'s hint is kept');
  }
  for (const e of [new ConfigError('lock busy', undefined, 'state.locked'), new ConfigError('bad config'), new UnreachableError('x'),
    new MediagateError('player.error', 'refused', ExitCode.failure), new AuthError('locked', undefined, 'auth.locked')]) {
    const r = toErrorResponse(e);
    t.equal(errorFromResponse({ status: r.status, body: body(r.code, r.message), retryAfter: r.headers['retry-after'], server: SERVER }).exitCode, 1, `${e.code} → 1`);
  }
});

t.test('429: exit 1 and says when to retry', async (t) => {
  const e = errorFromResponse({ status: 429, body: body('rate_limit.exceeded', 'too many requests'), retryAfter: '30', server: SERVER });
  t.equal(e.exitCode, 1);
  t.equal(e.message, 'too many requests (rate limited, retry after 30 s)');
  t.equal(e.retryAfterSeconds, 30);
  t.equal(retryAfterSeconds(new Date(Date.now() + 5000).toUTCString()) >= 4, true, 'HTTP-date form');
  t.equal(retryAfterSeconds('soon'), undefined);
});

t.test('answers that are not mediagate errors', async (t) => {
  const html = errorFromResponse({ status: 404, body: undefined, server: SERVER });
  t.equal(html.exitCode, 6);
  t.equal(html.code, 'remote.not_mediagate');
  t.match(html.message, SERVER);
  const proxy = errorFromResponse({ status: 502, body: undefined, server: SERVER });
  t.equal(proxy.exitCode, 6);
  const plain500 = errorFromResponse({ status: 500, body: { oops: 1 }, server: SERVER });
  t.equal(plain500.exitCode, 1);
  t.equal(plain500.code, 'http.500');
  const noHint401 = errorFromResponse({ status: 401, body: body('auth.invalid_token', 'invalid token'), server: SERVER, profile: 'home' });
  t.match(noHint401.hint, /remote profile 'home'/, 'a client hint names the profile when the server gave none');
  t.equal(errorFromResponse({ status: 500, body: body('server.internal', 'failed'), server: SERVER }).hint,
    "the details are in the server's log under request id req-1");
  // Server text is one line, bounded.
  const messy = errorBodyOf({ error: { code: 'usage.x', message: `a\nb\u001b[31m${'x'.repeat(1000)}` } });
  t.notMatch(messy.message, /[\n\u001b]/);
  t.ok(messy.message.length <= 300);
  t.equal(errorBodyOf({ error: { code: 'Not A Code', message: 'x' } }), undefined);
});

t.test('network failures: exit 6, naming the server', async (t) => {
  const cases = [
    [Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) }), 'remote.unreachable', /connection refused/],
    [Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }) }), 'remote.unreachable', /does not resolve/],
    [Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) }), 'remote.tls', /TLS certificate was not accepted/],
    [Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('altname'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }) }), 'remote.tls', /TLS/],
    [new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'remote.timeout', /no answer within 2 s/],
  ];
  for (const [err, code, re] of cases) {
    const e = errorFromNetwork(err, SERVER, 2000, 'home');
    t.equal(e.exitCode, 6, code);
    t.equal(e.code, code);
    t.match(e.message, `cannot reach the mediagate server at ${SERVER}`);
    t.match(e.message, re);
  }
  t.match(errorFromNetwork(cases[2][0], SERVER, 2000, 'home').hint, /remotes\.home\.ca/);
});

t.test('ApiClient against real sockets: refused, hung, redirect, non-JSON; the token never in an error', async (t) => {
  const token = 'mg_' + 'S'.repeat(43);
  // Refused: a port nothing listens on.
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const deadPort = probe.address().port;
  await new Promise((r) => probe.close(r));
  const dead = new ApiClient({ url: new URL(`http://127.0.0.1:${deadPort}`), token, timeoutMs: 2000, profile: 'p' });
  const e1 = await dead.get('/api/status').catch((e) => e);
  t.equal(e1.exitCode, 6);
  t.match(e1.message, `http://127.0.0.1:${deadPort}`);
  t.notOk(JSON.stringify([e1.message, e1.hint]).includes(token));

  // A server that accepts and never answers: the time limit holds.
  const hung = net.createServer((s) => { s.on('error', () => {}); });
  await new Promise((r) => hung.listen(0, '127.0.0.1', r));
  t.teardown(() => hung.close());
  const slow = new ApiClient({ url: new URL(`http://127.0.0.1:${hung.address().port}`), token, timeoutMs: 300 });
  const started = Date.now();
  const e2 = await slow.get('/api/status').catch((e) => e);
  t.equal(e2.exitCode, 6);
  t.equal(e2.code, 'remote.timeout');
  t.ok(Date.now() - started < 2000, 'gave up near the time limit');

  // Redirects are not followed (the Authorization header would go with them); what arrives is recorded.
  const seen = [];
  const srv = http.createServer((req, res) => {
    seen.push({ url: req.url, auth: req.headers.authorization });
    if (req.url === '/api/status') { res.writeHead(302, { location: 'http://evil.example/steal?x=1' }); res.end(); return; }
    if (req.url === '/api/players') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>hi</html>'); return; }
    res.writeHead(404); res.end();
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const base = `http://127.0.0.1:${srv.address().port}`;
  const c = new ApiClient({ url: new URL(base), token, timeoutMs: 2000, profile: 'p' });
  const e3 = await c.get('/api/status').catch((e) => e);
  t.equal(e3.code, 'remote.redirect');
  t.match(e3.message, 'http://evil.example/steal');
  t.notMatch(e3.message, /x=1/, 'no query of the redirect target');
  t.equal(seen.length, 1, 'only one request: the redirect was not followed');
  t.equal(seen[0].auth, `Bearer ${token}`, 'the token goes in the header');
  t.notOk(seen[0].url.includes(token), 'never in the URL');
  const e4 = await c.get('/api/players').catch((e) => e);
  t.equal(e4.code, 'remote.bad_response');
  const e5 = await c.get('/api/volume').catch((e) => e);
  t.equal(e5.code, 'remote.not_mediagate');
  t.equal(e5.exitCode, 6);
});

t.test('apiUrl keeps a path prefix and never carries credentials', async (t) => {
  t.equal(apiUrl(new URL('https://h.example/mg/'), '/api/status', { player: 'a b' }).href, 'https://h.example/mg/api/status?player=a+b');
  t.equal(apiUrl(new URL('https://u:p@h.example'), '/api/x').href, 'https://h.example/api/x');
});

t.test('which server: --remote, MEDIAGATE_REMOTE, remote.default, local', async (t) => {
  const cfg = (dflt) => ({ get: (k) => (k === 'remote.default' ? dflt : undefined) });
  t.same(resolveRemote('home', {}, cfg()), { name: 'home', from: '--remote' });
  t.equal(resolveRemote('local', {}, cfg('home')), undefined, '--remote local beats the default');
  t.same(resolveRemote(undefined, {}, cfg('home')), { name: 'home', from: 'remote.default' });
  t.equal(resolveRemote(undefined, { MEDIAGATE_REMOTE: '' }, cfg('home')), undefined, 'MEDIAGATE_REMOTE= (empty) means this machine');
  t.equal(resolveRemote(undefined, { MEDIAGATE_REMOTE: 'local' }, cfg('home')), undefined);
  t.same(resolveRemote('lab', { MEDIAGATE_REMOTE: 'home' }, cfg('x')), { name: 'lab', from: '--remote' }, 'the flag beats the variable');
  t.same(resolveRemote('home', { MEDIAGATE_REMOTE: 'home' }, cfg()), { name: 'home', from: 'MEDIAGATE_REMOTE' });
  t.equal(resolveRemote(undefined, {}, cfg()), undefined);
});

t.test('URLs, loopback and profile names', async (t) => {
  t.equal(parseBaseUrl('https://h.example:8420/').href, 'https://h.example:8420/');
  t.throws(() => parseBaseUrl('ftp://x'), { code: 'usage.invalid_url' });
  t.throws(() => parseBaseUrl('https://user:pw@h.example'), { code: 'usage.invalid_url' });
  t.throws(() => parseBaseUrl('https://h.example/?token=mg_x'), { code: 'usage.invalid_url' });
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]', 'a.localhost']) t.ok(isLoopbackHost(h), h);
  for (const h of ['192.168.1.2', '10.0.0.1', 'example.org', '127.0.0.1.nip.io', '[::2]']) t.notOk(isLoopbackHost(h), h);
  t.equal(checkProfileName('living-room_2'), 'living-room_2');
  t.throws(() => checkProfileName('local'), { code: 'usage.invalid_profile' });
  t.throws(() => checkProfileName('a.b'), { code: 'usage.invalid_profile' });
  t.throws(() => checkProfileName(''), { code: 'usage.invalid_profile' });
});
