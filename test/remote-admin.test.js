// --remote against a REAL `mediagate serve` process (over a REAL MPD): token,
// invite and audit commands give the same output and exit codes as on the
// server's machine (ids, secrets and times normalised); a read-scope,
// revoked or wrong token is exit 4, an unreachable server exit 6 naming the
// URL and never the token; pairing with `invite redeem --save`; https with a
// private CA. Hot commands and profiles: test/remote-cli.test.js.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './helpers/mpd.js';
import { BIN, cliEnv, runCli } from './helpers/cli.js';
import { serveEnv, startServe, selfSigned } from './helpers/serve.js';
import { remoteSetup, mpcState, norm, json, filesUnder } from './remote-setup.js';
import { Config } from '../dist/core/config/store.js';
import { readSecret } from '../dist/core/secrets.js';

t.setTimeout(300000);

/** A long-running CLI process (a --follow): its stdout lines, waiting for one, and its exit code. */
function spawnCli(t, args, env) {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { try { child.kill('SIGKILL'); } catch {} });
  const h = { child, out: '', err: '' };
  child.stdout.setEncoding('utf8').on('data', (d) => { h.out += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { h.err += d; });
  h.closed = new Promise((r) => child.on('close', (code) => r(code)));
  h.lines = () => h.out.split('\n').filter(Boolean);
  h.waitFor = async (pred, what, ms = 8000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) { if (pred(h.lines())) return; await new Promise((r) => setTimeout(r, 25)); }
    throw new Error(`${args.join(' ')}: ${what}; got ${h.out} ${h.err}`);
  };
  return h;
}

const { mpd, server, srv, client, local, onClient, remote, same } = await remoteSetup(t);

t.test('token commands', async (t) => {
  const c = await same(t, ['token', 'create', '--label', 'lbl-a', '--scope', 'read', '--expires', '30d', '--json'], { normalize: norm, stderr: false });
  const l = await local('token', 'create', '--label', 'tk-a', '--scope', 'control');
  const r = await remote('token', 'create', '--label', 'tk-b', '--scope', 'control');
  t.equal(r.code, 0, r.stderr);
  t.equal(norm(r.stdout), norm(l.stdout), 'human create: the token alone on stdout');
  t.equal(norm(r.stderr), norm(l.stderr), 'same messages');
  t.match(r.stdout, /^mg_[A-Za-z0-9_-]{43}\n$/);
  t.same(Object.keys(json(c.r)).sort(), Object.keys(json(c.l)).sort());

  const stripSeen = (s) => JSON.stringify(JSON.parse(s).map((x) => ({ ...x, lastSeenAt: 'X' })));
  const rl = await remote('token', 'list', '--all', '--json');
  const ll = await local('token', 'list', '--all', '--json');
  t.equal(rl.code, 0, rl.stderr);
  t.equal(stripSeen(rl.stdout), stripSeen(ll.stdout), 'token list --json: the same tokens');
  await same(t, ['token', 'list'], { normalize: norm });

  const rvh = await remote('token', 'revoke', 'tk-b');
  const lvh = await local('token', 'revoke', 'tk-a');
  t.equal(rvh.code, 0, rvh.stderr);
  t.equal(norm(rvh.stderr), norm(lvh.stderr), 'revoke by label: same message');
  t.equal(rvh.stdout, lvh.stdout);
  const ids0 = json(await local('token', 'list', '--all', '--json'));
  const idA = ids0.find((x) => x.label === 'tk-a').id;
  const idB = ids0.find((x) => x.label === 'tk-b').id;
  const rv = await remote('token', 'revoke', idB, '--json');
  const lv = await local('token', 'revoke', idA, '--json');
  t.equal(rv.code, 0);
  t.equal(norm(rv.stdout), norm(lv.stdout), 'revoke --json of an already revoked one');
  t.equal(norm(rv.stderr), norm(lv.stderr));

  const ids = json(await local('token', 'list', '--json')).filter((x) => x.label === 'lbl-a' || x.label === 'lbl-b');
  t.equal(ids.length, 2);
  const rotL = await local('token', 'rotate', ids[0].id, '--json');
  const rotR = await remote('token', 'rotate', ids[1].id, '--json');
  t.equal(rotR.code, 0, rotR.stderr);
  t.equal(norm(rotR.stdout), norm(rotL.stdout));
  t.equal(norm(rotR.stderr), norm(rotL.stderr));

  const missing = await same(t, ['token', 'revoke', 'no-such-token']);
  t.equal(missing.r.code, 2, 'not found: exit 2 both ways, same message');
  const revoked = await same(t, ['token', 'rotate', json(lv).id], { normalize: norm });
  t.equal(revoked.r.code, 2, 'rotating a revoked token: exit 2');
  const badScope = await remote('token', 'create', '--label', 'x', '--scope', 'root');
  t.equal(badScope.code, 2);
});

