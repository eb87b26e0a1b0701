// kill -9, in a loop, of the CLI and of serve in the middle of token
// creation, invite redemption, secret rotation and audit appends, at
// moments drawn from a seeded random source (the seed is printed). Holds
// when, afterwards, every state file parses, every token, pairing token and
// secret that was shown to anyone is stored and works (nothing lost), none
// is stored twice, invite uses never fall below the pairings handed out nor
// exceed the maximum, the sealed secret always opens to a value that was
// set, and `audit verify` passes or reports exactly the torn tail — which
// the next writer repairs.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { api, cliToken, serveEnv, startServe } from '../helpers/serve.js';
import { prng, runAndKill } from './lib/killer.js';
import { SecretBook } from './lib/leaks.js';
import { cmdline, processTree } from './lib/procfs.js';
import { Report } from './lib/report.js';
import { SEED, SIZE } from './lib/size.js';
import { decodeKey, open } from '../../dist/core/secrets.js';

t.setTimeout(12 * 60_000);
const report = new Report(t, 'faults-kill9');
const rounds = SIZE.killRounds;
const sha = (s) => createHash('sha256').update(s).digest('hex');

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Every JSON state file in `dir` parses; lock and temp files may be left by killed writers. */
function parses(dir) {
  const bad = [];
  for (const name of readdirSync(dir)) {
    if (!/\.json$|^audit\.head$/.test(name)) continue;
    try { readJson(join(dir, name)); } catch { bad.push(name); }
  }
  return bad;
}

/** A complete JSON document printed before the kill, or undefined. */
function printed(stdout) {
  try { return JSON.parse(stdout); } catch { return undefined; }
}

/** Start serve again after a kill (a new port each time). */
async function restartServe(t, env, srv) {
  if (srv) await srv.stop('SIGKILL');
  return startServe(t, env);
}

t.comment(`kill moments from seed ${SEED}; ${rounds} rounds per operation`);

t.test('token creation: CLI and serve killed mid-way', async (t) => {
  const rnd = prng(SEED);
  const e = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const book = new SecretBook();
  const shown = []; // tokens some caller was given
  let killedCli = 0;
  for (let i = 0; i < rounds; i++) {
    const r = await runAndKill(['token', 'create', '--label', `kill-cli-${i}`, '--scope', 'read', '--json'], { env: e.env, killAfterMs: 150 + Math.floor(rnd() * 700) });
    if (r.killed) killedCli++;
    const doc = printed(r.stdout);
    if (doc?.token) { shown.push({ ...doc, via: `cli round ${i}${r.killed ? ' (killed after printing)' : ''}` }); book.add('token', doc.token, 'cli'); }
  }
  // serve killed while creating: each round a fresh admin token (5 creations a minute per token), a request in flight, then SIGKILL.
  let srv = await startServe(t, e.env);
  let killedServe = 0;
  for (let i = 0; i < rounds; i++) {
    const admin = await cliToken(e.env, `kill-admin-${i}`, 'admin');
    book.add('token', admin.token, 'cli');
    const pending = Promise.all(Array.from({ length: 3 }, (_, k) => api(srv, 'POST', '/api/tokens', { token: admin.token, json: { label: `kill-api-${i}-${k}`, scope: 'read' } }).catch(() => null)));
    await new Promise((r) => setTimeout(r, Math.floor(rnd() * 25)));
    srv = await restartServe(t, e.env, srv);
    killedServe++;
    for (const res of await pending) {
      if (res?.status === 200 && res.json?.token) { shown.push({ ...res.json, via: `api round ${i}` }); book.add('token', res.json.token, 'api'); }
    }
  }
  // Afterwards: files parse, every shown token is stored once and works, labels are unique.
  const bad = parses(e.stateDir);
  t.same(bad, [], 'every state file parses');
  const doc = readJson(join(e.stateDir, 'tokens.json'));
  const hashes = new Map(doc.tokens.map((x) => [x.hash, x]));
  const lost = shown.filter((s) => !hashes.has(sha(s.token)));
  t.same(lost.map((l) => l.via), [], `every token shown (${shown.length}) is stored`);
  const ids = doc.tokens.map((x) => x.id);
  t.equal(new Set(ids).size, ids.length, 'no token id stored twice');
  const labels = doc.tokens.map((x) => x.label);
  t.equal(new Set(labels).size, labels.length, 'no label stored twice (no creation applied twice)');
  let works = 0;
  for (const s of shown) if ((await api(srv, 'GET', '/api/auth/whoami', { token: s.token })).status === 200) works++;
  t.equal(works, shown.length, 'and every shown token works');
  const clean = await runCli(['token', 'create', '--label', 'after-kills', '--scope', 'read', '--json'], { env: e.env });
  t.equal(clean.code, 0, `a clean creation works at once afterwards (no lock left stuck) ${clean.stderr}`);
  book.harvest(clean.stdout, 'cli');
  await srv.stop();
  report.row('token creation: CLI and serve killed', killedCli + killedServe, bad.length + lost.length + (shown.length - works) + (clean.code ? 1 : 0),
    `${killedCli}/${rounds} CLI killed, serve killed ${killedServe}×; ${shown.length} tokens shown, ${doc.tokens.length} stored, ${lost.length} lost`);
  book.scanDir(e.base, { skip: () => false });
  t.same(book.findings, [], 'no token in any file');
});

