// /api/ws upgrade: who gets a WebSocket and who gets an HTTP error instead.
// A real HTTP server with the WS module, deps from the real core (TokenStore,
// InviteStore, audit log, LiveState over a real MPD, CorsPolicy, FailureLockout).
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startMpd } from './helpers/mpd.js';
import { startWsServer, connect, ALLOWED_ORIGIN } from './helpers/ws.js';

const mpd = await startMpd(t);
const srv = await startWsServer(t, { mpd, maxFailures: 1000 });
const { tokens } = srv;

async function opens(t, client, what) {
  t.notOk(client.refused, `${what}: upgrade accepted${client.refused ? ` (got ${client.status} ${JSON.stringify(client.body)})` : ''}`);
  if (client.refused) return;
  client.send({ type: 'subscribe' });
  const status = await client.next((m) => m.type === 'status');
  t.equal(status.data?.player, 'mpd', `${what}: the socket works (status of mpd)`);
  client.close();
  await client.closed();
}

function refused(t, r, status, code, what) {
  t.equal(r.refused, true, `${what}: refused before the upgrade`);
  t.equal(r.status, status, `${what}: HTTP ${status}`);
  t.equal(r.body?.error?.code, code, `${what}: code ${code}`);
  t.match(r.body?.error?.requestId, /^[A-Za-z0-9._:-]+$/, `${what}: request id in the body`);
  t.equal(r.headers['x-content-type-options'], 'nosniff', `${what}: security headers on the refusal`);
}

t.test('allowed: Authorization header', async (t) => {
  const c = await connect(srv.url, { token: tokens.control.token });
  t.equal(c.protocol, '', 'no subprotocol asked, none answered');
  await opens(t, c, 'header');
});

t.test('allowed: token as subprotocol next to mediagate.v1; the answer is mediagate.v1, never the token', async (t) => {
  let answered;
  const ws = new WebSocket(srv.url, ['mediagate.v1', `mediagate.token.${tokens.read.token}`]);
  ws.once('upgrade', (res) => { answered = res.headers['sec-websocket-protocol']; });
  const c = await new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_q, res) => reject(new Error(`refused ${res.statusCode}`)));
  });
  t.equal(c.protocol, 'mediagate.v1');
  t.equal(answered, 'mediagate.v1', 'the handshake answers exactly mediagate.v1');
  t.notMatch(String(answered), /mg_/, 'the token is not echoed');
  ws.close();
  await new Promise((r) => ws.once('close', r));

  const again = await connect(srv.url, { protocols: ['mediagate.v1', `mediagate.token.${tokens.control.token}`] });
  await opens(t, again, 'subprotocol');
});

t.test('allowed: Origin on the allow-list; absent Origin (non-browser)', async (t) => {
  await opens(t, await connect(srv.url, { token: tokens.read.token, origin: ALLOWED_ORIGIN }), 'allowed origin');
  await opens(t, await connect(srv.url, { token: tokens.read.token }), 'no origin');
});

t.test('denied: no token → 401 with WWW-Authenticate, audited', async (t) => {
  const r = await connect(srv.url);
  refused(t, r, 401, 'auth.missing_token', 'no token');
  t.match(r.headers['www-authenticate'], /^Bearer/);
  const r2 = await connect(srv.url, { protocols: ['mediagate.v1'] });
  refused(t, r2, 401, 'auth.missing_token', 'only mediagate.v1, no token protocol');
  const events = await srv.auditEvents();
  t.ok(events.some((e) => e.action === 'auth.missing_token' && e.outcome === 'denied' && e.detail === 'ws auth.missing_token' && e.ip === '127.0.0.1' && e.requestId === r.body.error.requestId),
    'audited with ip and request id');
  t.ok(events.some((e) => e.action === 'auth.missing_token' && e.requestId === r2.body.error.requestId), 'the second one too, with its own request id');
  t.equal(srv.lockout.failures('127.0.0.1'), 0, 'no credential tried no secret: not counted toward the lockout');
});

t.test('denied: bad tokens → 401', async (t) => {
  const unknown = `mg_${randomBytes(32).toString('base64url')}`;
  refused(t, await connect(srv.url, { token: unknown }), 401, 'auth.invalid_token', 'unknown token (header)');
  refused(t, await connect(srv.url, { protocols: ['mediagate.v1', `mediagate.token.${unknown}`] }), 401, 'auth.invalid_token', 'unknown token (subprotocol)');
  refused(t, await connect(srv.url, { token: 'garbage' }), 401, 'auth.invalid_token', 'garbage');
  refused(t, await connect(srv.url, { headers: { authorization: `Basic ${Buffer.from(`x:${tokens.admin.token}`).toString('base64')}` } }), 401, 'auth.invalid_token', 'Basic auth');
  refused(t, await connect(srv.url, { token: tokens.read.token, protocols: ['mediagate.v1', `mediagate.token.${tokens.admin.token}`] }), 401, 'auth.invalid_token',
    'header and subprotocol disagree');
  const events = await srv.auditEvents();
  t.ok(events.filter((e) => e.action === 'auth.failure' && /auth\.invalid_token/.test(e.detail ?? '')).length >= 4, 'each failure audited');
});

