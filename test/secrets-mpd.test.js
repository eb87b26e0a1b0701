// The MPD password as a sealed secret, end to end: a real MPD that requires a
// password (null output), `config set-secret mpd.password` fed on stdin, then
// the CLI's status and pause work through it — and without it (or with a
// wrong one) they fail clearly, never echoing the password.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startMpd } from './helpers/mpd.js';
import { cliEnv, runCli } from './helpers/cli.js';

const PASSWORD = 'Mpd-E2E-Pass-2468';
const WRONG = 'Wrong-E2E-Pass-1357';

const mpcState = (mpd) => {
  const m = /^\[(playing|paused)\]/m.exec(mpd.mpc('status'));
  return m ? m[1] : 'stopped';
};

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

t.test('mpd.password sealed in config drives a password-protected MPD; missing or wrong fails clearly', async (t) => {
  const mpd = await startMpd(t, { password: PASSWORD });
  const { env, base } = cliEnv(t);
  const outputs = [];
  const mg = async (args, input) => {
    const r = await runCli(args, { env, input });
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  t.equal((await mg(['config', 'set', 'mpd.host', mpd.host])).code, 0);
  t.equal((await mg(['config', 'set', 'mpd.port', String(mpd.port)])).code, 0);

  // Denied: no password stored — MPD refuses, and the message says how to give one.
  const none = await mg(['status', '--player', 'mpd', '--json']);
  t.not(none.code, 0, 'status fails without the password');
  t.match(none.stderr, /permission|password/i);
  t.match(none.stderr, /config set-secret mpd\.password/, 'the hint names set-secret');
  const nonePause = await mg(['pause', '--player', 'mpd']);
  t.not(nonePause.code, 0, 'pause fails without the password');

  // Allowed: the password sealed via stdin; status and pause now work.
  const set = await mg(['config', 'set-secret', 'mpd.password'], `${PASSWORD}\n`);
  t.equal(set.code, 0, set.stderr);
  const cfg = readFileSync(join(env.MEDIAGATE_CONFIG_DIR, 'config.json'), 'utf8');
  t.match(JSON.parse(cfg).mpd.password, /^nacl:v1:/, 'stored sealed');
  const st = await mg(['status', '--player', 'mpd', '--json']);
  t.equal(st.code, 0, st.stderr);
  t.match(JSON.parse(st.stdout), { player: 'mpd', status: 'stopped' });
  t.equal((await mg(['play', '--player', 'mpd'])).code, 0);
  t.equal(mpcState(mpd), 'playing');
  const p = await mg(['pause', '--player', 'mpd']);
  t.equal(p.code, 0, p.stderr);
  t.equal(mpcState(mpd), 'paused', 'pause reached MPD through the sealed password');

  // Still works after the key is rotated.
  t.equal((await mg(['config', 'rotate-key'])).code, 0);
  t.equal((await mg(['play', '--player', 'mpd'])).code, 0);
  t.equal(mpcState(mpd), 'playing', 'works after rotate-key');

  // Denied: a wrong password is rejected by MPD, clearly, and not echoed.
  t.equal((await mg(['config', 'set-secret', 'mpd.password'], `${WRONG}\n`)).code, 0);
  const wrong = await mg(['pause', '--player', 'mpd']);
  t.not(wrong.code, 0);
  t.match(wrong.stderr, /rejected the password/);
  t.equal(mpcState(mpd), 'playing', 'nothing changed');

  // Neither password appears in anything printed, nor in a file under the config and state dirs.
  for (const o of outputs) {
    t.notOk(o.includes(PASSWORD) || o.includes(WRONG), 'no password printed');
  }
  for (const f of filesUnder(base)) {
    const text = readFileSync(f, 'latin1');
    if (text.includes(PASSWORD) || text.includes(WRONG)) t.fail(`${f} holds a password in plain text`);
  }
});
