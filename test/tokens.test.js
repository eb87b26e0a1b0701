import t from 'tap';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenStore, scopeAllows, parseScope, hashSecret } from '../dist/core/tokens.js';
import { securityEnv, recordingAudit, clock } from './helpers/security.js';

const DAY = 86_400_000;

t.test('create: shape, format, only the hash stored, 0600 in 0700', async (t) => {
  const { env, stateDir } = securityEnv(t);
  const now = clock();
  const audit = recordingAudit();
  const store = new TokenStore({ env, now, audit });
  const c = await store.create({ label: 'kitchen', scope: 'control', expiresIn: '30d' });
  t.same(Object.keys(c).sort(), ['createdAt', 'expiresAt', 'id', 'label', 'scope', 'token']);
  t.match(c.id, /^tok_[0-9a-hjkmnp-tv-z]{8}$/);
  t.match(c.token, /^mg_[A-Za-z0-9_-]{43}$/);
  t.equal(Buffer.from(c.token.slice(3), 'base64url').length, 32);
  t.equal(c.expiresAt, new Date(now().getTime() + 30 * DAY).toISOString());
  const file = join(stateDir, 'tokens.json');
  const text = readFileSync(file, 'utf8');
  t.notOk(text.includes(c.token), 'token not stored');
  t.notOk(text.includes(c.token.slice(3)), 'not even its body');
  t.ok(text.includes(hashSecret(c.token)), 'its sha256 is');
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.equal(statSync(stateDir).mode & 0o777, 0o700);
  const n = await store.create({ label: 'forever', scope: 'read' });
  t.equal(n.expiresAt, null, 'no --expires → never');
  t.same(audit.events.map((e) => [e.action, e.target, e.outcome]), [['token.create', c.id, 'ok'], ['token.create', n.id, 'ok']]);
  t.notOk(JSON.stringify(audit.events).includes(c.token.slice(3)), 'audit has no token');
});

t.test('create: denied — bad scope, label, expiry', async (t) => {
  const { env } = securityEnv(t);
  const store = new TokenStore({ env });
  await t.rejects(store.create({ label: 'x', scope: 'root' }), { exitCode: 2, code: 'usage.invalid_scope', message: /read, control, admin/ });
  await t.rejects(store.create({ label: '', scope: 'read' }), { exitCode: 2, code: 'usage.invalid_label' });
  await t.rejects(store.create({ label: 'x'.repeat(65), scope: 'read' }), { exitCode: 2 });
  await t.rejects(store.create({ label: 'bad\u0007bell', scope: 'read' }), { exitCode: 2 });
  await t.rejects(store.create({ label: 'x', scope: 'read', expiresIn: '1y' }), { exitCode: 2, code: 'usage.invalid_duration' });
  t.same(store.list(), [], 'nothing was created');
});

t.test('create: refused creates are audited (outcome error, the reason code)', async (t) => {
  const { env } = securityEnv(t);
  const audit = recordingAudit();
  const store = new TokenStore({ env, audit });
  await t.rejects(store.create({ label: 'x', scope: 'root' }), { code: 'usage.invalid_scope' });
  await t.rejects(store.create({ label: 'x', scope: 'read', expiresIn: '1y' }), { code: 'usage.invalid_duration' });
  await store.create({ label: 'x', scope: 'read' });
  t.match(audit.events.map((e) => [e.action, e.outcome, e.detail]), [
    ['token.create', 'error', 'usage.invalid_scope'],
    ['token.create', 'error', 'usage.invalid_duration'],
    ['token.create', 'ok', /label "x"/],
  ]);
});

t.test('list never shows secrets or hashes; revoked only with all', async (t) => {
  const { env } = securityEnv(t);
  const now = clock();
  const store = new TokenStore({ env, now });
  const a = await store.create({ label: 'a', scope: 'read' });
  now.advance(1000);
  const b = await store.create({ label: 'b', scope: 'admin', expiresIn: '1h' });
  const list = store.list();
  t.same(list.map((x) => x.id), [b.id, a.id], 'newest first');
  t.same(Object.keys(list[0]).sort(), ['createdAt', 'expiresAt', 'id', 'label', 'lastSeenAt', 'revokedAt', 'scope', 'status']);
  const s = JSON.stringify(list);
  t.notOk(s.includes(a.token) || s.includes(hashSecret(a.token)) || s.includes(b.token) || s.includes(hashSecret(b.token)));
  await store.revoke(a.id);
  t.same(store.list().map((x) => x.id), [b.id]);
  t.same(store.list({ all: true }).map((x) => [x.id, x.status]), [[b.id, 'active'], [a.id, 'revoked']]);
  now.advance(2 * 3_600_000);
  t.equal(store.list()[0].status, 'expired');
});

