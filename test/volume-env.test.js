// Mixer tools (pactl, wpctl, amixer) run as children of serve and the CLI
// (pactl now only as the fallback of the native PulseAudio client);
// their environment can be read from /proc. They got ours whole —
// MEDIAGATE_SECRET_KEY included when the secret key comes from the
// environment. (Found by the adversarial suite's leak search of child
// processes.) Now they get no MEDIAGATE_* variable at all.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { runTool, toolEnv } from '../dist/core/volume/exec.js';
import { watchMixer } from '../dist/core/volume/watch.js';
import { startPulse } from './helpers/pulse.js';
import { waitFor } from './helpers/proc.js';

const KEY = randomBytes(32).toString('base64');

function childrenOf(pid) {
  const out = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const st = readFileSync(`/proc/${n}/stat`, 'utf8');
      if (Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(n));
    } catch { /* gone */ }
  }
  return out;
}

t.test('toolEnv: everything but MEDIAGATE_*, in the C locale', async (t) => {
  const env = toolEnv({ PATH: '/usr/bin', XDG_RUNTIME_DIR: '/run/user/1', MEDIAGATE_SECRET_KEY: KEY, MEDIAGATE_STATE_DIR: '/x', mediagate_other: 'y', LANG: 'de_DE.UTF-8' });
  t.same(env, { PATH: '/usr/bin', XDG_RUNTIME_DIR: '/run/user/1', LC_ALL: 'C', LANG: 'C' }, 'allowed: PATH and the sound server location pass; denied: MEDIAGATE_* do not');
  const out = await runTool('env', [], 5000, { PATH: process.env.PATH, MEDIAGATE_SECRET_KEY: KEY });
  t.notMatch(out, /MEDIAGATE_/, 'a tool run by runTool sees no MEDIAGATE_* variable');
  t.notOk(out.includes(KEY), 'nor the key');
  t.match(out, /^PATH=/m, 'but does get PATH');
});

t.test('the watch of a PulseAudio socket starts no child; the pactl subscribe fallback has no MEDIAGATE_SECRET_KEY', async (t) => {
  const pa = await startPulse(t, { tcp: true });
  const seen = [];
  const native = watchMixer('pulse', { ...pa.env, MEDIAGATE_SECRET_KEY: KEY }, (r) => seen.push(r));
  t.teardown(native);
  await waitFor(() => seen.length > 0, { what: 'the native watch\'s first reading' });
  t.same(childrenOf(process.pid).filter((p) => /pactl/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8'))), [], 'the native watch runs no pactl (no child environment to leak)');
  native();

  // a TCP server is watched through pactl subscribe
  const stop = watchMixer('pulse', { PATH: process.env.PATH, HOME: pa.home, PULSE_SERVER: `tcp:127.0.0.1:${pa.tcpPort}`, MEDIAGATE_SECRET_KEY: KEY }, () => {});
  t.teardown(stop);
  const pid = await waitFor(() => childrenOf(process.pid).find((p) => /pactl\0subscribe/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8'))), { what: 'pactl subscribe' });
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
  t.notOk(environ.includes(KEY), 'denied: the key is not in its environment (was: inherited)');
  t.notMatch(environ, /MEDIAGATE_/, 'no MEDIAGATE_* variable at all');
  t.match(environ, /PULSE_SERVER=/, 'allowed: it still finds the sound server');
});
