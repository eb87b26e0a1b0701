// The man pages and the README reference are generated from the commands; stale ones fail here.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { ROOT } from './helpers/cli.js';

t.test('man pages and README reference are current', async (t) => {
  const r = spawnSync(process.execPath, ['scripts/docs.js', '--check'], { cwd: ROOT, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
});