t.test('resolveToken: allowed and each denial reason', async (t) => {
  const { env } = securityEnv(t);
  const now = clock();
  const store = new TokenStore({ env, now });
  const c = await store.create({ label: 'phone', scope: 'control', expiresIn: '1h' });
  const r = store.resolveToken(c.token);
  t.same(r, { ok: true, principal: { id: c.id, label: 'phone', scope: 'control', kind: 'token', expiresAt: c.expiresAt } });

  t.same(store.resolveToken(`mg_${'A'.repeat(43)}`), { ok: false, reason: 'unknown' }, 'unknown');
  for (const bad of ['', 'mg_', `mg_${'A'.repeat(42)}`, `mg_${'A'.repeat(44)}`, `mg_${'A'.repeat(42)}=`, `Bearer ${c.token}`, `${c.token} `, c.token.toUpperCase().replace('MG_', 'MG_'), `mgp_${c.token.slice(3)}`, null, 42, undefined]) {
    t.same(store.resolveToken(bad), { ok: false, reason: 'malformed' }, `malformed: ${JSON.stringify(bad)}`);
  }
  // scope too low: hierarchy read ⊂ control ⊂ admin
  t.ok(scopeAllows(r.principal.scope, 'read'), 'control allows read');
  t.ok(scopeAllows(r.principal.scope, 'control'), 'control allows control');
  t.notOk(scopeAllows(r.principal.scope, 'admin'), 'control does not allow admin');
  t.notOk(scopeAllows('read', 'control'));
  t.ok(scopeAllows('admin', 'read'));
  t.notOk(scopeAllows('bogus', 'read'), 'an unknown scope allows nothing');
  t.equal(parseScope('admin'), 'admin');
  t.throws(() => parseScope('Admin'), { exitCode: 2 });

  // expiry with the injected clock
  now.advance(3_600_000 - 1);
  t.ok(store.resolveToken(c.token).ok, 'still valid 1 ms before expiry');
  now.advance(1);
  t.same(store.resolveToken(c.token), { ok: false, reason: 'expired' }, 'expired at expiresAt');

  // revoked
  const d = await store.create({ label: 'tv', scope: 'read' });
  t.ok(store.resolveToken(d.token).ok);
  await store.revoke('tv');
  t.same(store.resolveToken(d.token), { ok: false, reason: 'revoked' }, 'revoked');
});

t.test('rotate: new secret, same id/label/scope/expiry, old one dead', async (t) => {
  const { env } = securityEnv(t);
  const now = clock();
  const audit = recordingAudit();
  const store = new TokenStore({ env, now, audit });
  const c = await store.create({ label: 'hass', scope: 'admin', expiresIn: '7d' });
  const r = await store.rotate(c.id);
  t.same({ ...r, token: undefined }, { ...c, token: undefined });
  t.not(r.token, c.token);
  t.same(store.resolveToken(c.token), { ok: false, reason: 'revoked' }, 'old secret refused');
  t.ok(store.resolveToken(r.token).ok, 'new secret works');
  await store.revoke(c.id);
  await t.rejects(store.rotate(c.id), { exitCode: 2, code: 'token.revoked' }, 'a revoked token cannot be rotated');
  await t.rejects(store.rotate('tok_nothere'), { exitCode: 2, code: 'token.not_found' });
  t.same(audit.events.map((e) => [e.action, e.outcome]), [['token.create', 'ok'], ['token.rotate', 'ok'], ['token.revoke', 'ok'], ['token.rotate', 'error'], ['token.rotate', 'error']]);
});

t.test('revoke by id or label; ambiguous label refused; unknown refused', async (t) => {
  const { env } = securityEnv(t);
  const store = new TokenStore({ env });
  const a = await store.create({ label: 'same', scope: 'read' });
  const b = await store.create({ label: 'same', scope: 'read' });
  await t.rejects(store.revoke('same'), { exitCode: 2, code: 'token.ambiguous', message: new RegExp(`${a.id}|${b.id}`) });
  await t.rejects(store.revoke('nobody'), { exitCode: 2, code: 'token.not_found' });
  const r = await store.revoke(a.id);
  t.equal(r.status, 'revoked');
  t.equal(r.alreadyRevoked, false);
  const r2 = await store.revoke('same');
  t.equal(r2.id, b.id, 'label now unique among live tokens');
  t.equal((await store.revoke(a.id)).alreadyRevoked, true, 'revoking twice is harmless');
});

