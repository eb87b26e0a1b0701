import t from 'tap';
import { chmodSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InviteStore, normalizeCode, formatCode } from '../dist/core/invites.js';
import { TokenStore } from '../dist/core/tokens.js';
import { openConfigWriter } from '../dist/core/config/store.js';
import { securityEnv, recordingAudit, clock } from './helpers/security.js';

const MIN = 60_000;

function stores(t, opts = {}) {
  const { env, stateDir, configDir } = securityEnv(t);
  const now = opts.now ?? clock();
  const audit = recordingAudit();
  const tokens = new TokenStore({ env, now, audit });
  const invites = new InviteStore({ env, now, audit, tokens, publicUrl: opts.publicUrl });
  return { env, stateDir, configDir, now, audit, tokens, invites };
}

t.test('normalizeCode: look-alikes, dashes, spaces, case', async (t) => {
  t.equal(normalizeCode('ABCD-EFGH-JKMN-PQRS'), 'ABCDEFGHJKMNPQRS');
  t.equal(normalizeCode(' abcd efgh\tjkmn-pqrs '), 'ABCDEFGHJKMNPQRS');
  t.equal(normalizeCode('o0Oo-iIlL-uUvV-1234'), '00001111VVVV1234', 'O→0, I/L→1, U→V');
  t.equal(normalizeCode('ABCD--EFGH  JKMN--PQRS'), 'ABCDEFGHJKMNPQRS');
  for (const bad of ['', 'ABCD-EFGH-JKMN-PQR', 'ABCD-EFGH-JKMN-PQRST', 'ABCD-EFGH-JKMN-PQR!', 'ABCD_EFGH_JKMN_PQRS', 'x'.repeat(100), null, 12]) {
    t.equal(normalizeCode(bad), null, `refused: ${JSON.stringify(bad)}`);
  }
  t.equal(formatCode('ABCDEFGHJKMNPQRS'), 'ABCD-EFGH-JKMN-PQRS');
});

