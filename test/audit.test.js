// Audit log core: hash chain, head record, rotation, tamper detection (each
// kind, allowed and denied), redaction, bounded queue, failure handling,
// cross-process appends, crash recovery and follow mode.
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, appendFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditLog, openAuditLog, verifyAudit, readAudit, followAudit, GENESIS, redactSecrets } from '../dist/core/audit/log.js';
import { computeHash } from '../dist/core/audit/record.js';
import { tempDir } from './helpers/proc.js';

const LOG_MODULE = fileURLToPath(new URL('../dist/core/audit/log.js', import.meta.url));

function stateDir(t) {
  const dir = join(tempDir(t, 'mg-audit-'), 'state');
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** A clock that moves one second per call, from a fixed start. */
function steppingClock(start = Date.parse('2025-03-01T10:00:00Z')) {
  let t = start;
  return () => new Date((t += 1000));
}

const ev = (i, extra = {}) => ({ actor: { id: 'local:alice', label: 'alice' }, action: 'test.event', target: `t${i}`, outcome: 'ok', ...extra });

async function writeEvents(dir, n, opts = {}) {
  const log = new AuditLog(dir, { now: steppingClock(), ...opts });
  for (let i = 1; i <= n; i++) log.append(ev(i));
  await log.close();
  return log;
}

const file = (dir, name = 'audit.jsonl') => join(dir, name);
const lines = (dir, name) => readFileSync(file(dir, name), 'utf8').split('\n').filter(Boolean);
const writeLines = (dir, ls, name) => writeFileSync(file(dir, name), ls.map((l) => `${l}\n`).join(''));
/** Re-hash a record after changing it (what a careful forger does). */
const rehash = (rec) => ({ ...rec, hash: computeHash(rec) });

t.test('allowed: an intact log verifies; lines chain and carry every field', async (t) => {
  const dir = stateDir(t);
  const log = new AuditLog(dir, { now: steppingClock() });
  log.append({ actor: { id: 'token:tok_ab12cd34', label: 'phone' }, action: 'player.pause', target: 'mpd', outcome: 'ok', ip: '192.0.2.7', requestId: 'req-1', detail: 'from the app' });
  log.append({ actor: { id: 'anonymous' }, action: 'auth.failure', outcome: 'denied', ip: '192.0.2.8' });
  await log.close();
  const recs = lines(dir).map((l) => JSON.parse(l));
  t.equal(recs.length, 2);
  t.same(Object.keys(recs[0]), ['seq', 'time', 'actor', 'ip', 'requestId', 'action', 'target', 'outcome', 'detail', 'prev', 'hash']);
  t.same(Object.keys(recs[1]), ['seq', 'time', 'actor', 'ip', 'action', 'outcome', 'prev', 'hash'], 'absent fields are left out');
  t.equal(recs[0].seq, 1);
  t.equal(recs[0].prev, GENESIS);
  t.equal(recs[1].prev, recs[0].hash, 'each line carries the previous hash');
  t.equal(recs[0].hash, computeHash(recs[0]));
  t.equal(recs[0].time, '2025-03-01T10:00:01.000Z');
  const head = JSON.parse(readFileSync(file(dir, 'audit.head'), 'utf8'));
  t.match(head, { v: 1, seq: 2, hash: recs[1].hash, file: 'audit.jsonl', size: statSync(file(dir)).size, rotations: 0 });
  t.same(await verifyAudit(dir), { ok: true, count: 2, files: ['audit.jsonl'], lastSeq: 2, lastHash: recs[1].hash, notes: 0 });
  t.equal(statSync(file(dir)).mode & 0o777, 0o600, 'log is 0600');
  t.equal(statSync(file(dir, 'audit.head')).mode & 0o777, 0o600, 'head is 0600');
  t.notOk(existsSync(file(dir, 'audit.jsonl.lock')), 'lock released');
});

t.test('allowed: an empty or missing log verifies with count 0; a new state dir is created 0700', async (t) => {
  const base = tempDir(t, 'mg-audit-');
  t.same(await verifyAudit(join(base, 'nothing-here')), { ok: true, count: 0, files: [], lastSeq: 0, lastHash: GENESIS, notes: 0 });
  const dir = join(base, 'fresh', 'state');
  await writeEvents(dir, 1);
  t.equal(statSync(dir).mode & 0o777, 0o700);
  t.equal((await verifyAudit(dir)).ok, true);
});

t.test('allowed: rotation by size keeps the chain across files; verify walks them in order', async (t) => {
  const dir = stateDir(t);
  await writeEvents(dir, 40, { maxBytes: 2000, batchSize: 7 });
  // The second writer uses blocking calls (the CLI's way): same chain, same rotation.
  const log2 = new AuditLog(dir, { maxBytes: 2000, syncIo: true, now: steppingClock(Date.parse('2025-03-02T00:00:00Z')) });
  for (let i = 41; i <= 60; i++) log2.append(ev(i));
  await log2.close();
  const names = readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort();
  t.ok(names.length >= 5, `rotated into ${names.length} files`);
  for (const n of names) t.ok(statSync(file(dir, n)).size <= 2000, `${n} within the size limit`);
  const r = await verifyAudit(dir);
  t.equal(r.ok, true);
  t.equal(r.count, 60);
  t.same(r.files.slice(0, 2), ['audit.1.jsonl', 'audit.2.jsonl'], 'oldest first');
  t.equal(r.files[r.files.length - 1], 'audit.jsonl');
  // The first line of each rotated-in file continues the chain of the file before.
  const first2 = JSON.parse(lines(dir, 'audit.2.jsonl')[0]);
  const last1 = JSON.parse(lines(dir, 'audit.1.jsonl').at(-1));
  t.equal(first2.prev, last1.hash);
  t.equal(first2.seq, last1.seq + 1);
  const all = await readAudit(dir);
  t.same(all.map((e) => e.seq), Array.from({ length: 60 }, (_, i) => i + 1), 'reader returns every file in order');
});

t.test('allowed: two real processes appending at once (one on the thread pool like serve, one with blocking calls like the CLI) — 400 events, chain intact', async (t) => {
  const dir = stateDir(t);
  const script = `
    const { AuditLog } = await import(${JSON.stringify(LOG_MODULE)});
    const log = new AuditLog(process.argv[1], { maxBytes: 20000, batchSize: 10, syncIo: process.argv[2] === 'b' });
    // Both start at the same moment (node start-up times differ).
    await new Promise((r) => setTimeout(r, Math.max(0, Number(process.argv[3]) - Date.now())));
    const start = Date.now();
    for (let i = 0; i < 200; i++) {
      log.append({ actor: { id: 'proc:' + process.argv[2] }, action: 'test.concurrent', target: String(i), outcome: 'ok' });
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 2 + Math.random() * 6));
    }
    await log.close();
    const s = log.stats();
    if (s.written !== 200 || s.errors) { console.error(JSON.stringify(s)); process.exit(1); }
    console.log(JSON.stringify({ start, end: Date.now() }));
  `;
  const startAt = String(Date.now() + 1500);
  const run = (name) => new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, name, startAt], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => resolve({ code, err, span: code === 0 ? JSON.parse(out) : undefined }));
  });
  const [a, b] = await Promise.all([run('a'), run('b')]);
  t.equal(a.code, 0, a.err);
  t.equal(b.code, 0, b.err);
  const r = await verifyAudit(dir);
  t.match(r, { ok: true, count: 400, lastSeq: 400 });
  const all = await readAudit(dir);
  t.equal(all.filter((e) => e.actor.id === 'proc:a').length, 200);
  t.equal(all.filter((e) => e.actor.id === 'proc:b').length, 200);
  t.ok(a.span.start < b.span.end && b.span.start < a.span.end, 'the two processes were appending at the same time');
  t.ok(r.files.length > 1, 'and rotated while contending');
});