t.test('another process\'s revocation is seen within 1 s (stat check)', async (t) => {
  const { env } = securityEnv(t);
  const server = new TokenStore({ env });
  const cli = new TokenStore({ env });
  const c = await cli.create({ label: 'x', scope: 'read' });
  t.ok(server.resolveToken(c.token).ok);
  await cli.revoke(c.id);
  const start = Date.now();
  let r;
  while (Date.now() - start < 1000) {
    r = server.resolveToken(c.token);
    if (!r.ok) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  t.same(r, { ok: false, reason: 'revoked' });
  t.ok(Date.now() - start < 1000, `seen after ${Date.now() - start} ms (limit 1 s; stat check every 250 ms)`);
  const d = await cli.create({ label: 'y', scope: 'read' });
  await new Promise((res) => setTimeout(res, 300));
  t.ok(server.resolveToken(d.token).ok, 'a new token from another store is seen too');
});

t.test('lastSeenAt: recorded off the hot path, at most once a minute', async (t) => {
  const { env, stateDir } = securityEnv(t);
  const now = clock();
  const store = new TokenStore({ env, now });
  const c = await store.create({ label: 'x', scope: 'read' });
  const file = join(stateDir, 'tokens.json');
  const before = readFileSync(file, 'utf8');
  t.ok(store.resolveToken(c.token).ok);
  t.equal(readFileSync(file, 'utf8'), before, 'resolve itself wrote nothing');
  t.equal(store.list()[0].lastSeenAt, now().toISOString(), 'list shows the pending time');
  await store.flush();
  const stored = JSON.parse(readFileSync(file, 'utf8')).tokens[0];
  t.equal(stored.lastSeenAt, now().toISOString(), 'written by flush');
  const first = now().toISOString();
  now.advance(30_000);
  store.resolveToken(c.token);
  await store.flush();
  t.equal(JSON.parse(readFileSync(file, 'utf8')).tokens[0].lastSeenAt, first, 'not again within a minute');
  now.advance(31_000);
  store.resolveToken(c.token);
  await store.flush();
  t.equal(JSON.parse(readFileSync(file, 'utf8')).tokens[0].lastSeenAt, now().toISOString(), 'again after a minute');
  // the background timer writes it by itself too
  now.advance(61_000);
  store.resolveToken(c.token);
  await new Promise((res) => setTimeout(res, 1300));
  t.equal(JSON.parse(readFileSync(file, 'utf8')).tokens[0].lastSeenAt, now().toISOString(), 'flushed in the background');
});

t.test('file permission refusal: group/world-writable state dir or file', async (t) => {
  const { env, stateDir } = securityEnv(t);
  const store = new TokenStore({ env });
  const c = await store.create({ label: 'x', scope: 'read' });
  chmodSync(stateDir, 0o777);
  t.teardown(() => { try { chmodSync(stateDir, 0o700); } catch {} });
  t.throws(() => new TokenStore({ env }).list(), { exitCode: 5, code: 'config.unsafe_permissions', message: /writable by group or others/, hint: /chmod 700/ }, '0777 dir refused');
  await t.rejects(store.create({ label: 'y', scope: 'read' }), { exitCode: 5, code: 'config.unsafe_permissions' }, 'an open store refuses to write');
  chmodSync(stateDir, 0o700);
  const file = join(stateDir, 'tokens.json');
  chmodSync(file, 0o666);
  t.throws(() => new TokenStore({ env }).list(), { exitCode: 5, code: 'config.unsafe_permissions', hint: /chmod 600/ }, '0666 file refused');
  await new Promise((res) => setTimeout(res, 300));
  t.throws(() => store.resolveToken(c.token), { exitCode: 5, code: 'config.unsafe_permissions' }, 'a running store notices too (next stat check)');
  chmodSync(file, 0o600);
  t.ok(new TokenStore({ env }).resolveToken(c.token).ok, 'allowed again once fixed');
});

t.test('file permission refusal: a running store notices its state dir became 0777 (only the dir changed)', async (t) => {
  const { env, stateDir } = securityEnv(t);
  const store = new TokenStore({ env });
  const c = await store.create({ label: 'x', scope: 'read' });
  t.ok(store.resolveToken(c.token).ok, 'allowed while the dir is 0700');
  chmodSync(stateDir, 0o777);
  t.teardown(() => { try { chmodSync(stateDir, 0o700); } catch {} });
  await new Promise((res) => setTimeout(res, 300)); // past the stat-check interval
  t.throws(() => store.resolveToken(c.token), { exitCode: 5, code: 'config.unsafe_permissions', hint: /chmod 700/ }, 'refused at the next stat check');
  chmodSync(stateDir, 0o700);
  await new Promise((res) => setTimeout(res, 300));
  t.ok(store.resolveToken(c.token).ok, 'allowed again once fixed');
});

t.test('damaged tokens file → clear error, exit 5', async (t) => {
  const { env, stateDir } = securityEnv(t);
  writeFileSync(join(stateDir, 'tokens.json'), '{"version":1,"tokens":[{"id":1}]}', { mode: 0o600 });
  t.throws(() => new TokenStore({ env }).list(), { exitCode: 5, code: 'state.corrupt' });
});
