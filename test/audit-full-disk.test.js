// The audit log on a full disk (a real tmpfs filled to the last block; needs
// root to mount, skipped otherwise). Found by the adversarial suite:
//  - a batch that failed part-way left its lines in the file, and the retry
//    appended them again (duplicated events), or left half a line;
//  - a batch whose lines were all written but whose head record was not
//    (no room for it) stayed that way until some later event: until then
//    `audit verify` reported the lines as inserted. Then the head caught up on
//    the next flush, but while the disk stayed full verify still failed (the
//    adversarial suite's serve hit it when the disk filled mid-batch); now the
//    lines are cut back and sent again, so verify holds throughout.
import t from 'tap';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, verifyAudit } from '../dist/core/audit/log.js';
import { smallFilesystem } from './helpers/tmpfs.js';

/** An audit log in a state dir on a 128 KiB tmpfs (null when it cannot be mounted), reporting every error. */
function logOnSmallDisk(t) {
  const mnt = smallFilesystem(t, 128);
  if (mnt.skip) return null;
  const state = join(mnt.dir, 'state');
  mkdirSync(state, { mode: 0o700 });
  const errors = [];
  const log = new AuditLog(state, { onError: (e) => errors.push(e.message), everyError: true });
  return { mnt, state, errors, log };
}

function lines(state) {
  const text = readFileSync(join(state, 'audit.jsonl'), 'utf8');
  return { text, records: text.split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

t.test('a batch that fails part-way leaves nothing behind and is written once later', async (t) => {
  const small = logOnSmallDisk(t);
  if (!small) { t.skip('needs root to mount a tmpfs'); return; }
  const { mnt, state, errors, log } = small;
  const ev = (i) => ({ actor: { id: 'test' }, action: 'test.event', outcome: 'ok', requestId: `r${i}`, detail: 'x'.repeat(150) });
  log.append(ev(0));
  await log.flush();
  t.equal(log.stats().written, 1, 'allowed: written while there is room');

  mnt.fill({ blocksPerFile: 1 });
  mnt.giveBack(); // one block back: room for the lock file's pid, not for the batch
  // 60 events are more than the slack at the end of the log's last block: the write stops part-way.
  for (let i = 1; i <= 60; i++) log.append(ev(i));
  await log.flush();
  t.ok(errors.some((m) => /no space left/i.test(m)), `fails loudly: ${errors[0]}`);
  let { text, records } = lines(state);
  t.ok(text.endsWith('\n'), 'denied: no half-written line in the file (was: a torn line)');
  t.same(records.map((r) => r.requestId), ['r0'], 'and no whole lines of the failed batch either (the retry sends them all again)');

  mnt.free();
  await log.flush();
  await log.close();
  ({ text, records } = lines(state));
  const ids = records.filter((r) => r.requestId).map((r) => r.requestId);
  t.equal(new Set(ids).size, ids.length, 'no event written twice');
  t.same([...ids].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))), Array.from({ length: 61 }, (_, i) => `r${i}`), 'every event written once there is room');
  t.equal((await verifyAudit(state)).ok, true, 'audit verify passes');
});

t.test('lines written but no room for the head record: cut back, verify holds while full, written once later', async (t) => {
  const small = logOnSmallDisk(t);
  if (!small) { t.skip('needs root to mount a tmpfs'); return; }
  const { mnt, state, errors, log } = small;
  log.append({ actor: { id: 'test' }, action: 'test.first', outcome: 'ok' });
  await log.flush();
  mnt.fill({ blocksPerFile: 1 });
  mnt.giveBack(); // one block back: the lock file's pid takes it
  // One short event fits in the slack of the log's last block; the new head record needs a block of its own.
  log.append({ actor: { id: 'test' }, action: 'test.second', outcome: 'ok' });
  await log.flush();
  t.ok(errors.length > 0, `the head write failed loudly: ${errors[0]}`);
  t.same(lines(state).records.map((r) => r.action), ['test.first'], 'the line the head record could not cover is cut back out');
  const full = await verifyAudit(state);
  t.equal(full.ok, true, `denied nothing: while the disk is full, verify passes (was: 'inserted', a line past the head record) ${full.reason ?? ''}`);

  mnt.free();
  await log.flush();
  const v = await verifyAudit(state);
  t.equal(v.ok, true, `once there is room, the event is written with its head and verify passes ${v.reason ?? ''}`);
  t.same(lines(state).records.map((r) => r.action), ['test.first', 'test.second'], 'allowed: the event is in the log, once, in order');
  await log.close();
});
