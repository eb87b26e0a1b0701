// `mediagate audit` and `mediagate audit verify` through the real built CLI.
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog } from '../dist/core/audit/log.js';
import { BIN, cliEnv, runCli } from './helpers/cli.js';

const HOUR = 3_600_000;

/** A log with events from 3 hours ago and from a minute ago. */
async function seed(stateDir, opts = {}) {
  const now = Date.now();
  let clock = now - 3 * HOUR;
  const log = new AuditLog(stateDir, { now: () => new Date(clock), ...opts });
  log.append({ actor: { id: 'local:alice', label: 'alice' }, action: 'token.create', target: 'tok_aaaa1111', outcome: 'ok' });
  clock += 1000;
  log.append({ actor: { id: 'anonymous' }, action: 'auth.failure', outcome: 'denied', ip: '192.0.2.9', requestId: 'req-old' });
  clock = now - 60_000;
  log.append({ actor: { id: 'token:tok_aaaa1111', label: 'phone' }, action: 'player.pause', target: 'mpd', outcome: 'ok', ip: '192.0.2.7', requestId: 'req-1' });
  clock += 1000;
  log.append({ actor: { id: 'token:tok_bbbb2222', label: 'tv' }, action: 'token.revoke', target: 'tok_aaaa1111', outcome: 'denied', ip: '192.0.2.8', requestId: 'req-2', detail: 'scope too low' });
  clock += 1000;
  log.append({ actor: { id: 'local:alice', label: 'alice' }, action: 'config.set', target: 'mpd.host', outcome: 'error', detail: 'bad value' });
  await log.close();
  return now;
}

const seqs = (r) => JSON.parse(r.stdout).map((e) => e.seq);

t.test('audit --json: all events, and each filter', async (t) => {
  const { env, stateDir } = cliEnv(t);
  const now = await seed(stateDir);
  const all = await runCli(['audit', '--json'], { env });
  t.equal(all.code, 0, all.stderr);
  const events = JSON.parse(all.stdout);
  t.same(events.map((e) => e.seq), [1, 2, 3, 4, 5]);
  t.match(events[3], { actor: { id: 'token:tok_bbbb2222', label: 'tv' }, action: 'token.revoke', target: 'tok_aaaa1111', outcome: 'denied', ip: '192.0.2.8', requestId: 'req-2', detail: 'scope too low', prev: /^[0-9a-f]{64}$/, hash: /^[0-9a-f]{64}$/ });
  t.same(seqs(await runCli(['audit', '--json', '--actor', 'local:alice'], { env })), [1, 5]);
  t.same(seqs(await runCli(['audit', '--json', '--actor', 'phone'], { env })), [3]);
  t.same(seqs(await runCli(['audit', '--json', '--actor', 'token:'], { env })), [3, 4]);
  t.same(seqs(await runCli(['audit', '--json', '--action', 'token'], { env })), [1, 4]);
  t.same(seqs(await runCli(['audit', '--json', '--action', 'auth.failure'], { env })), [2]);
  t.same(seqs(await runCli(['audit', '--json', '--outcome', 'denied'], { env })), [2, 4]);
  t.same(seqs(await runCli(['audit', '--json', '--since', '1h'], { env })), [3, 4, 5]);
  t.same(seqs(await runCli(['audit', '--json', '--since', new Date(now - 90 * 60_000).toISOString()], { env })), [3, 4, 5]);
  t.same(seqs(await runCli(['audit', '--json', '--since', '4h'], { env })), [1, 2, 3, 4, 5]);
  t.same(seqs(await runCli(['audit', '--json', '--limit', '2'], { env })), [4, 5]);
  t.same(seqs(await runCli(['audit', '--json', '--since', '1h', '--outcome', 'denied', '--limit', '5'], { env })), [4]);
  t.same(seqs(await runCli(['audit', '--json', '--actor', 'nobody'], { env })), []);
});