t.test('denied: each kind of tampering is detected and named', async (t) => {
  const base = async (t, n = 10) => {
    const dir = stateDir(t);
    await writeEvents(dir, n);
    return dir;
  };

  t.test('edited field (hash not recomputed)', async (t) => {
    const dir = await base(t);
    const ls = lines(dir);
    ls[4] = ls[4].replace('"outcome":"ok"', '"outcome":"denied"');
    writeLines(dir, ls);
    t.match(await verifyAudit(dir), { ok: false, kind: 'edited', firstBadLine: { file: 'audit.jsonl', line: 5, seq: 5 }, count: 4 });
  });

  t.test('edited field with its hash recomputed', async (t) => {
    const dir = await base(t);
    const ls = lines(dir);
    ls[4] = JSON.stringify(rehash({ ...JSON.parse(ls[4]), target: 'something-else' }));
    writeLines(dir, ls);
    t.match(await verifyAudit(dir), { ok: false, kind: 'edited', firstBadLine: { line: 5, seq: 5 } });
  });

  t.test('edited last line with its hash recomputed (only the head record knows)', async (t) => {
    const dir = await base(t);
    const ls = lines(dir);
    ls[9] = JSON.stringify(rehash({ ...JSON.parse(ls[9]), outcome: 'denied' }));
    writeLines(dir, ls);
    t.match(await verifyAudit(dir), { ok: false, kind: 'edited', firstBadLine: { line: 10, seq: 10 } });
  });

  t.test('deleted middle line', async (t) => {
    const dir = await base(t);
    const ls = lines(dir);
    ls.splice(3, 1);
    writeLines(dir, ls);
    const r = await verifyAudit(dir);
    t.match(r, { ok: false, kind: 'deleted', firstBadLine: { line: 4, seq: 5 } });
    t.match(r.reason, /seq 4/);
  });

  t.test('deleted first line', async (t) => {
    const dir = await base(t);
    writeLines(dir, lines(dir).slice(1));
    t.match(await verifyAudit(dir), { ok: false, kind: 'deleted', firstBadLine: { line: 1, seq: 2 } });
  });

  t.test('two lines swapped', async (t) => {
    const dir = await base(t);
    const ls = lines(dir);
    [ls[5], ls[6]] = [ls[6], ls[5]];
    writeLines(dir, ls);
    t.match(await verifyAudit(dir), { ok: false, kind: 'reordered', firstBadLine: { line: 6, seq: 7 } });
  });

  t.test('a line moved further down', async (t) => {
    const dir = await base(t);
    const ls = lines(dir);
    const [moved] = ls.splice(2, 1);
    ls.splice(7, 0, moved);
    writeLines(dir, ls);
    t.match(await verifyAudit(dir), { ok: false, kind: 'reordered', firstBadLine: { line: 3, seq: 4 } });
  });

  t.test('forged line inserted with a recomputed hash that chains to the line before', async (t) => {
    const dir = await base(t);
    const ls = lines(dir);
    const before = JSON.parse(ls[4]);
    const forged = rehash({ seq: before.seq + 1, time: before.time, actor: { id: 'local:alice' }, action: 'token.revoke', target: 'tok_x', outcome: 'ok', prev: before.hash });
    ls.splice(5, 0, JSON.stringify(forged));
    writeLines(dir, ls);
    t.match(await verifyAudit(dir), { ok: false, kind: 'inserted', firstBadLine: { line: 6, seq: 6 } });
  });

  t.test('forged line inserted with a self-consistent hash but made-up seq and prev', async (t) => {
    const dir = await base(t);
    const ls = lines(dir);
    const forged = rehash({ ...JSON.parse(ls[2]), seq: 42, prev: 'a'.repeat(64), target: 'forged' });
    ls.splice(3, 0, JSON.stringify(forged));
    writeLines(dir, ls);
    t.match(await verifyAudit(dir), { ok: false, kind: 'inserted', firstBadLine: { line: 4, seq: 42 } });
  });

  t.test('forged line appended at the end with a valid chain (the head record catches it)', async (t) => {
    const dir = await base(t);
    const last = JSON.parse(lines(dir).at(-1));
    appendFileSync(file(dir), `${JSON.stringify(rehash({ seq: 11, time: last.time, actor: { id: 'local:alice' }, action: 'x', outcome: 'ok', prev: last.hash }))}\n`);
    t.match(await verifyAudit(dir), { ok: false, kind: 'inserted', firstBadLine: { line: 11, seq: 11 } });
  });

  t.test('whole log rewritten from a point on, head untouched', async (t) => {
    const dir = await base(t);
    const ls = lines(dir).map((l) => JSON.parse(l));
    // Insert a forged line after seq 5, renumber and re-chain everything after it.
    const out = ls.slice(0, 5);
    let prev = out[4].hash;
    const tail = [{ ...ls[5], target: 'forged', seq: 6 }, ...ls.slice(5)];
    tail.forEach((r, i) => { const x = rehash({ ...r, seq: 6 + i, prev, hash: undefined }); out.push(x); prev = x.hash; });
    writeLines(dir, out.map((r) => JSON.stringify(r)));
    t.match(await verifyAudit(dir), { ok: false, kind: 'edited', firstBadLine: { seq: 10 } });
  });

  t.test('tail truncated: last lines removed', async (t) => {
    const dir = await base(t);
    writeLines(dir, lines(dir).slice(0, 7));
    const r = await verifyAudit(dir);
    t.match(r, { ok: false, kind: 'truncated', firstBadLine: { file: 'audit.jsonl', line: 8, seq: 8 }, count: 7 });
    t.match(r.reason, /3 line\(s\) missing from the end/);
  });

  t.test('tail truncated: every line removed', async (t) => {
    const dir = await base(t);
    writeFileSync(file(dir), '');
    t.match(await verifyAudit(dir), { ok: false, kind: 'truncated', firstBadLine: { line: 1, seq: 1 } });
  });

  t.test('torn last line: partial JSON without a newline', async (t) => {
    const dir = await base(t);
    const text = readFileSync(file(dir), 'utf8');
    writeFileSync(file(dir), text.slice(0, text.length - 40));
    const r = await verifyAudit(dir);
    t.match(r, { ok: false, kind: 'truncated', firstBadLine: { line: 10 } });
    t.match(r.reason, /torn last line/);
  });

  t.test('malformed line', async (t) => {
    const dir = await base(t);
    const ls = lines(dir);
    ls[2] = 'this is not json';
    writeLines(dir, ls);
    t.match(await verifyAudit(dir), { ok: false, kind: 'malformed', firstBadLine: { line: 3 } });
  });

  t.test('head record deleted', async (t) => {
    const dir = await base(t);
    unlinkSync(file(dir, 'audit.head'));
    t.match(await verifyAudit(dir), { ok: false, kind: 'truncated', firstBadLine: { file: 'audit.head' } });
  });

  t.test('a whole rotated file deleted', async (t) => {
    const dir = stateDir(t);
    await writeEvents(dir, 30, { maxBytes: 1500 });
    const before = await verifyAudit(dir);
    t.equal(before.ok, true);
    unlinkSync(file(dir, 'audit.2.jsonl'));
    t.match(await verifyAudit(dir), { ok: false, kind: 'deleted', firstBadLine: { file: 'audit.3.jsonl', line: 1 } });
  });
});

