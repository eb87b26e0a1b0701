// writeFileAtomic and the temp files of writers killed between writing and
// renaming. Such a temp file can hold a copy of what was being written — for
// secret.key, a key that a rotation has since retired — and nothing ever
// removed it. (Found by the adversarial suite's kill -9 loop around
// `config rotate-key`.)
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../dist/core/state/atomic.js';
import { tempDir } from './helpers/proc.js';

t.test("a killed writer's temp files are removed by the next write of that file", async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'secret.key');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  const live = spawn('sleep', ['30']);
  t.teardown(() => live.kill('SIGKILL'));
  const leftovers = {
    deadTmp: `.secret.key.tmp-${deadPid}-0a1b2c3d`,
    deadNew: `.secret.key.new-${deadPid}-deadbeef`,
    liveTmp: `.secret.key.tmp-${live.pid}-00ff00ff`,
    otherFile: `.tokens.json.tmp-${deadPid}-0a1b2c3d`,
    notOurs: '.secret.key.tmp-notapid',
  };
  for (const n of Object.values(leftovers)) writeFileSync(join(dir, n), 'an old key\n', { mode: 0o600 });

  writeFileAtomic(target, 'the new key\n');
  t.equal(readFileSync(target, 'utf8'), 'the new key\n', 'allowed: the file is written');
  t.notOk(existsSync(join(dir, leftovers.deadTmp)), "a dead writer's temp file is removed (was: kept forever)");
  t.notOk(existsSync(join(dir, leftovers.deadNew)), "and its .new- file (createKeyFile's)");
  t.ok(existsSync(join(dir, leftovers.liveTmp)), "denied: a running writer's temp file is left alone");
  t.ok(existsSync(join(dir, leftovers.otherFile)), "another file's temp files are not this write's business");
  t.ok(existsSync(join(dir, leftovers.notOurs)), 'names that are not temp files of ours are left alone');
  t.same(readdirSync(dir).filter((n) => n.includes(`-${process.pid}-`)), [], 'no temp file of our own left');
});