t.test('audit (human): one line per event with time, actor, action, target, outcome, ip, request id', async (t) => {
  const { env, stateDir } = cliEnv(t);
  await seed(stateDir);
  const r = await runCli(['audit', '--outcome', 'denied'], { env });
  t.equal(r.code, 0, r.stderr);
  const ls = r.stdout.trimEnd().split('\n');
  t.equal(ls.length, 2);
  t.match(ls[1], /^\d{4}-\d\d-\d\dT[\d:.]+Z\s+token:tok_bbbb2222 \(tv\)\s+token\.revoke\s+tok_aaaa1111\s+denied\s+192\.0\.2\.8\s+req-2\s+"scope too low"$/);
  t.match(ls[0], /anonymous\s+auth\.failure\s+-\s+denied\s+192\.0\.2\.9\s+req-old$/, "'-' where there is no target");
  t.equal(r.stderr, '');
  const none = await runCli(['audit', '--actor', 'nobody'], { env });
  t.equal(none.code, 0);
  t.equal(none.stdout, '', 'no data');
  t.match(none.stderr, /no audit events match/, 'a message on stderr');
});

t.test('denied: bad flag values are usage errors (exit 2)', async (t) => {
  const { env, stateDir } = cliEnv(t);
  await seed(stateDir);
  const bogus = await runCli(['audit', '--since', 'bogus'], { env });
  t.equal(bogus.code, 2);
  t.match(bogus.stderr, /invalid --since 'bogus'/);
  t.match(bogus.stderr, /30m, 1h, 7d.*ISO time/);
  t.equal(bogus.stdout, '');
  const badDate = await runCli(['audit', '--since', '2025-13-45', '--json'], { env });
  t.equal(badDate.code, 2);
  t.match(JSON.parse(badDate.stderr), { error: { code: 'usage.invalid_since' } });
  t.equal((await runCli(['audit', '--outcome', 'maybe'], { env })).code, 2);
  t.equal((await runCli(['audit', '--limit', '0'], { env })).code, 2);
});

t.test('audit verify: exit 0 on an intact log (also across rotation), exit 1 naming the first bad line', async (t) => {
  const { env, stateDir } = cliEnv(t);
  const empty = await runCli(['audit', 'verify'], { env });
  t.equal(empty.code, 0, 'an empty log holds');
  await seed(stateDir, { maxBytes: 700 });
  const ok = await runCli(['audit', 'verify'], { env });
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /audit log intact: 5 event\(s\) in \d+ file\(s\); chain ends at seq 5, hash [0-9a-f]{64}/);
  const okJson = await runCli(['audit', 'verify', '--json'], { env });
  t.equal(okJson.code, 0);
  const v = JSON.parse(okJson.stdout);
  t.match(v, { ok: true, count: 5, lastSeq: 5 });
  t.ok(v.files.length > 1, 'rotated');

  // Edit a field in the current file.
  const path = join(stateDir, 'audit.jsonl');
  const text = readFileSync(path, 'utf8');
  const lastLine = text.trimEnd().split('\n').length;
  writeFileSync(path, text.replace('"outcome":"error"', '"outcome":"ok"'));
  const bad = await runCli(['audit', 'verify'], { env });
  t.equal(bad.code, 1);
  t.equal(bad.stdout, '');
  t.match(bad.stderr, new RegExp(`audit log broken at audit\\.jsonl:${lastLine} \\(seq 5\\): edited`));
  const badJson = await runCli(['audit', 'verify', '--json'], { env });
  t.equal(badJson.code, 1);
  t.match(JSON.parse(badJson.stdout), { ok: false, kind: 'edited', firstBadLine: { file: 'audit.jsonl', line: lastLine, seq: 5 } });

  // A note from the log about itself is pointed out, but the chain still holds.
  writeFileSync(path, text);
  const withNote = new AuditLog(stateDir, { maxQueue: 1 });
  withNote.append({ actor: { id: 'local:alice' }, action: 'a.b', outcome: 'ok' });
  withNote.append({ actor: { id: 'local:alice' }, action: 'a.b', outcome: 'ok' }); // dropped: queue full
  await withNote.flush();
  withNote.append({ actor: { id: 'local:alice' }, action: 'a.c', outcome: 'ok' });
  await withNote.close();
  const noted = await runCli(['audit', 'verify'], { env });
  t.equal(noted.code, 0, noted.stderr);
  t.match(noted.stdout, /audit log intact: 8 event\(s\)/);
  t.match(noted.stderr, /1 event\(s\) about itself.*mediagate audit --actor system:audit/);
  const notes = JSON.parse((await runCli(['audit', '--json', '--actor', 'system:audit'], { env })).stdout);
  t.match(notes, [{ seq: 7, action: 'audit.dropped', detail: /^1 event\(s\) dropped/ }]);

  // Cut the tail instead.
  writeFileSync(path, text.split('\n').slice(0, lastLine - 1).join('\n') + (lastLine > 1 ? '\n' : ''));
  const cut = await runCli(['audit', 'verify'], { env });
  t.equal(cut.code, 1);
  t.match(cut.stderr, /\(seq 5\): truncated/);
});