t.test('crash recovery: a torn tail is cut by the next writer (and said so); a cut tail is not papered over', async (t) => {
  t.test('torn partial line from an interrupted writer', async (t) => {
    const dir = stateDir(t);
    await writeEvents(dir, 5);
    appendFileSync(file(dir), '{"seq":6,"time":"2025-03-01T10:00:0');
    t.match(await verifyAudit(dir), { ok: false, kind: 'truncated' });
    await writeEvents(dir, 2);
    const r = await verifyAudit(dir);
    t.match(r, { ok: true, count: 8, notes: 1 }, 'the chain holds; the repair is counted as a note');
    const recovered = (await readAudit(dir, { action: 'audit.recovered' }));
    t.equal(recovered.length, 1);
    t.match(recovered[0], { seq: 6, outcome: 'error', actor: { id: 'system:audit' }, detail: /unfinished last line/ });
  });

  t.test('lines written but the head record not updated (writer died in between)', async (t) => {
    const dir = stateDir(t);
    await writeEvents(dir, 5);
    const head = readFileSync(file(dir, 'audit.head'));
    await writeEvents(dir, 3);
    writeFileSync(file(dir, 'audit.head'), head); // as if the head write never happened
    t.match(await verifyAudit(dir), { ok: false, kind: 'inserted', firstBadLine: { seq: 6 } });
    await writeEvents(dir, 1);
    t.match(await verifyAudit(dir), { ok: true, count: 10 });
    t.match((await readAudit(dir, { action: 'audit' }))[0], { seq: 9, detail: /kept 3 line\(s\) \(seq 6–8\)/ });
  });

  t.test('denied: a line cut inside the committed part is not silently repaired', async (t) => {
    const dir = stateDir(t);
    await writeEvents(dir, 10);
    const text = readFileSync(file(dir), 'utf8');
    writeFileSync(file(dir), text.slice(0, text.length - 40));
    await writeEvents(dir, 2);
    const r = await verifyAudit(dir);
    t.match(r, { ok: false, kind: 'malformed', firstBadLine: { line: 10 } }, 'the cut line stays visible');
    t.equal(lines(dir).length, 13, 'new lines start on a fresh line');
    t.match(await readAudit(dir, { action: 'audit.chain_broken' }), [{ seq: 11 }]);
  });

  t.test('denied: after lines are cut from the end, new appends keep the gap visible', async (t) => {
    const dir = stateDir(t);
    await writeEvents(dir, 10);
    writeLines(dir, lines(dir).slice(0, 6));
    await writeEvents(dir, 3);
    const r = await verifyAudit(dir);
    t.match(r, { ok: false, kind: 'deleted', firstBadLine: { line: 7, seq: 11 } });
    const broken = await readAudit(dir, { action: 'audit.chain_broken' });
    t.match(broken, [{ seq: 11, outcome: 'error', detail: /head: seq 10; last line: seq 6/ }]);
  });
});

