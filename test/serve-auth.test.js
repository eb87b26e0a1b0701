// Authentication against a real `mediagate serve`: each security-critical
// path with an allowed and a denied request. Distinct client addresses come
// from binding 127.0.0.2, 127.0.0.3 … (the whole 127/8 is loopback on Linux).
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { api, auditEvents, cliToken, serveEnv, startServe } from './helpers/serve.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

t.test('bearer tokens: valid, missing, wrong, revoked with the CLI, expired, pairing token, scope', async (t) => {
  const { env } = await serveEnv(t);
  const read = await cliToken(env, 'reader', 'read');
  const control = await cliToken(env, 'controller', 'control');
  const srv = await startServe(t, env);
  const from = '127.0.0.2';

  let r = await api(srv, 'GET', '/api/auth/whoami', { token: read.token, from });
  t.equal(r.status, 200, 'valid token');
  t.same(r.json, { id: read.id, label: 'reader', scope: 'read', expiresAt: null });

  r = await api(srv, 'GET', '/api/auth/whoami', { from });
  t.equal(r.status, 401, 'no token');
  t.equal(r.json.error.code, 'auth.missing_token');
  t.match(r.headers['www-authenticate'], /^Bearer/);

  r = await api(srv, 'GET', '/api/auth/whoami', { token: `mg_${'A'.repeat(43)}`, from });
  t.equal(r.status, 401, 'wrong token');
  t.equal(r.json.error.code, 'auth.invalid_token');

  r = await api(srv, 'GET', '/api/auth/whoami', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, from });
  t.equal(r.status, 401, 'not a Bearer credential');

  r = await api(srv, 'GET', '/api/auth/whoami', { headers: { cookie: `token=${read.token}` }, from });
  t.equal(r.status, 401, 'a cookie is not a credential');

  r = await api(srv, 'POST', '/api/player/pause', { token: read.token, from });
  t.equal(r.status, 403, 'read token on a control route');
  t.equal(r.json.error.code, 'auth.insufficient_scope');
  r = await api(srv, 'GET', '/api/tokens', { token: control.token, from });
  t.equal(r.status, 403, 'control token on an admin route');

  // Revoked with the CLI while serve runs: refused within 1 s.
  const victim = await cliToken(env, 'victim', 'read');
  r = await api(srv, 'GET', '/api/auth/whoami', { token: victim.token, from });
  t.equal(r.status, 200);
  const rv = await runCli(['token', 'revoke', victim.id], { env });
  t.equal(rv.code, 0, rv.stderr);
  const revokedAt = Date.now();
  let ms;
  for (;;) {
    r = await api(srv, 'GET', '/api/auth/whoami', { token: victim.token, from: '127.0.0.5' });
    if (r.status === 401) { ms = Date.now() - revokedAt; break; }
    if (Date.now() - revokedAt > 3000) break;
    await sleep(20);
  }
  t.ok(ms !== undefined && ms <= 1000, `revocation seen after ${ms} ms`);
  t.equal(r.json.error.code, 'auth.token_revoked');

  // Expired: a token made with --expires 2s works, then stops.
  const short = await cliToken(env, 'short', 'read', ['--expires', '2s']);
  r = await api(srv, 'GET', '/api/auth/whoami', { token: short.token, from: '127.0.0.5' });
  t.equal(r.status, 200, 'before expiry');
  await sleep(Math.max(0, Date.parse(short.expiresAt) - Date.now()) + 50);
  r = await api(srv, 'GET', '/api/auth/whoami', { token: short.token, from: '127.0.0.5' });
  t.equal(r.status, 401, 'after expiry');
  t.equal(r.json.error.code, 'auth.token_expired');

  // Everything denied above is in the audit log with the address and request id.
  const events = await auditEvents(env, ['--outcome', 'denied']);
  const failures = events.filter((e) => e.action === 'auth.failure');
  t.ok(failures.length >= 4, `${failures.length} auth failures recorded`);
  for (const e of events) {
    t.ok(e.ip, `${e.action} has an ip`);
    t.ok(e.requestId, `${e.action} has a request id`);
    t.ok(e.actor?.id, `${e.action} has an actor`);
  }
  t.ok(events.some((e) => e.action === 'auth.forbidden' && e.actor.id === `token:${read.id}` && e.ip === from), 'the 403 names the token and address');
  t.ok(events.some((e) => e.action === 'auth.missing_token' && e.ip === from));
  t.equal((await srv.stop()).code, 0);
  const v = await runCli(['audit', 'verify'], { env });
  t.equal(v.code, 0, v.stderr);
});