t.test('invite commands', async (t) => {
  const l = await local('invite', 'create', '--label', 'inv-a', '--scope', 'control', '--uses', '2', '--expires', '2h', '--json');
  const r = await remote('invite', 'create', '--label', 'inv-b', '--scope', 'control', '--uses', '2', '--expires', '2h', '--json');
  t.equal(r.code, 0, r.stderr);
  t.equal(norm(r.stdout), norm(l.stdout), 'invite create --json');
  t.equal(norm(r.stderr), norm(l.stderr));
  await same(t, ['invite', 'list', '--json']);
  await same(t, ['invite', 'list', '--all'], { normalize: norm });

  const rotL = await local('invite', 'rotate', json(l).id);
  const rotR = await remote('invite', 'rotate', json(r).id);
  t.equal(rotR.code, 0, rotR.stderr);
  t.equal(norm(rotR.stdout), norm(rotL.stdout), 'rotate: code and link on stdout');
  t.equal(norm(rotR.stderr), norm(rotL.stderr));

  const revL = await local('invite', 'revoke', json(l).id, '--json');
  const revR = await remote('invite', 'revoke', json(r).id, '--json');
  t.equal(norm(revR.stdout), norm(revL.stdout));
  t.equal(norm(revR.stderr), norm(revL.stderr));
  const nf = await same(t, ['invite', 'revoke', 'inv_nosuch00']);
  t.equal(nf.r.code, 2);
});

t.test('audit and audit verify', async (t) => {
  await same(t, ['audit', '--action', 'token.create', '--json']);
  await same(t, ['audit', '--action', 'invite', '--outcome', 'ok']);
  await same(t, ['audit', '--actor', 'token:', '--limit', '3', '--json']);
  await same(t, ['audit', '--since', '1h', '--action', 'player.seek', '--json']);
  const v = await same(t, ['audit', 'verify', '--json']);
  t.equal(v.r.code, 0);
  t.equal(json(v.r).ok, true);
  await same(t, ['audit', 'verify']);
  // audit --follow over --remote: the server's events pushed over the WebSocket as they are written.
  const f = spawnCli(t, ['audit', '--follow', '--json', '--action', 'token', '--limit', '2', '--remote', 'home'], client.env);
  await f.waitFor((ls) => ls.length >= 2, 'the backlog of 2');
  const backlog = f.lines().map((l) => JSON.parse(l));
  t.equal(backlog.length, 2, '--limit 2: two past events');
  const localBacklog = json(await local('audit', '--action', 'token', '--limit', '2', '--json'));
  t.same(backlog, localBacklog, 'the same events as the server\'s own log shows');
  const made = json(await local('token', 'create', '--label', 'while-following', '--scope', 'read', '--json'));
  await f.waitFor((ls) => ls.some((l) => JSON.parse(l).target === made.id), 'the new token.create event');
  t.match(JSON.parse(f.lines().at(-1)), { action: 'token.create', target: made.id, outcome: 'ok' });
  f.child.kill('SIGINT');
  t.equal(await f.closed, 0, 'SIGINT ends it cleanly');
  // Human lines, as local --follow prints them.
  const lf = spawnCli(t, ['audit', '--follow', '--action', 'token.create', '--limit', '1'], server.env);
  const rf = spawnCli(t, ['audit', '--follow', '--action', 'token.create', '--limit', '1', '--remote', 'home'], client.env);
  await lf.waitFor((ls) => ls.length >= 1, 'local first line');
  await rf.waitFor((ls) => ls.length >= 1, 'remote first line');
  t.equal(rf.out, lf.out, 'the same human line both ways');
  lf.child.kill('SIGINT');
  rf.child.kill('SIGINT');
  t.equal(await rf.closed, 0);
  await lf.closed;
  // A read token may not follow the audit log: exit 4, like a read token's `audit`.
  const ro = json(await local('token', 'create', '--label', 'ro-follow', '--scope', 'read', '--json'));
  t.equal((await onClient(['remote', 'add', 'ro-follow', srv.url], { input: ro.token })).code, 0);
  const denied = await onClient(['audit', '--follow', '--remote', 'ro-follow']);
  t.equal(denied.code, 4, 'insufficient scope: exit 4');
  t.match(denied.stderr, /admin scope/);
  // What the remote commands did is in the server's log, as the token that did it.
  mpd.mpc('-q', 'play', '1');
  t.equal((await remote('pause', '--player', 'mpd')).code, 0);
  t.equal((await remote('volume', '35')).code, 0);
  const events = json(await local('audit', '--actor', 'token:', '--json'));
  for (const action of ['player.pause', 'volume.set', 'token.create', 'token.revoke', 'invite.create']) {
    t.ok(events.some((e) => e.action === action && e.ip === '127.0.0.1'), `${action} audited by the server with the caller's address`);
  }
});