t.test('never a secret: token-, code- and sealed-looking values are redacted in every field', async (t) => {
  const dir = stateDir(t);
  const token = `mg_${'A1b2C3d4'.repeat(5)}xyz`;
  const pairing = `mgp_${'Zz9_-'.repeat(8)}abc`;
  const sealed = 'nacl:v1:c2VjcmV0IHNlYWxlZCB2YWx1ZSBoZXJlIQ==';
  const codes = ['ABCD-EFGH-JKMN-PQRS', 'abcd-efgh-jkmn-pq1s', '7K2M 9Q4X AB3C DEFG', 'ABCD2EFGH3JKMN4P'];
  const log = new AuditLog(dir);
  log.append({ actor: { id: `token:${token}`, label: pairing }, action: 'auth.failure', target: sealed, outcome: 'denied', ip: token, requestId: pairing, detail: `bearer ${token} then ${codes.join(' and ')}` });
  log.append({ actor: { id: 'local:alice' }, action: 'token.rotate', target: 'tok_7k2m9q4x', outcome: 'ok', detail: `partial ${token.slice(0, 12)} / ${sealed.slice(0, 12)}` });
  const keep = 'tok_7k2m9q4x inv_ab12cd34 123e4567-e89b-12d3-a456-426614174000 took more than 5000 ms mg_ab';
  log.append({ actor: { id: 'local:alice' }, action: 'config.set', target: 'mpd.host', outcome: 'ok', detail: keep });
  await log.close();
  const text = readFileSync(file(dir), 'utf8');
  for (const secret of [token, pairing, sealed, ...codes, token.slice(3, 15), 'c2VjcmV0']) {
    t.notOk(text.includes(secret), `no trace of ${secret.slice(0, 10)}…`);
  }
  t.ok(text.includes('[redacted]'));
  t.ok(log.stats().redacted >= 10, `counted ${log.stats().redacted} redactions`);
  const [first, second, third] = await readAudit(dir);
  t.equal(first.actor.id, 'token:[redacted]');
  t.equal(first.target, '[redacted]');
  t.equal(second.detail, 'partial [redacted] / [redacted]');
  t.equal(third.detail, keep, 'ids, UUIDs and ordinary words are left alone');
  t.equal((await verifyAudit(dir)).ok, true);
  // The exported helper, directly.
  t.same(redactSecrets('x mg_abcdefgh y'), { text: 'x [redacted] y', count: 1 });
  t.same(redactSecrets('nothing here'), { text: 'nothing here', count: 0 });
});