t.test('create: shape, link with the code in the fragment, stored hashed', async (t) => {
  const { invites, stateDir, now, env } = stores(t);
  const c = await invites.create({ label: 'family', scope: 'control' });
  t.same(Object.keys(c).sort(), ['code', 'expiresAt', 'id', 'label', 'link', 'maxUses', 'scope', 'superseded']);
  t.match(c.id, /^inv_[0-9a-z]{8}$/);
  t.match(c.code, /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
  t.equal(c.link, `http://127.0.0.1:8420/connect#code=${c.code}`);
  t.equal(c.maxUses, 5, 'default 5 uses');
  t.equal(c.expiresAt, new Date(now().getTime() + 86_400_000).toISOString(), 'default 1 day');
  const text = readFileSync(join(stateDir, 'invites.json'), 'utf8');
  t.notOk(text.includes(c.code) || text.includes(normalizeCode(c.code)), 'code not stored');
  // server.publicUrl from config
  const w = await openConfigWriter(env);
  await w.set('server.publicUrl', 'https://media.example.org/');
  const d = await new InviteStore({ env, now }).create({ label: 'other', scope: 'read', uses: 1, expiresIn: '2h' });
  t.equal(d.link, `https://media.example.org/connect#code=${d.code}`);
  t.equal(d.maxUses, 1);
});

t.test('create: denied — bad scope, uses, expiry', async (t) => {
  const { invites } = stores(t);
  await t.rejects(invites.create({ label: 'x', scope: 'owner' }), { exitCode: 2, message: /read, control, admin/ });
  for (const uses of [0, -1, 101, '3x', 1.5]) await t.rejects(invites.create({ label: 'x', scope: 'read', uses }), { exitCode: 2, code: 'usage.invalid_uses' }, `uses ${uses}`);
  for (const e of ['never', '31d', '30s', 'soon']) await t.rejects(invites.create({ label: 'x', scope: 'read', expiresIn: e }), { exitCode: 2, code: 'usage.invalid_duration' }, `expires ${e}`);
  t.same(invites.list({ all: true }), []);
});

t.test('redeem + exchange: allowed path with look-alike input', async (t) => {
  const { invites, tokens, audit, now } = stores(t);
  const c = await invites.create({ label: 'family', scope: 'control', uses: 2 });
  // Typed by a person: lower case, spaces instead of dashes, O for 0 etc.
  const typed = c.code.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l').replace(/v/g, 'u');
  const r = await invites.redeemInvite(typed, { ip: '192.0.2.7' });
  t.equal(r.ok, true);
  t.match(r.pairingToken, /^mgp_[A-Za-z0-9_-]{43}$/);
  t.equal(r.expiresAt, new Date(now().getTime() + 10 * MIN).toISOString(), 'pairing valid 10 minutes');
  t.equal(invites.list()[0].uses, 1);
  const x = await invites.exchangePairing(r.pairingToken, 'Anna’s phone');
  t.equal(x.ok, true);
  t.same({ scope: x.scope, label: x.label }, { scope: 'control', label: 'Anna’s phone' });
  const who = tokens.resolveToken(x.token);
  t.same(who.principal, { id: x.id, label: 'Anna’s phone', scope: 'control', kind: 'token', expiresAt: null });
  const r2 = await invites.redeemInvite(c.code.replace(/-/g, ''));
  t.ok(r2.ok, 'without dashes');
  const actions = audit.events.map((e) => `${e.action}:${e.outcome}`);
  t.same(actions, ['invite.create:ok', 'invite.redeem:ok', 'token.create:ok', 'pairing.exchange:ok', 'invite.redeem:ok']);
  t.equal(audit.events[1].ip, '192.0.2.7');
  t.equal(audit.events[1].actor.id, 'anonymous');
  const s = JSON.stringify(audit.events);
  t.notOk(s.includes(normalizeCode(c.code)) || s.includes(c.code) || s.includes(r.pairingToken) || s.includes(x.token), 'no code or token in the audit log');
});

t.test('redeem: denied — unknown, malformed, expired, used up, revoked, superseded; rejects consume nothing', async (t) => {
  const { invites, stateDir, now } = stores(t);
  const file = join(stateDir, 'invites.json');
  t.same(await invites.redeemInvite('0000-0000-0000-0000'), { ok: false, reason: 'unknown' });
  t.same(await invites.redeemInvite('not a code'), { ok: false, reason: 'malformed' });

  const one = await invites.create({ label: 'once', scope: 'read', uses: 1 });
  t.ok((await invites.redeemInvite(one.code)).ok);
  const before = readFileSync(file, 'utf8');
  t.same(await invites.redeemInvite(one.code), { ok: false, reason: 'used_up' });
  t.equal(readFileSync(file, 'utf8'), before, 'a rejected redeem wrote nothing');

  const exp = await invites.create({ label: 'short', scope: 'read', expiresIn: '1h' });
  now.advance(60 * MIN);
  t.same(await invites.redeemInvite(exp.code), { ok: false, reason: 'expired' });

  const rev = await invites.create({ label: 'rev', scope: 'read' });
  await invites.revoke(rev.id);
  t.same(await invites.redeemInvite(rev.code), { ok: false, reason: 'revoked' });

  const old = await invites.create({ label: 'dup', scope: 'read' });
  const neu = await invites.create({ label: 'dup', scope: 'admin' });
  t.same(neu.superseded, [old.id]);
  t.same(await invites.redeemInvite(old.code), { ok: false, reason: 'superseded' });
  t.ok((await invites.redeemInvite(neu.code)).ok, 'the new one works');
  const list = invites.list({ all: true });
  t.equal(list.find((i) => i.id === old.id).status, 'superseded');
  t.equal(list.find((i) => i.id === old.id).uses, 0, 'the superseded invite was not consumed');
  t.same(invites.list().map((i) => i.id).sort(), [neu.id, one.id].sort(), 'list without --all: redeemable and used-up ones');
  const s = JSON.stringify(list);
  t.notOk(s.includes(normalizeCode(neu.code)), 'list never shows a code');
});

t.test('rotate: new code, uses reset, same window; old code dead', async (t) => {
  const { invites } = stores(t);
  const c = await invites.create({ label: 'x', scope: 'read', uses: 1 });
  t.ok((await invites.redeemInvite(c.code)).ok);
  const r = await invites.rotate(c.id);
  t.equal(r.id, c.id);
  t.equal(r.expiresAt, c.expiresAt);
  t.not(r.code, c.code);
  t.equal(invites.list()[0].uses, 0, 'uses reset');
  t.same(await invites.redeemInvite(c.code), { ok: false, reason: 'revoked' }, 'old code refused');
  t.ok((await invites.redeemInvite(r.code)).ok);
  await invites.revoke(c.id);
  await t.rejects(invites.rotate(c.id), { exitCode: 2, code: 'invite.revoked' });
  await t.rejects(invites.rotate('inv_none'), { exitCode: 2, code: 'invite.not_found' });
});

t.test('rotate: reviving a used-up invite supersedes the label\'s other open invite (never two live codes per label)', async (t) => {
  const { invites, audit } = stores(t);
  const a = await invites.create({ label: 'fam', scope: 'read', uses: 1 });
  t.ok((await invites.redeemInvite(a.code)).ok, 'A used up');
  const b = await invites.create({ label: 'fam', scope: 'read' });
  t.same(b.superseded, [], 'a used-up invite is not superseded by a new one');
  const r = await invites.rotate(a.id);
  t.same(r.superseded, [b.id], 'rotating A supersedes B');
  t.same(await invites.redeemInvite(b.code), { ok: false, reason: 'superseded' }, 'B no longer works');
  t.ok((await invites.redeemInvite(r.code)).ok, 'the rotated code works');
  const open = invites.list({ all: true }).filter((i) => i.label === 'fam' && i.status === 'active');
  t.same(open.map((i) => i.id), [], 'A is used up again; B superseded: nothing redeemable left');
  t.match(audit.events.filter((e) => e.action === 'invite.supersede'), [{ target: b.id, outcome: 'ok', detail: `superseded by ${a.id}` }]);
  // Allowed: rotating the only open invite of a label supersedes nothing.
  const c = await invites.create({ label: 'solo', scope: 'read' });
  t.same((await invites.rotate(c.id)).superseded, []);
});

t.test('redeem: every look-alike form of a code that holds 0, 1 and V', async (t) => {
  const { invites } = stores(t);
  // Make invites until one's code holds all three letters that have look-alikes.
  let c;
  for (let i = 0; i < 5000 && !c; i++) {
    const x = await invites.create({ label: 'look', scope: 'read', uses: 10 });
    if (/0/.test(x.code) && /1/.test(x.code) && /V/.test(x.code)) c = x;
  }
  t.ok(c, 'found a code with 0, 1 and V');
  const forms = {
    'O for 0, I for 1, U for V': c.code.replace(/0/g, 'O').replace(/1/g, 'I').replace(/V/g, 'U'),
    'L for 1': c.code.replace(/1/g, 'L'),
    'lower case o, i, u': c.code.toLowerCase().replace(/0/g, 'o').replace(/1/g, 'i').replace(/v/g, 'u'),
    'lower case l, spaces for dashes': c.code.toLowerCase().replace(/1/g, 'l').replace(/-/g, ' '),
    'no separators, padded with spaces': `  ${c.code.replace(/-/g, '')}  `,
  };
  for (const [what, typed] of Object.entries(forms)) {
    t.not(typed.trim(), c.code, `${what}: really a different spelling`);
    const r = await invites.redeemInvite(typed);
    t.equal(r.ok, true, `${what}: ${r.reason ?? 'accepted'}`);
  }
  t.equal(invites.list().find((i) => i.id === c.id).uses, Object.keys(forms).length, 'each form claimed one use of the same invite');
  // Denied: a look-alike for a letter that has none (S for 5) is a different code.
  const wrong = c.code.replace(/[0-9A-Z](?=[^-]*$)/, (ch) => (ch === 'Z' ? 'Y' : 'Z'));
  t.same(await invites.redeemInvite(wrong), { ok: false, reason: 'unknown' });
});

t.test('create: refused creates are audited (outcome error, the reason code, no code)', async (t) => {
  const { invites, audit } = stores(t);
  await t.rejects(invites.create({ label: 'x', scope: 'owner' }), { exitCode: 2 });
  await t.rejects(invites.create({ label: 'x', scope: 'read', uses: 0 }), { code: 'usage.invalid_uses' });
  t.match(audit.events, [
    { action: 'invite.create', outcome: 'error', detail: 'usage.invalid_scope' },
    { action: 'invite.create', outcome: 'error', detail: 'usage.invalid_uses' },
  ]);
  await invites.create({ label: 'x', scope: 'read' });
  t.match(audit.events[2], { action: 'invite.create', outcome: 'ok' });
});

t.test('file permission refusal: invites.json and pairing.json writable by others are refused with a fix', async (t) => {
  const { invites, stateDir, env } = stores(t);
  const c = await invites.create({ label: 'perm', scope: 'read', uses: 3 });
  const r = await invites.redeemInvite(c.code);
  t.ok(r.ok, 'allowed with 0600 files');
  for (const name of ['invites.json', 'pairing.json']) {
    const file = join(stateDir, name);
    chmodSync(file, 0o666);
    t.teardown(() => { try { chmodSync(file, 0o600); } catch {} });
    const fresh = new InviteStore({ env, tokens: new TokenStore({ env }) });
    const refused = { exitCode: 5, code: 'config.unsafe_permissions', message: new RegExp(`${name.replace('.', '\\.')}.*writable by group or others`), hint: /chmod 600/ };
    if (name === 'invites.json') {
      t.throws(() => fresh.list(), refused, `${name} 0666: list refused`);
      await t.rejects(fresh.redeemInvite(c.code), refused, `${name} 0666: redeem refused`);
    } else {
      await t.rejects(fresh.redeemInvite(c.code), refused, `${name} 0666: redeem refused`);
      await t.rejects(fresh.exchangePairing(r.pairingToken, 'phone'), refused, `${name} 0666: exchange refused`);
    }
    chmodSync(file, 0o600);
  }
  t.equal(invites.list().find((i) => i.id === c.id).uses, 1, 'the refused redeems consumed nothing');
  const x = await new InviteStore({ env, tokens: new TokenStore({ env }) }).exchangePairing(r.pairingToken, 'phone');
  t.ok(x.ok, 'allowed again once fixed');
});

t.test('pairing: denied — reused, expired, used as a bearer token, wrong kind, invite revoked, bad device name', async (t) => {
  const { invites, tokens, now } = stores(t);
  const c = await invites.create({ label: 'p', scope: 'admin', uses: 5 });

  const r1 = await invites.redeemInvite(c.code);
  t.same(tokens.resolveToken(r1.pairingToken), { ok: false, reason: 'malformed' }, 'pairing token is not a bearer token');
  t.same(tokens.resolveToken(`mg_${r1.pairingToken.slice(4)}`), { ok: false, reason: 'unknown' }, 'nor with its prefix swapped');
  await t.rejects(invites.exchangePairing(r1.pairingToken, ''), { exitCode: 2, code: 'usage.invalid_label' });
  await t.rejects(invites.exchangePairing(r1.pairingToken, 'x'.repeat(65)), { exitCode: 2 });
  await t.rejects(invites.exchangePairing(r1.pairingToken, 'tab\there'), { exitCode: 2 });
  const x1 = await invites.exchangePairing(r1.pairingToken, 'laptop');
  t.ok(x1.ok, 'a bad device name consumed nothing');
  t.same(await invites.exchangePairing(r1.pairingToken, 'laptop'), { ok: false, reason: 'used' }, 'reused');
  t.same(tokens.resolveToken(r1.pairingToken), { ok: false, reason: 'malformed' }, 'still not a bearer token after exchange');

  const r2 = await invites.redeemInvite(c.code);
  now.advance(10 * MIN);
  t.same(await invites.exchangePairing(r2.pairingToken, 'late'), { ok: false, reason: 'expired' }, 'expired after 10 minutes');

  t.same(await invites.exchangePairing(`mgp_${'A'.repeat(43)}`, 'x'), { ok: false, reason: 'unknown' });
  t.same(await invites.exchangePairing(x1.token, 'x'), { ok: false, reason: 'malformed' }, 'a bearer token is not a pairing token');

  const r3 = await invites.redeemInvite(c.code);
  await invites.revoke(c.id);
  t.same(await invites.exchangePairing(r3.pairingToken, 'x'), { ok: false, reason: 'revoked' }, 'revoking the invite kills its pending pairings');
  t.same(tokens.list().map((x) => x.label), ['laptop'], 'only one token was minted');
});

t.test('pairing tokens live in their own file, never in tokens.json', async (t) => {
  const { invites, stateDir } = stores(t);
  const c = await invites.create({ label: 'p', scope: 'read' });
  const r = await invites.redeemInvite(c.code);
  t.same(readdirSync(stateDir).filter((f) => f.endsWith('.json')).sort(), ['invites.json', 'pairing.json']);
  const p = readFileSync(join(stateDir, 'pairing.json'), 'utf8');
  t.notOk(p.includes(r.pairingToken), 'pairing token stored hashed');
  await invites.exchangePairing(r.pairingToken, 'dev');
  const tok = JSON.parse(readFileSync(join(stateDir, 'tokens.json'), 'utf8'));
  t.equal(tok.tokens.length, 1, 'only the exchanged device token is a bearer token');
});