t.test('authorisation: read scope, revoked and wrong tokens → exit 4; unreachable → exit 6', async (t) => {
  const ro = json(await local('token', 'create', '--label', 'ro', '--scope', 'read', '--json'));
  t.equal((await onClient(['remote', 'add', 'ro', srv.url], { input: ro.token })).code, 0);
  const st = await onClient(['status', '--player', 'mpd', '--remote', 'ro']);
  t.equal(st.code, 0, 'read scope may read');
  const p = await onClient(['pause', '--remote', 'ro', '--json']);
  t.equal(p.code, 4, 'read scope may not pause');
  const err = JSON.parse(p.stderr.trim().split('\n').pop()).error;
  t.match(err.code, /^auth\./);
  t.ok(err.message.length > 0, `the server's message: ${err.message}`);
  t.equal((await onClient(['token', 'list', '--remote', 'ro'])).code, 4, 'nor list tokens');
  t.equal((await onClient(['volume', '10', '--remote', 'ro'])).code, 4, 'nor change the volume');

  const gone = json(await local('token', 'create', '--label', 'gone', '--scope', 'control', '--json'));
  t.equal((await onClient(['remote', 'add', 'gone', srv.url], { input: gone.token })).code, 0);
  t.equal((await local('token', 'revoke', gone.id)).code, 0);
  await new Promise((r) => setTimeout(r, 1100)); // the server sees CLI changes within 1 s
  const rv = await onClient(['status', '--remote', 'gone']);
  t.equal(rv.code, 4, 'revoked token: exit 4');
  t.match(rv.stderr, /hint: /);
  t.notOk(rv.stderr.includes(gone.token));

  const wrong = 'mg_' + 'W'.repeat(43);
  const add = await onClient(['remote', 'add', 'wrong', srv.url], { input: wrong });
  t.equal(add.code, 4, 'remote add checks the token: a wrong one is exit 4 and nothing is stored');
  t.notOk(readFileSync(join(client.configDir, 'config.json'), 'utf8').includes('"wrong"'));
  t.equal((await onClient(['remote', 'add', 'wrong', srv.url, '--no-verify'], { input: wrong })).code, 0);
  const w = await onClient(['play', 'players', '--remote', 'wrong']);
  t.equal(w.code, 4, 'wrong token: exit 4');
  t.notOk(w.stderr.includes(wrong));

  const dead = await freePort();
  t.equal((await onClient(['remote', 'add', 'down', `http://127.0.0.1:${dead}`, '--no-verify'], { input: ro.token })).code, 0);
  for (const args of [['status'], ['volume', '10'], ['token', 'list'], ['audit', 'verify']]) {
    const d = await onClient([...args, '--remote', 'down']);
    t.equal(d.code, 6, `${args.join(' ')}: unreachable → exit 6`);
    t.match(d.stderr, `http://127.0.0.1:${dead}`, 'names the server');
    t.notOk(d.stderr.includes(ro.token), 'never the token');
  }
  const unknown = await onClient(['status', '--remote', 'nosuch']);
  t.equal(unknown.code, 2, 'an unknown profile name is a usage error');
  t.match(unknown.stderr, /no remote profile 'nosuch'/);
});

