// The cross-process lock (src/core/state/lock.ts) and empty lock files.
// A full disk let `withLock` create its lock file but not write its pid
// into it, and the empty file was left behind; empty lock files were never
// treated as stale, so every later token, invite and audit write failed with
// "could not lock in time" — even after space was freed. (Found by the
// adversarial suite's full-disk test.)
import t from 'tap';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withLock, EMPTY_LOCK_STALE_MS } from '../dist/core/state/lock.js';
import { tempDir } from './helpers/proc.js';
import { smallFilesystem } from './helpers/tmpfs.js';

t.test('allowed: a lock is taken and released; a held one makes others wait', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'x.json');
  const r = await withLock(target, () => 42);
  t.equal(r, 42);
  t.notOk(existsSync(`${target}.lock`), 'released');
  writeFileSync(`${target}.lock`, `${process.pid} someone`);
  const e = await withLock(target, () => 1, { timeoutMs: 300 }).then(() => null, (x) => x);
  t.equal(e?.code, 'state.locked', 'denied: a lock held by a live process is respected');
});

t.test('empty lock files: a fresh one is respected, an old one is stale', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'y.json');
  writeFileSync(`${target}.lock`, '');
  const e = await withLock(target, () => 1, { timeoutMs: 300 }).then(() => null, (x) => x);
  t.equal(e?.code, 'state.locked', 'denied: a fresh empty lock (its owner is between open and write) is respected');
  const old = (Date.now() - EMPTY_LOCK_STALE_MS - 5000) / 1000;
  utimesSync(`${target}.lock`, old, old);
  const r = await withLock(target, () => 'got it', { timeoutMs: 2000 });
  t.equal(r, 'got it', 'allowed: an empty lock older than the stale limit is broken (was: never, a permanent lock-out)');
  t.notOk(existsSync(`${target}.lock`), 'and released afterwards');
});

t.test('a full disk: the lock attempt fails loudly and leaves no lock file', async (t) => {
  const disk = smallFilesystem(t, 64);
  if (disk.skip) { t.skip(disk.skip); return; }
  const dir = disk.dir;
  const target = join(dir, 'tokens.json');
  // Take every data block; inodes remain, so the lock file itself can still be created.
  disk.fill();
  t.equal(disk.freeBytes(), 0, 'disk full');

  const e = await withLock(target, () => 1, { timeoutMs: 1000 }).then(() => null, (x) => x);
  t.equal(e?.code, 'state.unwritable', 'denied: fails loudly, as a state error (exit 5, 503 from serve)');
  t.match(e?.message, /cannot write .*tokens\.json\.lock: no space left on the device \(ENOSPC\)/, 'naming the file and the reason');
  t.equal(e?.cause?.code, 'ENOSPC', 'the errno stays on cause');
  t.same(readdirSync(dir).filter((n) => n.endsWith('.lock')), [], 'no empty lock file left behind');
  disk.free();
  const r = await withLock(target, () => 'after', { timeoutMs: 1000 });
  t.equal(r, 'after', 'allowed: once there is space, the lock works at once (was: locked out for good)');
});

t.test('a full disk: creating a token fails as state.unwritable and changes nothing', async (t) => {
  const { TokenStore } = await import('../dist/core/tokens.js');
  const disk = smallFilesystem(t, 64);
  if (disk.skip) { t.skip(disk.skip); return; }
  const dir = disk.dir;
  const store = new TokenStore({ path: join(dir, 'tokens.json') });
  await store.create({ label: 'before', scope: 'read' });
  const before = readFileSync(join(dir, 'tokens.json'), 'utf8');
  disk.fill({ blocksPerFile: 1 });
  disk.giveBack(); // one block back: the lock's pid fits, the new tokens.json does not
  const e = await store.create({ label: 'full', scope: 'read' }).then(() => null, (x) => x);
  t.equal(e?.code, 'state.unwritable', 'denied: a ConfigError state.unwritable (was: a bare ENOSPC error, a 500 from serve)');
  t.match(e?.message, /cannot write .*tokens\.json: no space left on the device/);
  t.equal(readFileSync(join(dir, 'tokens.json'), 'utf8'), before, 'tokens.json unchanged');
  t.same(readdirSync(dir).filter((n) => n.startsWith('.') || n.endsWith('.lock')), [], 'no temp or lock file left');
  disk.free();
  t.ok((await store.create({ label: 'after', scope: 'read' })).token, 'allowed: works again once there is room');
});

t.test('a stale lock and several contenders: the lock is broken once, and only one process holds it at a time', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { writeFileSync: write, readFileSync: read, existsSync: exists } = await import('node:fs');
  const { join: pjoin } = await import('node:path');
  const { securityEnv, runChild } = await import('./helpers/security.js');
  const ROUNDS = 6;
  const CONTENDERS = 5;
  const EACH = 6;
  let lost = 0;
  let overlaps = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const sec = securityEnv(t);
    const { stateDir } = sec;
    // Widen the moment a breaker has the lock file moved aside (microseconds otherwise).
    const env = { ...sec.env, MEDIAGATE_TEST_LOCK_BREAK_PAUSE_MS: '30' };
    const file = pjoin(stateDir, 'counter');
    write(file, '0');
    // A lock left by a process that died: the pid of one that has exited.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    write(`${file}.lock`, `${Number(gone.stdout)} deadbeefdeadbeef`);
    // Staggered starts, so some contenders are breaking the stale lock while others are taking the freed one.
    const at = Date.now() + 700;
    const runs = await Promise.all(Array.from({ length: CONTENDERS }, (_, k) => runChild(['lock-count', String(at + k * 12), String(EACH), file, '25'], env)));
    for (const r of runs) t.equal(r.code, 0, r.stderr);
    overlaps += runs.reduce((n, r) => n + (r.json?.overlaps ?? 0), 0);
    lost += CONTENDERS * EACH - Number(read(file, 'utf8'));
    t.notOk(exists(`${file}.lock`) || exists(`${file}.lock.break`), 'no lock or breaker guard left behind');
  }
  t.equal(overlaps, 0, 'never two holders at once');
  t.equal(lost, 0, `no lost increments (${ROUNDS} rounds × ${CONTENDERS} processes × ${EACH})`);
});