t.test('audit verify: a deleted head record plus a cut tail is never blessed by the next writer; --acknowledge accepts it', async (t) => {
  const { env, stateDir } = cliEnv(t);
  // Normal operation: CLI commands that audit, verify holds throughout.
  for (const port of ['6601', '6602', '6603', '6604', '6605', '6606']) {
    t.equal((await runCli(['config', 'set', 'mpd.port', port], { env })).code, 0);
  }
  const fine = await runCli(['audit', 'verify', '--json'], { env });
  t.equal(fine.code, 0, fine.stderr);
  t.match(JSON.parse(fine.stdout), { ok: true, count: 6, lastSeq: 6 });

  const path = join(stateDir, 'audit.jsonl');
  const head = join(stateDir, 'audit.head');
  const original = readFileSync(path, 'utf8');
  const ls = original.trimEnd().split('\n');
  // Remove the head and the last three lines: the evidence of the cut is gone with the head.
  unlinkSync(head);
  writeFileSync(path, ls.slice(0, 3).join('\n') + '\n');
  const cut = await runCli(['audit', 'verify'], { env });
  t.equal(cut.code, 1, 'the missing head is reported');

  // Any audited command now rebuilds the head, and says so in a line verify keeps reporting.
  t.equal((await runCli(['config', 'set', 'mpd.port', '6607'], { env })).code, 0);
  t.ok(existsSync(head), 'the writer rebuilt a head record');
  for (let i = 0; i < 2; i++) {
    const still = await runCli(['audit', 'verify', '--json'], { env });
    t.equal(still.code, 1, 'still broken after the head was rebuilt');
    t.match(JSON.parse(still.stdout), { ok: false, kind: 'head_rebuilt', firstBadLine: { file: 'audit.jsonl', line: 4, seq: 4 } });
    t.equal((await runCli(['config', 'set', 'mpd.port', String(6610 + i)], { env })).code, 0, 'more appends');
  }
  const text = await runCli(['audit', 'verify'], { env });
  t.equal(text.code, 1);
  t.match(text.stderr, /audit\.jsonl:4 \(seq 4\): head_rebuilt/);
  t.match(text.stderr, /mediagate audit verify --acknowledge/);
  const rebuilt = JSON.parse((await runCli(['audit', '--json', '--action', 'audit.head_rebuilt'], { env })).stdout);
  t.match(rebuilt, [{ seq: 4, actor: { id: 'system:audit' }, outcome: 'error', detail: /head record was missing; rebuilt it from the last readable line \(seq 3\)/ }]);

  // Denied: --acknowledge does not cover other damage (a line edited after the marker).
  const good = readFileSync(path, 'utf8');
  writeFileSync(path, good.replace(/"target":"mpd\.port"(?![\s\S]*"target":"mpd\.port")/, '"target":"mpd.host"'));
  const refused = await runCli(['audit', 'verify', '--acknowledge', '--json'], { env });
  t.equal(refused.code, 1);
  t.match(JSON.parse(refused.stdout), { ok: false, kind: 'edited' });
  t.equal((await runCli(['audit', '--json', '--action', 'audit.acknowledged'], { env })).stdout.trim(), '[]', 'nothing acknowledged');
  writeFileSync(path, good);

  // Allowed: the owner acknowledges; verify passes again, and stays so on later appends.
  const ack = await runCli(['audit', 'verify', '--acknowledge'], { env });
  t.equal(ack.code, 0, ack.stderr);
  t.match(ack.stderr, /acknowledged the head record rebuilt at seq 4/);
  t.match(ack.stdout, /audit log intact/);
  t.equal((await runCli(['config', 'set', 'mpd.port', '6620'], { env })).code, 0);
  t.equal((await runCli(['audit', 'verify'], { env })).code, 0, 'intact after acknowledging');
  const acks = JSON.parse((await runCli(['audit', '--json', '--action', 'audit.acknowledged'], { env })).stdout);
  t.match(acks, [{ actor: { id: /^local:/ }, target: 'seq 4', outcome: 'ok' }]);

  // A second removal is reported again, even after an earlier acknowledgement.
  unlinkSync(head);
  t.equal((await runCli(['config', 'set', 'mpd.port', '6621'], { env })).code, 0);
  t.match(JSON.parse((await runCli(['audit', 'verify', '--json'], { env })).stdout), { ok: false, kind: 'head_rebuilt' });
});