t.test('lockout: 10 failures lock the address — even the right token is refused — and others are unaffected', async (t) => {
  const { env } = await serveEnv(t);
  const good = await cliToken(env, 'good', 'read');
  const srv = await startServe(t, env);
  const bad = `mg_${'B'.repeat(43)}`;
  let r = await api(srv, 'GET', '/api/status', { token: good.token, from: '127.0.0.2' });
  t.not(r.status, 401, 'the right token works before');
  for (let i = 1; i <= 10; i++) {
    r = await api(srv, 'GET', '/api/auth/whoami', { token: bad, from: '127.0.0.2' });
    t.equal(r.status, 401, `failure ${i} → 401`);
  }
  r = await api(srv, 'GET', '/api/auth/whoami', { token: good.token, from: '127.0.0.2' });
  t.equal(r.status, 429, 'the correct token is refused while locked');
  t.equal(r.json.error.code, 'auth.locked');
  t.ok(Number(r.headers['retry-after']) > 800, `Retry-After ${r.headers['retry-after']} s`);
  r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: 'ABCD-EFGH-JKMN-PQRS' }, from: '127.0.0.2' });
  t.equal(r.status, 429, 'redeem is locked too');
  r = await api(srv, 'GET', '/api/auth/whoami', { token: good.token, from: '127.0.0.3' });
  t.equal(r.status, 200, 'another address is not affected');
  const events = await auditEvents(env, ['--action', 'auth']);
  t.equal(events.filter((e) => e.action === 'auth.failure' && e.ip === '127.0.0.2').length, 10, 'each failure recorded');
  t.ok(events.some((e) => e.action === 'auth.locked' && e.ip === '127.0.0.2'), 'the refusal while locked is recorded');
});

