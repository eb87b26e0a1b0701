// Bringing a killed daemon back where it was: PulseAudio on the same
// runtime dir, a D-Bus session bus on the same socket address. (MPD's
// helper has restart() already.)
import { rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startDaemon, waitFor, sh } from '../../helpers/proc.js';
import { busCall } from '../../helpers/dbus.js';

/** Start PulseAudio again for `pa` (from helpers/pulse.js startPulse), after it was killed. */
export async function restartPulse(t, pa) {
  const dir = dirname(pa.runtime);
  // A killed daemon leaves its pid file and socket; a new one refuses to start beside a stale pid file.
  rmSync(join(pa.runtime, 'pulse'), { recursive: true, force: true });
  const env = { PATH: process.env.PATH, HOME: pa.home, XDG_RUNTIME_DIR: pa.runtime, LANG: 'C' };
  const daemon = startDaemon('pulseaudio', ['--daemonize=no', '--exit-idle-time=-1', '-n', '-F', join(dir, 'pa.pa'), '--use-pid-file=no', '--log-target=stderr'], { env, logFile: join(dir, 'pa2.log') });
  t.teardown(() => daemon.stop());
  await waitFor(() => sh('pactl', ['info'], { env }), { what: 'pulseaudio again' });
  pa.pid = daemon.pid;
  pa.stop = () => daemon.stop();
  return pa;
}

/** Start a dbus-daemon again on the address of `bus` (from helpers/dbus.js startSessionBus), after it was killed. */
export async function restartBus(t, bus) {
  rmSync(bus.socket, { force: true });
  const daemon = startDaemon('dbus-daemon', ['--session', '--nofork', '--nopidfile', `--address=${bus.address}`], { logFile: join(bus.dir, 'dbus2.log') });
  t.teardown(() => daemon.stop());
  await waitFor(() => statSync(bus.socket).isSocket(), { what: 'dbus-daemon socket again' });
  await waitFor(() => busCall(bus.env, 'GetId') !== '', { what: 'dbus-daemon to answer again' });
  bus.pid = daemon.pid;
  bus.stop = () => daemon.stop();
  return bus;
}