t.test("pairing as the issue writes it: `invite redeem CODE --server URL --name laptop` stores a sealed default profile", async (t) => {
  // Machine A (the server's) mints the invite; machine B has no profile and no default yet.
  const inv = json(await local('invite', 'create', '--label', 'laptops', '--scope', 'control', '--uses', '2', '--json'));
  const b = cliEnv(t, { MPD_HOST: '127.0.0.1', MPD_PORT: '1' });
  const onB = (args, env = {}) => runCli(args, { env: { ...b.env, ...env } });
  const r = await onB(['invite', 'redeem', inv.code, '--server', srv.url, '--name', 'laptop']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '', 'nothing on stdout: the token is stored, not printed');
  t.notMatch(r.stderr, /mg_[A-Za-z0-9_-]{20}/, 'no token on stderr either');
  t.match(r.stderr, /stored sealed as remote profile '127-0-0-1'/, 'the profile is named after the server host');
  t.match(r.stderr, /now the default remote/, 'and it says it became the default');
  const cfg = JSON.parse(readFileSync(join(b.configDir, 'config.json'), 'utf8'));
  t.match(cfg.remotes['127-0-0-1'], { url: srv.url, token: /^nacl:v1:/ });
  t.equal(cfg.remote.default, '127-0-0-1');
  // The token, unsealed with B's key only to look for it: no file of B holds it in clear.
  const token = readSecret(Config.load(b.env), 'remotes.127-0-0-1.token', b.env);
  t.match(token, /^mg_[A-Za-z0-9_-]{43}$/);
  const files = [...filesUnder(b.base)];
  t.ok(files.length > 0);
  for (const f of files) t.notOk(readFileSync(f, 'latin1').includes(token.slice(3)), `${f} does not hold the token in clear`);

  // The paired device controls the real MPD: --remote NAME (before or after the command), MEDIAGATE_REMOTE, the default.
  for (const [how, args, env] of [
    ['--remote NAME before the command', ['--remote', '127-0-0-1', 'pause'], {}],
    ['--remote NAME after it', ['pause', '--remote', '127-0-0-1'], {}],
    ['MEDIAGATE_REMOTE', ['pause'], { MEDIAGATE_REMOTE: '127-0-0-1' }],
    ['the default remote', ['pause'], {}],
  ]) {
    mpd.mpc('-q', 'play', '1');
    const p = await onB([...args, '--player', 'mpd'], env);
    t.equal(p.code, 0, `${how}: ${p.stderr}`);
    t.equal(mpcState(mpd), 'paused', `${how}: B paused A's MPD`);
  }
  t.equal((await onB(['pause', '--remote', 'local'])).code, 3, '--remote local is still this machine (no player here)');

  // A second pairing with the same server: a unique name, and the default stays.
  const second = await onB(['invite', 'redeem', inv.code, '--server', srv.url, '--name', 'laptop2', '--json']);
  t.equal(second.code, 0, second.stderr);
  t.match(json(second), { profile: '127-0-0-1-2', default: false, label: 'laptop2' });
  t.notOk('token' in json(second));
  t.match(second.stderr, /mediagate --remote 127-0-0-1-2 status/);
  t.equal(JSON.parse(readFileSync(join(b.configDir, 'config.json'), 'utf8')).remote.default, '127-0-0-1', 'the default is unchanged');

  // --print-token: only on explicit request, and then nothing is stored.
  const inv2 = json(await local('invite', 'create', '--label', 'scripts', '--scope', 'read', '--uses', '1', '--json'));
  const before = readFileSync(join(b.configDir, 'config.json'), 'utf8');
  const printed = await onB(['invite', 'redeem', inv2.code, '--server', srv.url, '--name', 'cron', '--print-token']);
  t.equal(printed.code, 0, printed.stderr);
  t.match(printed.stdout, /^mg_[A-Za-z0-9_-]{43}\n$/);
  t.equal(readFileSync(join(b.configDir, 'config.json'), 'utf8'), before, '--print-token stores nothing');
  const both = await onB(['invite', 'redeem', inv2.code, '--server', srv.url, '--print-token', '--save', 'x']);
  t.equal(both.code, 2, '--print-token with --save is a usage error');
});