t.test('denied: a world-writable state dir is refused with a fix (exit 5)', async (t) => {
  const { env, stateDir } = cliEnv(t);
  await seed(stateDir);
  chmodSync(stateDir, 0o777);
  const r = await runCli(['audit', 'verify'], { env });
  t.equal(r.code, 5);
  t.match(r.stderr, /writable by group or others/);
  t.match(r.stderr, /chmod 700/);
  t.equal((await runCli(['audit'], { env })).code, 5);
});

t.test('audit --follow --json: backlog then one NDJSON line per new event; ends cleanly on SIGTERM', async (t) => {
  const { env, stateDir } = cliEnv(t);
  await seed(stateDir);
  const child = spawn(process.execPath, [BIN, 'audit', '--follow', '--json', '--limit', '1', '--outcome', 'denied'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  let onOut = () => {};
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; onOut(); });
  child.stderr.on('data', (d) => { err += d; });
  const waitLines = (n) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} lines; got ${JSON.stringify(out)} ${err}`)), 10_000);
    onOut = () => {
      if (out.split('\n').filter(Boolean).length >= n) { clearTimeout(timer); onOut = () => {}; resolve(); }
    };
    onOut();
  });
  await waitLines(1);
  t.match(JSON.parse(out.split('\n')[0]), { seq: 4, outcome: 'denied' }, 'backlog: the newest matching event');
  const log = new AuditLog(stateDir);
  log.append({ actor: { id: 'anonymous' }, action: 'auth.failure', outcome: 'denied', ip: '203.0.113.5' });
  log.append({ actor: { id: 'local:alice' }, action: 'player.play', outcome: 'ok' });
  log.append({ actor: { id: 'anonymous' }, action: 'invite.redeem', outcome: 'denied', ip: '203.0.113.6' });
  await log.close();
  await waitLines(3);
  const got = out.trimEnd().split('\n').map((l) => JSON.parse(l));
  t.same(got.map((e) => [e.seq, e.action]), [[4, 'token.revoke'], [6, 'auth.failure'], [8, 'invite.redeem']], 'only new matching events, one object per line');
  const code = await new Promise((resolve) => { child.on('close', resolve); child.kill('SIGTERM'); });
  t.equal(code, 0);
});