t.test('invite redemption: the redeeming CLI and serve killed mid-way', async (t) => {
  const rnd = prng(SEED + 1);
  const e = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const book = new SecretBook();
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'kill-phone', '--scope', 'control', '--uses', '100', '--json'], { env: e.env })).stdout);
  book.add('invite code', inv.code, 'cli');
  let srv = await startServe(t, e.env);
  const shown = [];
  const pairings = [];
  let killedCli = 0;
  const children = new Set();
  for (let i = 0; i < rounds; i++) {
    // The code goes on stdin, never on the command line.
    const r = await runAndKill(['invite', 'redeem', '--server', srv.url, '--name', `kill-dev-${i}`, '--print-token', '--json'], {
      env: e.env, input: `${inv.code}\n`, killAfterMs: 200 + Math.floor(rnd() * 900),
      onSpawn: (pid) => { const look = () => { for (const p of processTree(pid)) if (p !== pid) children.add(cmdline(p)); }; setTimeout(look, 100); },
    });
    if (r.killed) killedCli++;
    const doc = printed(r.stdout);
    if (doc?.token) { shown.push({ token: doc.token, via: `cli round ${i}` }); book.add('token', doc.token, 'redeem'); }
  }
  let killedServe = 0;
  for (let i = 0; i < rounds; i++) {
    const flow = (async () => {
      const red = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code }, from: `127.0.13.${i + 1}` });
      if (red.status !== 200) return;
      pairings.push({ pairingToken: red.json.pairingToken, via: `api round ${i}` });
      book.add('pairing token', red.json.pairingToken, 'redeem');
      const ex = await api(srv, 'POST', '/api/auth/exchange', { json: { pairingToken: red.json.pairingToken, device: `kill-api-dev-${i}` }, from: `127.0.13.${i + 1}` });
      if (ex.status === 200) { shown.push({ token: ex.json.token, via: `api round ${i}` }); book.add('token', ex.json.token, 'exchange'); }
    })().catch(() => {});
    await new Promise((r) => setTimeout(r, Math.floor(rnd() * 30)));
    srv = await restartServe(t, e.env, srv);
    killedServe++;
    await flow;
  }
  const bad = parses(e.stateDir);
  t.same(bad, [], 'every state file parses');
  const invites = readJson(join(e.stateDir, 'invites.json')).invites;
  const pairingDoc = readJson(join(e.stateDir, 'pairing.json')).pairings;
  const record = invites.find((x) => x.id === inv.id);
  const forInvite = pairingDoc.filter((p) => p.inviteId === inv.id);
  t.ok(record.uses >= forInvite.length, `uses (${record.uses}) never below the pairings handed out (${forInvite.length})`);
  t.ok(record.uses <= record.maxUses, 'and never above the maximum');
  const lostPairings = pairings.filter((p) => !pairingDoc.some((x) => x.hash === sha(p.pairingToken)));
  t.same(lostPairings.map((p) => p.via), [], `every pairing token handed out (${pairings.length}) is stored`);
  const tokens = readJson(join(e.stateDir, 'tokens.json')).tokens;
  const lost = shown.filter((s) => !tokens.some((x) => x.hash === sha(s.token)));
  t.same(lost.map((l) => l.via), [], `every device token shown (${shown.length}) is stored`);
  const usedTwice = pairingDoc.filter((p) => p.usedAt).length < tokens.filter((x) => /^kill-(api-)?dev-/.test(x.label)).length;
  t.notOk(usedTwice, 'no pairing token exchanged for more than one device token');
  let works = 0;
  for (const s of shown) if ((await api(srv, 'GET', '/api/auth/whoami', { token: s.token })).status === 200) works++;
  t.equal(works, shown.length, 'every device token shown works');
  for (const c of children) book.scanText('cmdline of a child of invite redeem', c);
  await srv.stop();
  book.scanDir(e.base);
  t.same(book.findings, [], 'no code or token in any file or child command line');
  report.row('invite redemption: CLI and serve killed', killedCli + killedServe, bad.length + lostPairings.length + lost.length + (shown.length - works) + (usedTwice ? 1 : 0) + (record.uses < forInvite.length ? 1 : 0),
    `${killedCli}/${rounds} CLI killed, serve killed ${killedServe}×; uses ${record.uses}, pairings ${forInvite.length}, ${shown.length} device tokens shown, ${lost.length} lost`);
});

