// A real `mediagate serve` on PulseAudio with no pactl on its PATH: its
// volume watch and its volume routes can only be the native client.
// Changes made with pactl reach WebSocket subscribers, a PUT reaches the
// server (checked with pactl), and serve starts no child process for it.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { startPulse, pulseVolume } from './helpers/pulse.js';
import { serveEnv, startServe, cliToken, api } from './helpers/serve.js';
import { connect } from './helpers/ws.js';
import { noToolsPath } from './helpers/pulse-suite.js';

function childrenOf(pid) {
  const out = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const st = readFileSync(`/proc/${n}/stat`, 'utf8');
      if (Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(readFileSync(`/proc/${n}/cmdline`, 'utf8').replace(/\0/g, ' ').trim());
    } catch { /* gone */ }
  }
  return out;
}

t.test('serve follows and sets PulseAudio natively', async (t) => {
  const pa = await startPulse(t);
  const { env } = await serveEnv(t, { XDG_RUNTIME_DIR: pa.runtime, PATH: noToolsPath(t) }, { 'volume.backend': 'pulse' });
  const tok = (await cliToken(env, 'pulse-serve', 'control')).token;
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '30%');
  const srv = await startServe(t, env);
  const c = await connect(`${srv.url.replace(/^http/, 'ws')}/api/ws`, { token: tok });
  t.teardown(() => c.close());
  c.send({ type: 'subscribe' });
  const first = await c.next((m) => m.type === 'volume', 5000, 'the first volume message');
  t.match(first.data, { level: 30, muted: false, backend: 'pulse' }, 'the current volume, read without pactl');
  for (const level of [41, 52, 63]) {
    pa.pactl('set-sink-volume', '@DEFAULT_SINK@', `${level}%`);
    const m = await c.next((x) => x.type === 'volume' && x.data?.level === level, 5000, `volume ${level}`);
    t.equal(m.data.level, level, `pactl ${level}% → pushed`);
  }
  pa.pactl('set-sink-mute', '@DEFAULT_SINK@', '1');
  await c.next((x) => x.type === 'volume' && x.data?.muted === true, 5000, 'muted');
  t.pass('pactl mute → pushed');
  const put = await api(srv, 'PUT', '/api/volume', { token: tok, json: { level: 25, muted: false } });
  t.equal(put.status, 200, JSON.stringify(put.json));
  t.same(pulseVolume(pa), { level: 25, muted: false }, 'PUT /api/volume reached PulseAudio');
  await c.next((x) => x.type === 'volume' && x.data?.level === 25 && x.data.muted === false, 5000, 'the PUT pushed back');
  t.same(childrenOf(srv.pid), [], 'serve runs no child process for the volume (was: pactl subscribe, and two pactl per change)');
  t.equal((await srv.stop()).code, 0);
});
