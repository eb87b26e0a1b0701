// Cross-process concurrency with real processes: the lock + atomic write keep
// every change, and invite uses are never over-claimed.
import t from 'tap';
import { TokenStore } from '../dist/core/tokens.js';
import { InviteStore } from '../dist/core/invites.js';
import { securityEnv, runChild } from './helpers/security.js';

t.test('two processes each create 25 tokens at once → 50 listed', async (t) => {
  const { env } = securityEnv(t);
  const at = String(Date.now() + 800);
  const [a, b] = await Promise.all([runChild(['create-tokens', at, '25', 'a'], env), runChild(['create-tokens', at, '25', 'b'], env)]);
  t.equal(a.code, 0, a.stderr);
  t.equal(b.code, 0, b.stderr);
  const listed = new TokenStore({ env }).list();
  t.equal(listed.length, 50, 'no lost update');
  t.same(new Set(listed.map((x) => x.id)), new Set([...a.json.ids, ...b.json.ids]));
  t.equal(listed.filter((x) => x.label.startsWith('a-')).length, 25);
});

t.test('20 concurrent redemptions (20 processes) of a 3-use invite → exactly 3 pairing tokens', async (t) => {
  const { env } = securityEnv(t);
  const invites = new InviteStore({ env, publicUrl: 'http://127.0.0.1:8420' });
  const c = await invites.create({ label: 'race', scope: 'read', uses: 3 });
  const at = String(Date.now() + 2500);
  const runs = await Promise.all(Array.from({ length: 20 }, () => runChild(['redeem', at, c.code], env)));
  for (const r of runs) t.equal(r.code, 0, r.stderr);
  const ok = runs.filter((r) => r.json.ok);
  const denied = runs.filter((r) => !r.json.ok);
  t.equal(ok.length, 3, 'exactly 3 succeeded');
  t.equal(new Set(ok.map((r) => r.json.pairingToken)).size, 3, 'three distinct pairing tokens');
  t.ok(denied.every((r) => r.json.reason === 'used_up'), 'the rest were told used_up');
  t.equal(invites.list({ all: true })[0].uses, 3);
  // And each pairing token works exactly once.
  const results = await Promise.all(ok.map((r, i) => invites.exchangePairing(r.json.pairingToken, `dev-${i}`)));
  t.ok(results.every((x) => x.ok));
});
