// The token, invite and secret commands through the real CLI (bin/run.js):
// --json shapes, exit codes, bad input, permission refusal, pairing against a
// small HTTP server that speaks the documented auth API, and a final scan
// proving that no plaintext token, code or secret reached disk or stderr.
import t from 'tap';
import http from 'node:http';
import { chmodSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, cliEnv } from './helpers/cli.js';
import { InviteStore, normalizeCode } from '../dist/core/invites.js';
import { TokenStore } from '../dist/core/tokens.js';
import { openAuditLog } from '../dist/core/audit/log.js';
import { encode } from 'uqr';

const SECRET = 'mpd-Pa55word-with-tail-4321';

/** Every value that must never be at rest or on stderr, with the forms it could leak in. */
const plaintexts = new Set();
function remember(v) {
  if (!v) return;
  plaintexts.add(v);
  if (/^mgp?_/.test(v)) plaintexts.add(v.replace(/^mgp?_/, ''));
  const n = normalizeCode(v);
  if (n && v.includes('-')) plaintexts.add(n);
}
const stderrs = [];
async function cli(args, env, input) {
  const r = await runCli(args, { env, input });
  stderrs.push(r.stderr);
  return r;
}
function json(r) {
  try { return JSON.parse(r.stdout); } catch { throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`); }
}
/**
 * The module matrix drawn by the terminal QR code (two module rows per text
 * line; a full block is two light modules, ▀ light over dark, ▄ dark over
 * light, a space two dark ones): true = dark.
 */
function qrModules(lines) {
  const rows = [];
  for (const line of lines) {
    const top = [];
    const bottom = [];
    for (const ch of line) {
      top.push(ch === '▄' || ch === ' ');
      bottom.push(ch === '▀' || ch === ' ');
    }
    rows.push(top, bottom);
  }
  return rows;
}

function filesUnder(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p)); else out.push(p);
  }
  return out;
}

const { env, configDir, stateDir } = cliEnv(t);

t.test('token create/list/revoke/rotate', async (t) => {
  const c = await cli(['token', 'create', '--label', 'kitchen', '--scope', 'control', '--expires', '30d', '--json'], env);
  t.equal(c.code, 0, c.stderr);
  const tok = json(c);
  remember(tok.token);
  t.same(Object.keys(tok).sort(), ['createdAt', 'expiresAt', 'id', 'label', 'scope', 'token']);
  t.match(tok, { label: 'kitchen', scope: 'control', id: /^tok_/, token: /^mg_[A-Za-z0-9_-]{43}$/ });
  t.equal(Date.parse(tok.expiresAt) - Date.parse(tok.createdAt), 30 * 86_400_000);
  t.match(c.stderr, /shown only this once/);

  const h = await cli(['token', 'create', '--label', 'tv', '--scope', 'read'], env);
  t.equal(h.code, 0);
  t.match(h.stdout, /^mg_[A-Za-z0-9_-]{43}\n$/, 'human mode: stdout is the token alone');
  remember(h.stdout.trim());
  t.match(h.stderr, /shown only this once/);
  t.notOk(h.stderr.includes(h.stdout.trim()), 'the token is not repeated on stderr');

  const l = await cli(['token', 'list', '--json'], env);
  t.equal(l.code, 0);
  const list = json(l);
  t.equal(list.length, 2);
  t.same(Object.keys(list[0]).sort(), ['createdAt', 'expiresAt', 'id', 'label', 'lastSeenAt', 'revokedAt', 'scope', 'status']);
  t.notOk(l.stdout.includes(tok.token.slice(3)), 'list shows no secret');

  const lh = await cli(['token', 'list'], env);
  t.match(lh.stdout, /^ID\s+LABEL\s+SCOPE\s+CREATED\s+EXPIRES\s+LAST SEEN\s+STATUS/);
  t.match(lh.stdout, /kitchen\s+control/);

  const rot = await cli(['token', 'rotate', tok.id, '--json'], env);
  t.equal(rot.code, 0, rot.stderr);
  const r = json(rot);
  remember(r.token);
  t.same({ ...r, token: 0 }, { ...tok, token: 0 }, 'same id, label, scope, dates');
  t.not(r.token, tok.token);
  const store = new TokenStore({ env });
  t.same(store.resolveToken(tok.token), { ok: false, reason: 'revoked' });
  t.ok(store.resolveToken(r.token).ok);

  const rv = await cli(['token', 'revoke', 'tv'], env);
  t.equal(rv.code, 0, rv.stderr);
  t.match(rv.stderr, /Revoked token tok_\w+ "tv"/);
  const rvj = await cli(['token', 'revoke', tok.id, '--json'], env);
  t.equal(rvj.code, 0);
  t.match(json(rvj), { id: tok.id, status: 'revoked', alreadyRevoked: false });
  t.same(json(await cli(['token', 'list', '--json'], env)), [], 'revoked tokens hidden');
  t.equal(json(await cli(['token', 'list', '--all', '--json'], env)).length, 2);
});

t.test('token: bad input → exit 2 with a useful message', async (t) => {
  const s = await cli(['token', 'create', '--label', 'x', '--scope', 'superuser'], env);
  t.equal(s.code, 2);
  t.match(s.stderr, /invalid scope 'superuser': must be one of read, control, admin/);
  const sj = await cli(['token', 'create', '--label', 'x', '--scope', 'superuser', '--json'], env);
  t.equal(sj.code, 2);
  t.match(JSON.parse(sj.stderr.trim().split('\n').pop()), { error: { code: 'usage.invalid_scope' } });
  const e = await cli(['token', 'create', '--label', 'x', '--scope', 'read', '--expires', '30 days'], env);
  t.equal(e.code, 2);
  t.match(e.stderr, /invalid --expires/);
  const m = await cli(['token', 'create', '--scope', 'read'], env);
  t.equal(m.code, 2, 'missing --label');
  const u = await cli(['token', 'revoke', 'tok_doesnotexist'], env);
  t.equal(u.code, 2);
  t.match(u.stderr, /no token with id or label 'tok_doesnotexist'/);
  const ro = await cli(['token', 'rotate', 'tok_doesnotexist'], env);
  t.equal(ro.code, 2);
  t.equal(json(await cli(['token', 'list', '--all', '--json'], env)).length, 2, 'nothing was created by the failures');
});

t.test('invite create/list/rotate/revoke', async (t) => {
  const c = await cli(['invite', 'create', '--label', 'family', '--scope', 'control', '--uses', '3', '--expires', '2h', '--json'], env);
  t.equal(c.code, 0, c.stderr);
  const inv = json(c);
  remember(inv.code);
  t.same(Object.keys(inv).sort(), ['code', 'expiresAt', 'id', 'label', 'link', 'maxUses', 'scope', 'superseded']);
  t.match(inv, { id: /^inv_/, code: /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/, label: 'family', scope: 'control', maxUses: 3, superseded: [] });
  t.equal(inv.link, `http://127.0.0.1:8420/connect#code=${inv.code}`);

  const q = await cli(['invite', 'create', '--label', 'family', '--scope', 'read', '--qr'], env);
  t.equal(q.code, 0, q.stderr);
  const [code2, link2] = q.stdout.split('\n');
  remember(code2);
  t.match(link2, /\/connect#code=/);
  t.match(q.stdout, /█/, 'a QR code is drawn');
  // The drawing is the link: read the blocks back into modules and compare with an independent encode of the link.
  const art = q.stdout.split('\n').slice(2).filter((l) => /^[█▀▄ ]+$/.test(l) && l.trim() !== '');
  const want = encode(link2, { ecc: 'M', border: 2 });
  const got = qrModules(art).slice(0, want.size);
  t.equal(got.length, want.size, `${want.size} module rows drawn`);
  t.ok(got.every((r) => r.length === want.size), 'square');
  t.same(got, want.data, 'every module matches the QR code of the link');
  // And a finder pattern (7×7 ring with a 3×3 core) sits in the top-left corner inside the 2-module border.
  const finder = got.slice(2, 9).map((r) => r.slice(2, 9).map((d) => (d ? '#' : '.')).join(''));
  t.same(finder, ['#######', '#.....#', '#.###.#', '#.###.#', '#.###.#', '#.....#', '#######']);
  // A drawing of a different link does not match.
  t.notSame(qrModules(art).slice(0, want.size), encode(`${link2}X`, { ecc: 'M', border: 2 }).data);

  // --qr with --json is refused before anything is created: the QR would have had to go to stderr, into logs.
  const before = json(await cli(['invite', 'list', '--all', '--json'], env)).length;
  const qj = await cli(['invite', 'create', '--label', 'family', '--scope', 'read', '--qr', '--json'], env);
  t.equal(qj.code, 2);
  t.equal(qj.stdout, '', 'no code printed');
  t.match(qj.stderr, /--qr cannot be combined with --json/);
  t.notOk(/[█▀▄]/.test(qj.stderr), 'no QR code on stderr');
  t.equal(json(await cli(['invite', 'list', '--all', '--json'], env)).length, before, 'nothing created');
  t.match(q.stderr, new RegExp(`replaces ${inv.id}`), 'supersedes the label\'s open invite');

  const l = json(await cli(['invite', 'list', '--all', '--json'], env));
  t.equal(l.length, 2);
  t.same(Object.keys(l[0]).sort(), ['createdAt', 'expiresAt', 'id', 'label', 'lastRedeemedAt', 'maxUses', 'scope', 'status', 'uses']);
  t.equal(l.find((i) => i.id === inv.id).status, 'superseded');
  const active = l.find((i) => i.status === 'active');

  const rot = await cli(['invite', 'rotate', active.id, '--json'], env);
  t.equal(rot.code, 0, rot.stderr);
  const r = json(rot);
  remember(r.code);
  t.equal(r.id, active.id);
  t.equal(r.expiresAt, active.expiresAt);
  t.not(r.code, code2);

  const rs = await cli(['invite', 'rotate', inv.id], env);
  t.equal(rs.code, 2, 'a superseded invite cannot be rotated');
  const rv = await cli(['invite', 'revoke', active.id, '--json'], env);
  t.equal(rv.code, 0);
  t.match(json(rv), { id: active.id, status: 'revoked' });
  t.same(json(await cli(['invite', 'list', '--json'], env)), [], 'nothing open');

  for (const bad of [['--uses', '0'], ['--uses', '1000'], ['--expires', 'never'], ['--expires', '60d'], ['--scope', 'owner']]) {
    const args = ['invite', 'create', '--label', 'x', '--scope', 'read', ...bad];
    const b = await cli(args, env);
    t.equal(b.code, 2, `${bad.join(' ')} → exit 2`);
  }
});

t.test('invite redeem: against a server speaking the auth API; refused; unreachable', async (t) => {
  // A stand-in for `mediagate serve` (a later issue) with just the two pairing routes, over the same core.
  const audit = openAuditLog(env);
  const store = new InviteStore({ env, audit });
  t.teardown(() => audit.close());
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const send = (status, obj) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
    const b = JSON.parse(body || '{}');
    if (req.method === 'POST' && req.url === '/api/auth/redeem') {
      const r = await store.redeemInvite(b.code, { ip: req.socket.remoteAddress });
      if (!r.ok) return send(401, { error: { code: `invite.${r.reason}`, message: `invite refused: ${r.reason}` } });
      remember(r.pairingToken);
      return send(200, { pairingToken: r.pairingToken, expiresAt: r.expiresAt });
    }
    if (req.method === 'POST' && req.url === '/api/auth/exchange') {
      const x = await store.exchangePairing(b.pairingToken, b.device);
      if (!x.ok) return send(401, { error: { code: `pairing.${x.reason}`, message: x.reason } });
      return send(200, { id: x.id, token: x.token, scope: x.scope, label: x.label });
    }
    send(404, { error: { code: 'not_found', message: 'no such route' } });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${server.address().port}`;

  const inv = json(await cli(['invite', 'create', '--label', 'laptops', '--scope', 'read', '--uses', '1', '--json'], env));
  remember(inv.code);
  const typed = inv.code.toLowerCase().replace(/-/g, ' ');
  const ok = await cli(['invite', 'redeem', typed, '--server', url, '--name', 'my laptop', '--print-token', '--json'], env);
  t.equal(ok.code, 0, ok.stderr);
  const paired = json(ok);
  remember(paired.token);
  t.match(paired, { id: /^tok_/, token: /^mg_/, scope: 'read', label: 'my laptop', server: url });
  t.ok(new TokenStore({ env }).resolveToken(paired.token).ok, 'the device token works');

  const again = await cli(['invite', 'redeem', inv.code, '--server', url], env);
  t.equal(again.code, 4, 'a used-up code is refused with exit 4');
  t.match(again.stderr, /used_up/);
  t.notOk(again.stderr.includes(inv.code), 'the code is not echoed');

  const fromStdin = await cli(['invite', 'redeem', '--server', url], env, 'not-a-code\n');
  t.equal(fromStdin.code, 2, 'a malformed code read from stdin → exit 2');

  const closed = http.createServer();
  await new Promise((r) => closed.listen(0, '127.0.0.1', r));
  const deadPort = closed.address().port;
  await new Promise((r) => closed.close(r));
  const down = await cli(['invite', 'redeem', inv.code, '--server', `http://127.0.0.1:${deadPort}`, '--json'], env);
  t.equal(down.code, 6, 'server unreachable → exit 6');
  t.match(JSON.parse(down.stderr.trim().split('\n').pop()), { error: { code: 'remote.unreachable' } });
  const badUrl = await cli(['invite', 'redeem', inv.code, '--server', 'ftp://x'], env);
  t.equal(badUrl.code, 2);
});

t.test('config set-secret / get / rotate-key', async (t) => {
  remember(SECRET);
  const s = await cli(['config', 'set-secret', 'mpd.password'], env, `${SECRET}\n`);
  t.equal(s.code, 0, s.stderr);
  t.equal(statSync(join(configDir, 'secret.key')).mode & 0o777, 0o600);
  const g = await cli(['config', 'get', 'mpd.password'], env);
  t.equal(g.code, 0, g.stderr);
  t.equal(g.stdout.trim(), '••••4321', 'shown masked');
  const empty = await cli(['config', 'set-secret', 'mpd.password'], env, '');
  t.equal(empty.code, 2, 'empty value refused');
  t.match(empty.stderr, /empty/);
  const notSecret = await cli(['config', 'set-secret', 'mpd.host'], env, 'x\n');
  t.equal(notSecret.code, 2);
  // A value on the command line is refused without being repeated anywhere, and not stored.
  const inArgv = 'Argv-Typed-Secret-9876';
  remember(inArgv);
  for (const args of [['mpd.password', inArgv], ['mpd.password', inArgv, '--json'], ['--json', 'mpd.password', inArgv], ['mpd.password', `--value=${inArgv}`], ['mpd.password', '--', inArgv], [inArgv]]) {
    const r = await cli(['config', 'set-secret', ...args], env, 'ignored-stdin\n');
    t.equal(r.code, 2, `set-secret ${args.map((a) => (a.includes(inArgv) ? a.replace(inArgv, 'VALUE') : a)).join(' ')} → exit 2`);
    t.notOk(r.stderr.includes(inArgv) || r.stdout.includes(inArgv), 'the value is not echoed');
    t.notOk(r.stderr.includes('Argv-Typed'), 'not even in part');
  }
  // The same for a token typed after `remote add NAME URL` (oclif would say "Unexpected argument: <it>").
  const tokenInArgv = 'mg_Argv-Typed-Token-5432';
  remember(tokenInArgv);
  for (const args of [[tokenInArgv], [tokenInArgv, '--json'], ['--no-verify', tokenInArgv]]) {
    const r = await cli(['remote', 'add', 'argvtest', 'http://127.0.0.1:9', ...args], env, '');
    t.equal(r.code, 2, 'remote add NAME URL TOKEN → exit 2');
    t.notOk(r.stderr.includes('Argv-Typed-Token') || r.stdout.includes('Argv-Typed-Token'), 'the token is not echoed, not even in part');
    t.match(r.stderr + r.stdout, /takes only NAME and URL/);
  }
  t.notMatch((await cli(['remote', 'list'], env)).stdout, /argvtest/, 'no profile stored');
  // Allowed: NAME and URL alone still reach the token prompt/stdin step (an empty stdin is refused for that reason).
  const noToken = await cli(['remote', 'add', 'argvtest', 'http://127.0.0.1:9', '--no-verify'], env, '');
  t.notMatch(noToken.stderr, /takes only NAME and URL/, 'two arguments are accepted');
  const argvMsg = await cli(['config', 'set-secret', 'mpd.password', inArgv], env);
  t.match(argvMsg.stderr, /takes only KEY.*not repeated here, not stored/);
  t.equal((await cli(['config', 'get', 'mpd.password'], env)).stdout.trim(), '••••4321', 'the stored secret is unchanged');
  const rk = await cli(['config', 'rotate-key', '--json'], env);
  t.equal(rk.code, 0, rk.stderr);
  t.match(json(rk), { resealed: 1 });
  t.equal((await cli(['config', 'get', 'mpd.password'], env)).stdout.trim(), '••••4321', 'still readable after rotation');
});

t.test('missing key file with sealed secrets → exit 5; unsafe permissions → exit 5 with a fix', async (t) => {
  const keyPath = join(configDir, 'secret.key');
  const saved = readFileSync(keyPath);
  unlinkSync(keyPath);
  const g = await cli(['config', 'get', 'mpd.password'], env);
  t.equal(g.code, 5);
  t.match(g.stderr, /secret key is missing/);
  const s = await cli(['config', 'set-secret', 'mpd.password'], env, 'other\n');
  t.equal(s.code, 5, 'no new key is made while sealed secrets exist');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(keyPath, saved, { mode: 0o600 });

  chmodSync(stateDir, 0o777);
  const d = await cli(['token', 'list'], env);
  chmodSync(stateDir, 0o700);
  t.equal(d.code, 5);
  t.match(d.stderr, /writable by group or others/);
  t.match(d.stderr, new RegExp(`chmod 700 '${stateDir}'`));

  chmodSync(join(stateDir, 'tokens.json'), 0o666);
  const f = await cli(['token', 'create', '--label', 'x', '--scope', 'read'], env);
  chmodSync(join(stateDir, 'tokens.json'), 0o600);
  t.equal(f.code, 5);
  t.match(f.stderr, /chmod 600/);
  t.equal(f.stdout, '', 'no token printed');
});

t.test('every lifecycle event reached the audit log', async (t) => {
  const logPath = join(stateDir, 'audit.jsonl');
  const lines = readFileSync(logPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const seen = new Set(lines.map((e) => `${e.action}:${e.outcome}`));
  for (const a of ['token.create:ok', 'token.rotate:ok', 'token.revoke:ok', 'invite.create:ok', 'invite.supersede:ok', 'invite.rotate:ok',
    'invite.revoke:ok', 'invite.redeem:ok', 'invite.redeem:denied', 'pairing.exchange:ok', 'secret.set:ok', 'config.rotate_key:ok',
    'token.create:error', 'invite.create:error']) {
    t.ok(seen.has(a), a);
  }
  const local = lines.find((e) => e.action === 'token.create');
  t.match(local.actor.id, /^local:/, 'the CLI acts as local:<user>');
  t.equal(lines.find((e) => e.action === 'invite.redeem' && e.outcome === 'denied').actor.id, 'anonymous');
});

t.test('no plaintext token, code or secret at rest or on stderr', async (t) => {
  t.ok(plaintexts.size >= 10, `${plaintexts.size} values to look for`);
  const files = [...filesUnder(configDir), ...filesUnder(stateDir)];
  t.ok(files.some((f) => f.endsWith('tokens.json')) && files.some((f) => f.endsWith('invites.json')) && files.some((f) => f.endsWith('config.json')));
  for (const f of files) {
    const text = readFileSync(f, 'latin1');
    const utf = readFileSync(f, 'utf8');
    for (const p of plaintexts) {
      if (text.includes(p) || utf.includes(p)) t.fail(`${f} contains a plaintext value`);
    }
  }
  const allErr = stderrs.join('\n');
  for (const p of plaintexts) if (allErr.includes(p)) t.fail(`stderr contained a plaintext value (${p.slice(0, 6)}…)`);
  t.pass(`scanned ${files.length} files and ${stderrs.length} stderr outputs`);
});