t.test('X-Forwarded-For counts only from a trusted proxy, rightmost untrusted hop', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.trustedProxies': '127.0.0.1' });
  const good = await cliToken(env, 'good', 'read');
  const srv = await startServe(t, env);
  const bad = `mg_${'C'.repeat(43)}`;
  // Through the trusted proxy (127.0.0.1), as client 203.0.113.7 (a forged hop on the left is ignored).
  for (let i = 0; i < 10; i++) {
    await api(srv, 'GET', '/api/auth/whoami', { token: bad, from: '127.0.0.1', headers: { 'x-forwarded-for': `10.9.9.9, 203.0.113.7` } });
  }
  let r = await api(srv, 'GET', '/api/auth/whoami', { token: good.token, from: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7' } });
  t.equal(r.status, 429, 'the forwarded client is locked');
  r = await api(srv, 'GET', '/api/auth/whoami', { token: good.token, from: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.8' } });
  t.equal(r.status, 200, 'another forwarded client is not');
  r = await api(srv, 'GET', '/api/auth/whoami', { token: good.token, from: '127.0.0.1' });
  t.equal(r.status, 200, 'the proxy itself is not');
  // From an untrusted peer, X-Forwarded-For changes nothing: spoofing the locked client does not lock this one…
  r = await api(srv, 'GET', '/api/auth/whoami', { token: good.token, from: '127.0.0.4', headers: { 'x-forwarded-for': '203.0.113.7' } });
  t.equal(r.status, 200, 'spoofed X-Forwarded-For from an untrusted peer is ignored');
  const events = await auditEvents(env, ['--action', 'auth.failure']);
  t.ok(events.length === 10 && events.every((e) => e.ip === '203.0.113.7'), 'failures recorded under the forwarded address');
});

t.test('pairing: redeem → exchange → a device token with the invite scope; pairing token is never a bearer token', async (t) => {
  const { env } = await serveEnv(t);
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'phone', '--scope', 'control', '--uses', '1', '--json'], { env })).stdout);
  const srv = await startServe(t, env);
  const from = '127.0.0.6';

  let r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: 'AAAA-BBBB-CCCC-DDDD' }, from });
  t.equal(r.status, 401, 'wrong code');
  t.equal(r.json.error.code, 'invite.unknown');
  r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code.toLowerCase().replace(/-/g, ' ') }, from });
  t.equal(r.status, 200, 'right code (normalised)');
  t.same(Object.keys(r.json).sort(), ['expiresAt', 'pairingToken']);
  const pairing = r.json.pairingToken;
  t.match(pairing, /^mgp_/);

  r = await api(srv, 'GET', '/api/auth/whoami', { token: pairing, from });
  t.equal(r.status, 401, 'a pairing token is not accepted as a bearer token');
  t.equal(r.json.error.code, 'auth.invalid_token');

  r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code }, from });
  t.equal(r.status, 401, 'a used-up invite');
  t.equal(r.json.error.code, 'invite.used_up');

  r = await api(srv, 'POST', '/api/auth/exchange', { json: { pairingToken: pairing, device: 'Pixel 9' }, from });
  t.equal(r.status, 200, 'exchange');
  t.same(Object.keys(r.json).sort(), ['id', 'label', 'scope', 'token']);
  t.equal(r.json.scope, 'control');
  t.equal(r.json.label, 'Pixel 9');
  const device = r.json;

  r = await api(srv, 'POST', '/api/auth/exchange', { json: { pairingToken: pairing, device: 'again' }, from });
  t.equal(r.status, 401, 'a pairing token works once');
  t.equal(r.json.error.code, 'pairing.used');

  r = await api(srv, 'GET', '/api/auth/whoami', { token: device.token, from });
  t.same(r.json, { id: device.id, label: 'Pixel 9', scope: 'control', expiresAt: null });
  r = await api(srv, 'POST', '/api/player/pause', { token: device.token, from });
  t.not(r.status, 403, 'the device token has control scope');
  r = await api(srv, 'GET', '/api/tokens', { token: device.token, from });
  t.equal(r.status, 403, 'but not admin');

  // Logout revokes the calling token.
  r = await api(srv, 'POST', '/api/auth/logout', { token: device.token, from });
  t.equal(r.status, 200);
  t.equal(r.json.status, 'revoked');
  r = await api(srv, 'GET', '/api/auth/whoami', { token: device.token, from });
  t.equal(r.status, 401, 'logged out');

  const events = await auditEvents(env);
  const redeems = events.filter((e) => e.action === 'invite.redeem');
  t.same(redeems.map((e) => e.outcome), ['denied', 'ok', 'denied'], 'each redeem recorded');
  t.ok(redeems.every((e) => e.ip === from && e.requestId), 'with address and request id');
  t.ok(events.some((e) => e.action === 'pairing.exchange' && e.outcome === 'ok' && e.target === device.id));
  t.ok(events.some((e) => e.action === 'token.revoke' && e.actor.id === `token:${device.id}`), 'logout recorded as the device');
  t.notOk(JSON.stringify(events).includes(pairing.slice(4, 20)), 'no pairing token in the audit log');
  t.notOk(JSON.stringify(events).includes(device.token.slice(3, 20)), 'no token in the audit log');
});

t.test('bad redeem codes count toward the lockout', async (t) => {
  const { env } = await serveEnv(t);
  const srv = await startServe(t, env);
  for (let i = 0; i < 10; i++) {
    const r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: `ZZZZ-ZZZZ-ZZZZ-ZZ${String(i).padStart(2, '0')}` }, from: '127.0.0.7' });
    t.equal(r.status, 401);
  }
  const r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: 'ZZZZ-ZZZZ-ZZZZ-ZZZZ' }, from: '127.0.0.7' });
  t.equal(r.status, 429, 'locked after 10 bad codes');
  t.ok(r.headers['retry-after']);
});