t.test('invite redeem --save: pair, store sealed, then control through --remote', async (t) => {
  const inv = json(await local('invite', 'create', '--label', 'laptops', '--scope', 'control', '--uses', '1', '--json'));
  const r = await onClient(['invite', 'redeem', inv.code, '--server', srv.url, '--name', 'laptop', '--save', 'lap', '--json']);
  t.equal(r.code, 0, r.stderr);
  const paired = json(r);
  t.match(paired, { id: /^tok_/, scope: 'control', label: 'laptop', profile: 'lap', default: true });
  t.notOk('token' in paired, 'with --save the token is stored, not printed');
  t.notMatch(r.stdout + r.stderr, /mg_[A-Za-z0-9_-]{43}/);
  t.match(JSON.parse(readFileSync(join(client.configDir, 'config.json'), 'utf8')).remotes.lap, { url: srv.url, token: /^nacl:v1:/ });
  mpd.mpc('-q', 'play', '1');
  const p = await onClient(['pause', '--remote', 'lap', '--player', 'mpd']);
  t.equal(p.code, 0, p.stderr);
  t.equal(mpcState(mpd), 'paused', 'the paired device controls the player');
  const again = await onClient(['invite', 'redeem', inv.code, '--server', srv.url, '--save', 'lap2']);
  t.equal(again.code, 4, 'a used-up code: exit 4');
  t.notOk(readFileSync(join(client.configDir, 'config.json'), 'utf8').includes('"lap2"'), 'nothing saved');
  const plain = await onClient(['invite', 'redeem', inv.code, '--server', 'http://192.0.2.10:8420', '--save', 'lap3']);
  t.equal(plain.code, 2, '--save over plain http to another machine is refused before the code is spent');
  t.equal((await onClient(['remote', 'remove', 'lap', '--json'])).code, 0);
  t.notOk(JSON.parse(readFileSync(join(client.configDir, 'config.json'), 'utf8')).remotes?.lap, 'removed');
});

t.test('https with a private CA', async (t) => {
  const cert = selfSigned(t);
  const tls = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
  const s = await startServe(t, tls.env, { args: ['--tls-cert', cert.cert, '--tls-key', cert.key] });
  t.match(s.url, /^https:\/\//);
  const noCa = await onClient(['remote', 'add', 'tls', s.url, '--json'], { input: s.adminToken });
  t.equal(noCa.code, 6, 'an untrusted certificate: exit 6');
  t.match(JSON.parse(noCa.stderr.trim().split('\n').pop()), { error: { code: 'remote.tls' } });
  const ok = await onClient(['remote', 'add', 'tls', s.url, '--ca', cert.cert], { input: s.adminToken });
  t.equal(ok.code, 0, ok.stderr);
  const st = await onClient(['status', '--player', 'mpd', '--json', '--remote', 'tls']);
  t.equal(st.code, 0, st.stderr);
  t.equal(json(st).player, 'mpd');
  const inv = json(await runCli(['invite', 'create', '--label', 'tls', '--scope', 'read', '--json'], { env: tls.env }));
  const paired = await onClient(['invite', 'redeem', inv.code, '--server', s.url, '--ca', cert.cert, '--save', 'tlsdev']);
  t.equal(paired.code, 0, paired.stderr);
  t.equal((await onClient(['status', '--player', 'mpd', '--remote', 'tlsdev'])).code, 0);

  // status --follow over wss://, trusting the private CA of the profile (--ca); without it, exit 6.
  mpd.mpc('-q', 'play', '1'); mpd.mpc('-q', 'pause');
  const f = spawnCli(t, ['status', '--follow', '--json', '--player', 'mpd', '--remote', 'tls'], client.env);
  await f.waitFor((ls) => ls.some((l) => JSON.parse(l).status === 'paused'), 'a first line over wss');
  mpd.mpc('-q', 'play');
  await f.waitFor((ls) => ls.some((l) => JSON.parse(l).status === 'playing'), 'the change pushed over wss');
  f.child.kill('SIGINT');
  t.equal(await f.closed, 0, 'wss follow: SIGINT ends it cleanly');
  t.equal((await onClient(['remote', 'add', 'tls-noca', s.url, '--no-verify'], { input: s.adminToken })).code, 0);
  const untrusted = await onClient(['status', '--follow', '--remote', 'tls-noca', '--json']);
  t.equal(untrusted.code, 6, 'wss without the CA: the certificate is not trusted, exit 6');
  t.match(JSON.parse(untrusted.stderr.trim().split('\n').pop()), { error: { code: 'remote.tls' } });
  t.notOk(untrusted.stderr.includes(s.adminToken), 'never the token');
});
