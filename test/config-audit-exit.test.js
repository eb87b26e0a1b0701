// A config change that cannot be audited fails: exit 5 with a message that
// says so, like any other state that cannot be written — not exit 0 with a
// warning. The real CLI; the audit log made unwritable in a way root cannot
// write through either: audit.jsonl is a directory. `config set` and
// `config unset` record the change before making it, so a refused change
// leaves config.json as it was; set-secret and rotate-key say the change was
// made but not recorded. The allowed case: a writable log, exit 0, the
// event in the log.
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAudit } from '../dist/core/audit/log.js';
import { cliEnv, runCli } from './helpers/cli.js';

function breakAudit(stateDir) {
  mkdirSync(join(stateDir, 'audit.jsonl'));
}

const configOf = (configDir) => {
  const p = join(configDir, 'config.json');
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : {};
};

t.test('allowed: a writable audit log, the change is made and recorded', async (t) => {
  const { env, configDir } = cliEnv(t);
  const r = await runCli(['config', 'set', 'player.default', 'mpd'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '', 'no warning');
  t.same(configOf(configDir).player, { default: 'mpd' });
  const u = await runCli(['config', 'unset', 'player.default'], { env });
  t.equal(u.code, 0, u.stderr);
  const { stateDir } = { stateDir: env.MEDIAGATE_STATE_DIR };
  const actions = (await readAudit(stateDir)).map((e) => `${e.action} ${e.target}`);
  t.ok(actions.includes('config.set player.default') && actions.includes('config.unset player.default'), `both recorded: ${actions.join(', ')}`);
});

t.test('denied: config set / unset with an unwritable audit log → exit 5, nothing changed', async (t) => {
  const { env, configDir, stateDir } = cliEnv(t);
  writeFileSync(join(configDir, 'config.json'), `${JSON.stringify({ player: { default: 'mpd' } })}\n`, { mode: 0o600 });
  breakAudit(stateDir);

  const r = await runCli(['config', 'set', 'player.default', 'vlc'], { env });
  t.equal(r.code, 5, `config set exits 5 (stderr: ${r.stderr.trim()})`);
  t.match(r.stderr, /audit/i, 'says the audit log is the problem');
  t.match(r.stderr, /not (been )?(changed|made)|unchanged/i, 'says the change was not made');
  t.same(configOf(configDir).player, { default: 'mpd' }, 'config.json as it was');

  const j = await runCli(['config', 'set', 'player.default', 'vlc', '--json'], { env });
  t.equal(j.code, 5);
  t.equal(JSON.parse(j.stdout || j.stderr).error?.code, 'audit.unwritable', 'the JSON error names it');

  const u = await runCli(['config', 'unset', 'player.default'], { env });
  t.equal(u.code, 5, `config unset exits 5 (stderr: ${u.stderr.trim()})`);
  t.same(configOf(configDir).player, { default: 'mpd' }, 'still set');
});

t.test('denied: set-secret and rotate-key with an unwritable audit log → exit 5', async (t) => {
  const { env, stateDir } = cliEnv(t);
  breakAudit(stateDir);
  const s = await runCli(['config', 'set-secret', 'mpd.password'], { env, input: 'hunter2-hunter2\n' });
  t.equal(s.code, 5, `set-secret exits 5 (stderr: ${s.stderr.trim()})`);
  t.match(s.stderr, /audit/i);
  t.notMatch(s.stdout + s.stderr, /hunter2/, 'the secret is not echoed');
  const k = await runCli(['config', 'rotate-key'], { env });
  t.equal(k.code, 5, `rotate-key exits 5 (stderr: ${k.stderr.trim()})`);
  t.match(k.stderr, /audit/i);
});