t.test('fields are cleaned: control characters, lengths, unknown outcome, missing fields', async (t) => {
  const dir = stateDir(t);
  const log = new AuditLog(dir);
  log.append({ actor: { id: 'local:a' }, action: 'x.y', outcome: 'ok', detail: 'line one\nline two\u001b[31m', target: 'z'.repeat(1000) });
  log.append({ actor: {}, outcome: 'maybe' });
  log.append(undefined);
  await log.close();
  const ls = lines(dir);
  t.equal(ls.length, 3, 'one line per event');
  const [a, b, c] = ls.map((l) => JSON.parse(l));
  t.equal(a.detail, 'line one line two [31m');
  t.equal(a.target.length, 256);
  t.match(b, { actor: { id: 'unknown' }, action: 'unknown', outcome: 'error', detail: /outcome given as 'maybe'/ });
  t.match(c, { actor: { id: 'unknown' }, action: 'unknown', outcome: 'error' });
  t.equal((await verifyAudit(dir)).ok, true);
});

t.test('bounded queue: a flood does not grow memory; within the bound nothing is lost', async (t) => {
  t.test('10,000 synchronous appends (exactly the bound): all written', async (t) => {
    const dir = stateDir(t);
    const log = new AuditLog(dir, { maxQueue: 10_000 });
    let refused = 0;
    for (let i = 0; i < 10_000; i++) if (!log.append(ev(i))) refused++;
    t.equal(refused, 0);
    t.equal(log.stats().queued, 10_000);
    await log.close();
    t.match(log.stats(), { written: 10_000, dropped: 0, failed: 0, errors: 0 });
    t.match(await verifyAudit(dir), { ok: true, count: 10_000 });
  });

  t.test('50,000 appends from a producer that yields while the queue is half full: all written', async (t) => {
    const dir = stateDir(t);
    const log = new AuditLog(dir);
    let maxQueued = 0;
    let refused = 0;
    for (let i = 0; i < 50_000; i++) {
      if (!log.append(ev(i))) refused++;
      maxQueued = Math.max(maxQueued, log.stats().queued);
      while (log.stats().queued >= 5000) await new Promise((r) => setTimeout(r, 1));
    }
    await log.close();
    t.equal(refused, 0);
    t.match(log.stats(), { written: 50_000, dropped: 0, failed: 0 });
    t.ok(maxQueued <= 10_000, `queue peaked at ${maxQueued}`);
    t.match(await verifyAudit(dir), { ok: true, count: 50_000 });
  });

  t.test('50,000 synchronous appends: the queue stays at its bound, the rest is dropped and counted in the log', async (t) => {
    const dir = stateDir(t);
    const log = new AuditLog(dir, { maxQueue: 10_000 });
    let refused = 0;
    for (let i = 0; i < 50_000; i++) if (!log.append(ev(i))) refused++;
    t.equal(log.stats().queued, 10_000, 'never more than the bound waiting');
    t.equal(refused, 40_000, 'append says which events were dropped');
    log.append(ev('after')); // still full: dropped too
    await log.flush();
    log.append(ev('later')); // room again
    await log.close();
    t.match(log.stats(), { dropped: 40_001, written: 10_002, failed: 0 });
    const dropped = await readAudit(dir, { action: 'audit.dropped' });
    t.equal(dropped.length, 1);
    t.match(dropped[0], { seq: 10_001, outcome: 'error', actor: { id: 'system:audit' }, detail: /^40001 event\(s\) dropped since .*queue was full \(10000 waiting\)/ });
    const last = await readAudit(dir, { limit: 1 });
    t.equal(last[0].target, 'tlater', 'events after the gap are kept, in order');
    t.match(await verifyAudit(dir), { ok: true, count: 10_002, notes: 1 });
  });

  t.test('memory stays flat under a 200,000-event flood (measured in a child with --expose-gc)', async (t) => {
    const dir = stateDir(t);
    const script = `
      const { AuditLog } = await import(${JSON.stringify(LOG_MODULE)});
      const log = new AuditLog(process.argv[1], { maxQueue: 10000 });
      const e = (i) => ({ actor: { id: 'token:tok_flood000', label: 'flood' }, action: 'auth.failure', target: 'x'.repeat(100) + i, outcome: 'denied', ip: '198.51.100.' + (i % 250), detail: 'y'.repeat(200) });
      for (let i = 0; i < 10000; i++) log.append(e(i));
      gc(); const base = process.memoryUsage().heapUsed;
      for (let i = 0; i < 190000; i++) log.append(e(i));
      gc(); const after = process.memoryUsage().heapUsed;
      const s = log.stats();
      await log.close();
      console.log(JSON.stringify({ grownMiB: (after - base) / 1048576, queued: s.queued, dropped: s.dropped, written: log.stats().written }));
    `;
    const out = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let s = '';
      child.stdout.on('data', (d) => { s += d; });
      child.on('close', (code) => (code === 0 ? resolve(JSON.parse(s)) : reject(new Error(`exit ${code}`))));
    });
    t.equal(out.queued, 10_000);
    t.equal(out.dropped, 190_000);
    t.ok(out.grownMiB < 5, `heap grew ${out.grownMiB.toFixed(2)} MiB after 190,000 more events`);
    t.equal(out.written, 10_001);
  });
});