t.test('secret rotation and set-secret killed mid-way', async (t) => {
  const rnd = prng(SEED + 2);
  const e = await serveEnv(t);
  const book = new SecretBook();
  let current = 'Initial-Secret-0000';
  book.add('secret', current, 'set-secret');
  t.equal((await runCli(['config', 'set-secret', 'mpd.password'], { env: e.env, input: `${current}\n` })).code, 0, 'secret set');
  // Two more secrets, so that a rotation killed between re-seals would show as a mix of keys.
  const others = { 'server.tlsKeyPassphrase': 'Tls-Passphrase-Kill9-4711', 'remotes.kill.token': 'mg_kill9RemoteTokenValue_abcdefghijklmnopqrstu' };
  for (const [k, v] of Object.entries(others)) {
    book.add('secret', v, 'set-secret');
    t.equal((await runCli(['config', 'set-secret', k], { env: e.env, input: `${v}\n` })).code, 0, `${k} set`);
  }
  // Which key-file line opens each secret: one line for all, or config is a mix of old and new.
  const sealedUnder = () => {
    const lines = readFileSync(join(e.configDir, 'secret.key'), 'utf8').trim().split('\n');
    const cfg = readJson(join(e.configDir, 'config.json'));
    const stored = [cfg.mpd.password, cfg.server.tlsKeyPassphrase, cfg.remotes.kill.token];
    return stored.map((v) => lines.findIndex((l) => { try { open(v, decodeKey(l, 'key')); return true; } catch { return false; } }));
  };
  let killed = 0;
  let problems = 0;
  for (let i = 0; i < rounds * 2; i++) {
    let candidates = [current];
    let r;
    if (i % 2 === 0) {
      r = await runAndKill(['config', 'rotate-key'], { env: e.env, killAfterMs: 150 + Math.floor(rnd() * 700) });
    } else {
      const next = `Rotated-Secret-${i}-${Math.floor(rnd() * 1e6)}`;
      book.add('secret', next, 'set-secret');
      candidates = [current, next];
      r = await runAndKill(['config', 'set-secret', 'mpd.password'], { env: e.env, input: `${next}\n`, killAfterMs: 150 + Math.floor(rnd() * 700) });
    }
    if (r.killed) killed++;
    const reveal = await runCli(['config', 'get', 'mpd.password', '--reveal', '--json'], { env: e.env });
    const value = printed(reveal.stdout)?.value ?? reveal.stdout.trim();
    const ok = reveal.code === 0 && candidates.includes(value);
    if (!ok) { problems++; t.fail(`round ${i}: the secret does not open to a value that was set (exit ${reveal.code}: ${reveal.stderr.trim()})`); } else current = value;
    const keyLines = readFileSync(join(e.configDir, 'secret.key'), 'utf8').trim().split('\n');
    if (!(keyLines.length >= 1 && keyLines.length <= 2 && keyLines.every((l) => Buffer.from(l, 'base64').length === 32))) { problems++; t.fail(`round ${i}: key file damaged`); }
    for (const l of keyLines) book.add('secret key', l, 'secret.key');
    try { readJson(join(e.configDir, 'config.json')); } catch { problems++; t.fail(`round ${i}: config.json does not parse`); }
    const under = sealedUnder();
    if (under.some((u) => u < 0 || u !== under[0])) { problems++; t.fail(`round ${i}: secrets sealed under different keys (key-file lines ${under.join(', ')})`); }
    for (const [k, v] of Object.entries(others)) {
      const got = printed((await runCli(['config', 'get', k, '--reveal', '--json'], { env: e.env })).stdout)?.value;
      if (got !== v) { problems++; t.fail(`round ${i}: ${k} does not open to its value`); }
    }
  }
  const finish = await runCli(['config', 'rotate-key'], { env: e.env });
  t.equal(finish.code, 0, `a clean rotate-key finishes any interrupted one: ${finish.stderr}`);
  const final = printed((await runCli(['config', 'get', 'mpd.password', '--reveal', '--json'], { env: e.env })).stdout)?.value;
  t.equal(final, current, 'the secret survives every kill');
  t.equal(readFileSync(join(e.configDir, 'secret.key'), 'utf8').trim().split('\n').length, 1, 'one key again');
  t.equal(problems, 0, `every round: the secret opens, the files parse (${killed} of ${rounds * 2} runs killed)`);
  // The key and the plaintexts live only where they belong: the key file holds the key; nothing holds a plaintext.
  book.scanDir(e.base, { skip: (p) => p.endsWith('secret.key') });
  t.same(book.findings, [], 'no plaintext secret or key anywhere but the key file');
  report.row('secret rotation / set-secret killed', rounds * 2, problems + (final === current ? 0 : 1) + book.findings.length, `${killed} runs killed; the secret opened after every one`);
});

