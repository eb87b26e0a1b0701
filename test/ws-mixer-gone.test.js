// WebSocket subscribers are told when the system mixer goes away: a real
// `serve` on a real PulseAudio, which the test then kills; every subscriber
// gets {"type":"volume","data":null} (what a new subscriber is sent while
// there is no mixer), instead of keeping the last level as if it still held.
import t from 'tap';
import { startPulse } from './helpers/pulse.js';
import { cliToken, serveEnv, startServe } from './helpers/serve.js';
import { connect } from './helpers/ws.js';

t.test('the mixer disappears → volume null on every subscriber', async (t) => {
  const pa = await startPulse(t);
  const { env } = await serveEnv(t, { XDG_RUNTIME_DIR: pa.runtime });
  const tok = (await cliToken(env, 'watcher', 'read')).token;
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '40%');
  const srv = await startServe(t, env);
  const url = `${srv.url.replace(/^http/, 'ws')}/api/ws`;
  const subs = [];
  for (let i = 0; i < 3; i++) {
    const c = await connect(url, { token: tok });
    t.teardown(() => c.close());
    c.send({ type: 'subscribe' });
    const first = await c.next((m) => m.type === 'volume', 5000, 'the first volume message');
    t.equal(first.data?.level, 40, `subscriber ${i + 1}: the level while PulseAudio runs`);
    subs.push(c);
  }
  await pa.stop();
  for (const [i, c] of subs.entries()) {
    const gone = await c.next((m) => m.type === 'volume', 10000, 'a volume message after PulseAudio stopped');
    t.equal(gone.data, null, `subscriber ${i + 1}: told the mixer is gone`);
  }
  const late = await connect(url, { token: tok });
  t.teardown(() => late.close());
  late.send({ type: 'subscribe' });
  t.equal((await late.next((m) => m.type === 'volume', 5000)).data, null, 'a new subscriber is sent the same');
  t.equal((await srv.stop()).code, 0);
});
