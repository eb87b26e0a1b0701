// LiveState's volume (what serve answers GET /api/volume and WebSocket
// volume pushes from) when PulseAudio is killed and restarted. Before, the
// snapshot kept the last volume of a server that was gone — GET /api/volume
// answered 200 with it for as long as PulseAudio stayed down — and after a
// restart nothing re-read it until the next change event. (Found by the
// adversarial suite's fault tests.)
import t from 'tap';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LiveState } from '../dist/core/live.js';
import { PlayerHub } from '../dist/core/players/hub.js';
import { Config } from '../dist/core/config/store.js';
import { startPulse } from './helpers/pulse.js';
import { startDaemon, waitFor, sh } from './helpers/proc.js';
import { cliEnv } from './helpers/cli.js';

t.test('the volume snapshot follows PulseAudio going away and coming back', async (t) => {
  const pa = await startPulse(t);
  const { env: base } = cliEnv(t, { XDG_RUNTIME_DIR: pa.runtime, MPD_PORT: '1' });
  const env = { ...base };
  const config = Config.load(env);
  const hub = new PlayerHub({ env, config });
  const live = new LiveState(hub, { env, config, volume: true });
  t.teardown(() => live.stop().then(() => hub.close()));
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '37%');
  await live.start();
  t.match(live.snapshot().volume, { level: 37, backend: 'pulse' }, 'allowed: the volume while PulseAudio runs');
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '38%');
  await waitFor(() => live.snapshot().volume?.level === 38, { timeoutMs: 3000, what: 'a change event' });

  process.kill(pa.pid, 'SIGKILL');
  const gone = await waitFor(() => live.snapshot().volume === null, { timeoutMs: 5000, stepMs: 50, what: 'the volume to be dropped' }).then(() => true, () => false);
  t.ok(gone, 'denied: once PulseAudio is gone the snapshot holds no volume (was: the last one, forever)');

  // PulseAudio again, on the same runtime dir, with the volume moved while nobody watched.
  rmSync(join(pa.runtime, 'pulse'), { recursive: true, force: true });
  const paEnv = { PATH: process.env.PATH, HOME: pa.home, XDG_RUNTIME_DIR: pa.runtime, LANG: 'C' };
  const again = startDaemon('pulseaudio', ['--daemonize=no', '--exit-idle-time=-1', '-n', '-F', join(dirname(pa.runtime), 'pa.pa'), '--use-pid-file=no', '--log-target=stderr'],
    { env: paEnv, logFile: join(dirname(pa.runtime), 'pa2.log') });
  t.teardown(() => again.stop());
  await waitFor(() => sh('pactl', ['info'], { env: paEnv }), { what: 'pulseaudio again' });
  sh('pactl', ['set-sink-volume', '@DEFAULT_SINK@', '64%'], { env: paEnv });
  const t0 = Date.now();
  const back = await waitFor(() => live.snapshot().volume?.level === 64, { timeoutMs: 15000, stepMs: 50, what: 'the volume back' }).then(() => true, () => false);
  t.ok(back, `after the restart the snapshot reads the new server by itself (${Date.now() - t0} ms)`);
  sh('pactl', ['set-sink-volume', '@DEFAULT_SINK@', '22%'], { env: paEnv });
  const follows = await waitFor(() => live.snapshot().volume?.level === 22, { timeoutMs: 3000, stepMs: 50, what: 'a change event again' }).then(() => true, () => false);
  t.ok(follows, 'and follows its change events again');
});