t.test('failures: append never throws; the problem is reported once and counted', async (t) => {
  t.test('state dir cannot be created (a file is in the way)', async (t) => {
    const base = tempDir(t, 'mg-audit-');
    writeFileSync(join(base, 'blocker'), 'not a directory');
    const dir = join(base, 'blocker', 'state');
    const errors = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk, ...rest) => { if (String(chunk).includes('audit')) { errors.push(String(chunk)); return true; } return orig(chunk, ...rest); };
    let log;
    try {
      log = openAuditLog({ MEDIAGATE_STATE_DIR: dir });
      t.doesNotThrow(() => { for (let i = 0; i < 100; i++) log.append(ev(i)); });
      await log.flush();
      await log.flush();
      log.append(ev('more'));
      await log.close();
    } finally {
      process.stderr.write = orig;
    }
    t.equal(errors.length, 1, 'one line on stderr, not one per event or attempt');
    t.match(errors[0], /audit events could not be written to .*blocker/);
    const s = log.stats();
    t.ok(s.errors >= 2, `every failed attempt counted (${s.errors})`);
    t.equal(s.failed, 101, 'what could not be written is counted at close');
    t.equal(s.written, 0);
    t.match(s.lastError, /cannot create|ENOTDIR|not a directory/);
  });

  t.test('denied: a group/world-writable (0777) state dir is refused, nothing is written', async (t) => {
    const dir = stateDir(t);
    chmodSync(dir, 0o777);
    const seen = [];
    const log = new AuditLog(dir, { onError: (e) => seen.push(e.message) });
    t.equal(log.append(ev(1)), true);
    await log.close();
    t.equal(seen.length, 1);
    t.match(seen[0], /writable by group or others.*chmod 700/);
    t.notOk(existsSync(file(dir)), 'no log written into an unsafe dir');
    await t.rejects(verifyAudit(dir), { code: 'config.unsafe_permissions', exitCode: 5 });
    await t.rejects(readAudit(dir), { code: 'config.unsafe_permissions' });
    chmodSync(dir, 0o700);
    await writeEvents(dir, 1);
    t.match(await verifyAudit(dir), { ok: true, count: 1 }, 'allowed once the dir is private');
  });

  t.test('denied: a group-writable log file is refused', async (t) => {
    const dir = stateDir(t);
    await writeEvents(dir, 2);
    chmodSync(file(dir), 0o620);
    await t.rejects(verifyAudit(dir), { code: 'config.unsafe_permissions', message: /audit\.jsonl/ });
    const seen = [];
    const log = new AuditLog(dir, { onError: (e) => seen.push(e.message) });
    log.append(ev(3));
    await log.close();
    t.match(seen, [/chmod 600/]);
    t.equal(lines(dir).length, 2);
  });

  t.test('a lock held by a live process: the batch waits, then reports instead of hanging', async (t) => {
    const dir = stateDir(t);
    await writeEvents(dir, 1);
    writeFileSync(`${file(dir)}.lock`, `${process.pid} held-by-test`);
    const seen = [];
    const log = new AuditLog(dir, { lockTimeoutMs: 200, onError: (e) => seen.push(e.message) });
    log.append(ev(2));
    await log.flush();
    t.match(seen, [/could not lock/]);
    t.equal(log.stats().queued, 1, 'kept for a retry');
    unlinkSync(`${file(dir)}.lock`);
    await log.close();
    t.match(log.stats(), { written: 1, failed: 0 });
    t.match(await verifyAudit(dir), { ok: true, count: 2 });
  });
});