t.test('audit appends: serve and CLI writers killed mid-way', async (t) => {
  const rnd = prng(SEED + 3);
  const e = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const control = await cliToken(e.env, 'kill-audit', 'control');
  let srv = await startServe(t, e.env);
  let torn = 0;
  let verifyFailures = 0;
  const kinds = {};
  for (let i = 0; i < rounds; i++) {
    // Writers at once: serve auditing a burst of control requests, and CLI processes auditing config changes.
    const burst = Promise.all(Array.from({ length: 100 }, (_, k) => api(srv, 'POST', '/api/player/toggle', { token: control.token, headers: { 'x-request-id': `k${i}-${k}` } }).catch(() => null)));
    const clis = Array.from({ length: 2 }, (_, k) => runAndKill(['config', 'set', 'server.publicUrl', `https://k${i}-${k}.example`], { env: e.env, killAfterMs: 200 + Math.floor(rnd() * 600) }));
    await new Promise((r) => setTimeout(r, 20 + Math.floor(rnd() * 150)));
    srv = await restartServe(t, e.env, srv);
    await burst;
    await Promise.all(clis);
    const v = await runCli(['audit', 'verify', '--json'], { env: e.env });
    const res = printed(v.stdout);
    if (res?.ok) { kinds.ok = (kinds.ok ?? 0) + 1; continue; }
    const lines = readFileSync(join(e.stateDir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).length;
    const exactlyTail = res?.kind === 'truncated' && res.firstBadLine?.line >= lines;
    kinds[res?.kind ?? 'error'] = (kinds[res?.kind ?? 'error'] ?? 0) + 1;
    if (exactlyTail) torn++; else { verifyFailures++; t.fail(`round ${i}: verify reports more than a torn tail: ${v.stdout}`); }
  }
  // The next writer repairs a torn tail (and says so); then verify passes.
  t.equal((await runCli(['config', 'set', 'server.publicUrl', 'https://after.example'], { env: e.env })).code, 0, 'one more write');
  await srv.stop();
  const v = printed((await runCli(['audit', 'verify', '--json'], { env: e.env })).stdout);
  t.equal(v?.ok, true, `audit verify passes after the next write (${v?.count} events, ${v?.notes} repair notes)`);
  t.same(parses(e.stateDir), [], 'every state file parses');
  t.equal(verifyFailures, 0, `after each kill, verify passed or reported exactly the torn tail (${JSON.stringify(kinds)})`);
  report.row('audit appends: serve and CLIs killed', rounds, verifyFailures + (v?.ok ? 0 : 1), `verify after kills: ${JSON.stringify(kinds)}; torn tails ${torn}, repaired by the next writer; final ${v?.count} events ok`);
});