t.test('denied: a pairing token is never a bearer token', async (t) => {
  t.match(srv.pairingToken, /^mgp_/);
  t.equal(srv.deps.authenticate(srv.pairingToken, '127.0.0.1'), null, 'authenticate() refuses it');
  refused(t, await connect(srv.url, { token: srv.pairingToken }), 401, 'auth.invalid_token', 'pairing token in the header');
  refused(t, await connect(srv.url, { protocols: ['mediagate.v1', `mediagate.token.${srv.pairingToken}`] }), 401, 'auth.invalid_token', 'pairing token as subprotocol');
});

t.test('denied: a token in the URL query, even a valid one', async (t) => {
  refused(t, await connect(`${srv.url}?token=${tokens.admin.token}`), 401, 'auth.token_in_url', '?token=');
  refused(t, await connect(`${srv.url}?access_token=${tokens.admin.token}`), 401, 'auth.token_in_url', '?access_token=');
  refused(t, await connect(`${srv.url}?x=${tokens.admin.token}`), 401, 'auth.token_in_url', 'token-shaped value under another name');
  refused(t, await connect(`${srv.url}?token=${tokens.admin.token}`, { token: tokens.admin.token }), 401, 'auth.token_in_url',
    'refused even next to a valid header (the secret already leaked into a URL)');
  await opens(t, await connect(`${srv.url}?v=1`, { token: tokens.read.token }), 'a harmless query is fine');
});

t.test('denied: a foreign Origin → 403, audited as denied', async (t) => {
  const r = await connect(srv.url, { token: tokens.admin.token, origin: 'https://evil.example' });
  refused(t, r, 403, 'auth.origin_denied', 'foreign origin');
  refused(t, await connect(srv.url, { token: tokens.admin.token, origin: 'null' }), 403, 'auth.origin_denied', "the 'null' origin");
  const events = await srv.auditEvents();
  t.ok(events.some((e) => e.action === 'ws.connect' && e.outcome === 'denied' && /auth\.origin_denied/.test(e.detail) && /evil\.example/.test(e.detail)), 'audited');
});

t.test('denied: revoked and expired tokens', async (t) => {
  const gone = await srv.store.create({ label: 'gone', scope: 'admin' });
  await opens(t, await connect(srv.url, { token: gone.token }), 'before revoke');
  await srv.store.revoke(gone.id);
  refused(t, await connect(srv.url, { token: gone.token }), 401, 'auth.invalid_token', 'revoked');
  const short = await srv.store.create({ label: 'short', scope: 'read', expiresIn: 300 });
  await new Promise((r) => setTimeout(r, 400));
  refused(t, await connect(srv.url, { token: short.token }), 401, 'auth.invalid_token', 'expired');
});

t.test('other paths and protocols', async (t) => {
  refused(t, await connect(`ws://127.0.0.1:${srv.port}/api/other`, { token: tokens.admin.token }), 404, 'route.not_found', 'other path');
  refused(t, await connect(`ws://127.0.0.1:${srv.port}/api/ws/`, { token: tokens.admin.token }), 404, 'route.not_found', 'trailing slash');
  refused(t, await connect(srv.url, { token: tokens.admin.token, protocols: ['chat'] }), 400, 'request.unsupported_protocol', 'a protocol other than mediagate.v1');
});

t.test('locked-out address: refused even with the right token; other addresses unaffected', async (t) => {
  const locked = await startWsServer(t, { mpd, maxFailures: 3 });
  const bad = `mg_${randomBytes(32).toString('base64url')}`;
  for (let i = 0; i < 3; i++) refused(t, await connect(locked.url, { token: bad, localAddress: '127.0.0.2' }), 401, 'auth.invalid_token', `failure ${i + 1}`);
  const r = await connect(locked.url, { token: locked.tokens.admin.token, localAddress: '127.0.0.2' });
  refused(t, r, 429, 'auth.locked', 'right token from the locked address');
  const retry = Number(r.headers['retry-after']);
  t.ok(retry > 60 && retry <= 15 * 60, `Retry-After is the lock's real remaining time, not a fixed 60 s (${retry})`);
  t.equal(locked.lockout.failures('127.0.0.2'), 3, 'the refused attempt was not verified, so not counted');
  await opens(t, await connect(locked.url, { token: locked.tokens.admin.token, localAddress: '127.0.0.3' }), 'another address');
  const events = await locked.auditEvents();
  t.ok(events.some((e) => e.action === 'auth.locked' && e.outcome === 'denied' && e.ip === '127.0.0.2' && e.requestId === r.body.error.requestId), 'lockout refusal audited with its request id');
});

t.test('no secret in the audit log or the server log', async (t) => {
  await srv.audit.flush();
  const files = readdirSync(srv.stateDir).filter((f) => f.startsWith('audit'));
  t.ok(files.length > 0, 'audit files exist');
  const text = files.map((f) => readFileSync(join(srv.stateDir, f), 'utf8')).join('\n') + srv.logs.join('\n');
  for (const [name, tok] of Object.entries(tokens)) t.notOk(text.includes(tok.token), `${name} token not logged`);
  t.notOk(text.includes(srv.pairingToken), 'pairing token not logged');
  t.ok(srv.logs.some((l) => /^\d{4}-\d\d-\d\dT\S+Z GET \/api\/ws 101 [\d.]+ms rid=\S+ actor="remote"$/.test(l)), 'one log line per upgrade in the request log\'s shape: time, status, ms, request id, quoted actor label');
});