t.test('a CLI process exits promptly with events flushed, without calling close()', async (t) => {
  const dir = stateDir(t);
  const script = `
    const { AuditLog } = await import(${JSON.stringify(LOG_MODULE)});
    const log = new AuditLog(process.argv[1]);
    for (let i = 0; i < 3; i++) log.append({ actor: { id: 'local:x' }, action: 'exit.test', outcome: 'ok' });
  `;
  const started = Date.now();
  const code = await new Promise((resolve) => {
    spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: 'inherit' }).on('close', resolve);
  });
  t.equal(code, 0);
  t.ok(Date.now() - started < 3000, 'no timer kept it alive');
  t.match(await verifyAudit(dir), { ok: true, count: 3 }, 'flushed on beforeExit');

  const dir2 = join(tempDir(t, 'mg-audit-'), 'file');
  writeFileSync(dir2, '');
  const started2 = Date.now();
  const res = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, join(dir2, 'sub')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => resolve({ code, err }));
  });
  t.equal(res.code, 0, 'an unwritable log does not crash the process');
  t.equal(res.err.match(/audit events could not be written/g)?.length, 1, 'reported once');
  t.ok(Date.now() - started2 < 3000, 'and the retry timer does not keep it alive');
});

t.test('readAudit: filters and limit', async (t) => {
  const dir = stateDir(t);
  const log = new AuditLog(dir, { now: steppingClock(), maxBytes: 1200 });
  log.append({ actor: { id: 'local:alice', label: 'alice' }, action: 'token.create', target: 'tok_1', outcome: 'ok' });
  log.append({ actor: { id: 'token:tok_1', label: 'phone' }, action: 'player.pause', outcome: 'ok', ip: '192.0.2.1' });
  log.append({ actor: { id: 'anonymous' }, action: 'auth.failure', outcome: 'denied', ip: '192.0.2.9' });
  log.append({ actor: { id: 'token:tok_2', label: 'tv' }, action: 'token.revoke', target: 'tok_1', outcome: 'denied' });
  log.append({ actor: { id: 'local:alice', label: 'alice' }, action: 'tokenish.thing', outcome: 'error' });
  await log.close();
  const pick = async (q) => (await readAudit(dir, q)).map((e) => e.seq);
  t.same(await pick({}), [1, 2, 3, 4, 5]);
  t.same(await pick({ actor: 'local:alice' }), [1, 5]);
  t.same(await pick({ actor: 'phone' }), [2], 'by label');
  t.same(await pick({ actor: 'token:' }), [2, 4], 'by id prefix');
  t.same(await pick({ actor: 'token' }), [], 'no accidental prefix match');
  t.same(await pick({ action: 'token' }), [1, 4], 'dotted prefix, not tokenish');
  t.same(await pick({ action: 'token.*' }), [1, 4]);
  t.same(await pick({ action: 'token.revoke' }), [4]);
  t.same(await pick({ outcome: 'denied' }), [3, 4]);
  t.same(await pick({ since: new Date('2025-03-01T10:00:03Z') }), [3, 4, 5]);
  t.same(await pick({ limit: 2 }), [4, 5], 'limit keeps the newest');
  t.same(await pick({ outcome: 'denied', limit: 1 }), [4]);
  t.same(await pick({ since: new Date('2025-03-01T10:00:02Z'), limit: 10, outcome: 'ok' }), [2]);
  t.same(await readAudit(join(dir, 'missing')), []);
});

