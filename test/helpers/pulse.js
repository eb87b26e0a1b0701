// A private PulseAudio server with a null sink, as in shared/reference/media-stacks.sh.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, startDaemon, waitFor, sh } from './proc.js';

/**
 * Start PulseAudio (null sink `test_sink`, default) with its own HOME and
 * XDG_RUNTIME_DIR. Returns {env, pactl(...args), stop()}; `env` holds what a
 * client needs to reach it and nothing of the user's session.
 */
export async function startPulse(t) {
  const dir = tempDir(t, 'mg-pa-');
  const home = join(dir, 'home');
  const runtime = join(dir, 'xdg');
  mkdirSync(home);
  mkdirSync(runtime, { mode: 0o700 });
  const script = join(dir, 'pa.pa');
  writeFileSync(script, [
    'load-module module-null-sink sink_name=test_sink',
    'load-module module-native-protocol-unix auth-anonymous=1',
    'set-default-sink test_sink',
    '',
  ].join('\n'));
  const env = { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: runtime, LANG: 'C' };
  const daemon = startDaemon('pulseaudio', ['--daemonize=no', '--exit-idle-time=-1', '-n', '-F', script, '--use-pid-file=no', '--log-target=stderr'], { env, logFile: join(dir, 'pa.log') });
  const pactl = (...args) => sh('pactl', args, { env });
  await waitFor(() => pactl('info'), { what: 'pulseaudio' });
  t.teardown(() => daemon.stop());
  return { env, pactl, stop: () => daemon.stop(), pid: daemon.pid, runtime, home };
}

/** The default sink's volume (percent of the first channel) and mute, as pactl reports them. */
export function pulseVolume(pa) {
  const vol = pa.pactl('get-sink-volume', '@DEFAULT_SINK@');
  const mute = pa.pactl('get-sink-mute', '@DEFAULT_SINK@');
  return { level: Number(/(\d+)%/.exec(vol)[1]), muted: /yes/.test(mute) };
}