t.test('followAudit: backlog, then new events as they are appended, across rotation', async (t) => {
  const dir = stateDir(t);
  await writeEvents(dir, 5, { maxBytes: 1500 });
  const got = [];
  let wake;
  const follower = await followAudit(dir, { action: 'test' }, (r) => { got.push(r.seq); wake?.(); }, { backlog: 2 });
  t.teardown(() => follower.close());
  t.same(got, [4, 5], 'the last two first');
  const waitFor = async (n) => {
    const end = Date.now() + 5000;
    while (got.length < n && Date.now() < end) await new Promise((r) => { wake = r; setTimeout(r, 200); });
  };
  const log = new AuditLog(dir, { maxBytes: 1500 });
  for (let i = 6; i <= 30; i++) {
    log.append(ev(i));
    log.append({ actor: { id: 'x' }, action: 'other.thing', outcome: 'ok' });
    if (i % 3 === 0) await log.flush();
  }
  await log.close();
  const expected = [4, 5, ...Array.from({ length: 25 }, (_, i) => 6 + i * 2)];
  await waitFor(expected.length);
  t.same(got, expected, 'every new matching event once, in order, through several rotations');
  t.ok(readdirSync(dir).filter((n) => /^audit\.\d+\.jsonl$/.test(n)).length >= 3, 'rotated meanwhile');
  follower.close();
  const n = got.length;
  await writeEvents(dir, 2);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(got.length, n, 'nothing after close');
});
