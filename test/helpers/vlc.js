// VLC with its MPRIS control (`cvlc --control dbus`) on a private D-Bus bus.
// VLC refuses to run as root, so the bus and VLC run as the unprivileged
// user `mgvlc` (created here if missing, shared by every helper that needs
// one), through setpriv — which execs, so each PID is the daemon's own and
// it is stopped by that PID. The bus lets this (root) test process connect
// too, so the commands under test and playerctl reach VLC on it.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeMusic, sh, startDaemon, tempDir, waitFor } from './proc.js';
import { busCall, playerctlList } from './dbus.js';

export const VLC_USER = 'mgvlc';

/** uid and gid of `mgvlc`, creating the user (idempotently) when it is missing. */
export function vlcUser() {
  const ids = () => ({ uid: Number(sh('id', ['-u', VLC_USER])), gid: Number(sh('id', ['-g', VLC_USER])) });
  try { return ids(); } catch { /* not there yet */ }
  try {
    execFileSync('useradd', ['-m', VLC_USER], { stdio: 'ignore' });
  } catch (e) {
    if (e.status !== 9) throw e; // 9: another test created it meanwhile
  }
  return ids();
}

/** `cmd args` as mgvlc (setpriv execs: the PID stays the command's). */
function asVlcUser(user, cmd, args) {
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', cmd, ...args]];
}

function busConfig(socket) {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="${VLC_USER}"/>
    <allow user="root"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

/**
 * A bus owned by mgvlc that root may use too. Returns the same shape as
 * startSessionBus: {address, socket, dir, env, pid, stop()}; `dir` is
 * readable by mgvlc (put media there).
 */
export async function startVlcBus(t) {
  const user = vlcUser();
  const dir = tempDir(t, 'mg-vlc-');
  chmodSync(dir, 0o755);
  const run = join(dir, 'run');
  mkdirSync(run, { mode: 0o755 });
  chownSync(run, user.uid, user.gid);
  const socket = join(run, 'bus');
  const conf = join(dir, 'bus.conf');
  writeFileSync(conf, busConfig(socket), { mode: 0o644 });
  const [cmd, args] = asVlcUser(user, 'dbus-daemon', [`--config-file=${conf}`, '--nofork', '--nopidfile']);
  const daemon = startDaemon(cmd, args, { logFile: join(dir, 'dbus.log') });
  t.teardown(() => daemon.stop());
  const address = `unix:path=${socket}`;
  const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: address };
  await waitFor(() => statSync(socket).isSocket(), { what: 'the mgvlc dbus-daemon socket' });
  await waitFor(() => busCall(env, 'GetId') !== '', { what: 'the mgvlc dbus-daemon to answer' });
  return { address, socket, dir, env, pid: daemon.pid, user, stop: () => daemon.stop() };
}

/**
 * `cvlc --no-video --aout=dummy --intf dummy --control dbus FILES` as mgvlc
 * on `bus` (from startVlcBus); `files` default to the sox tracks a.ogg and
 * b.flac in the bus dir. Waits until both its names are on the bus. Returns
 * {pid, name: 'vlc', instance: 'vlc.instance<PID>', files, playerctl(...), stop()}.
 * With --aout=dummy VLC reports volume 0 and ignores volume changes.
 */
export async function startVlc(t, bus, files) {
  const home = join(bus.dir, 'home');
  mkdirSync(home, { recursive: true, mode: 0o755 });
  chownSync(home, bus.user.uid, bus.user.gid);
  const tracks = files ?? (() => { const m = makeMusic(join(bus.dir, 'music')); chmodSync(m, 0o755); return [join(m, 'a.ogg'), join(m, 'b.flac')]; })();
  const [cmd, args] = asVlcUser(bus.user, 'cvlc', ['--no-video', '--aout=dummy', '--intf', 'dummy', '--control', 'dbus', ...tracks]);
  const env = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', DBUS_SESSION_BUS_ADDRESS: bus.address };
  const vlc = startDaemon(cmd, args, { env, logFile: join(bus.dir, 'vlc.log'), cwd: home });
  t.teardown(() => vlc.stop());
  const instance = `vlc.instance${vlc.pid}`;
  await waitFor(() => {
    if (vlc.child.exitCode !== null) throw new Error(`vlc exited with ${vlc.child.exitCode}`);
    const names = playerctlList(bus.env);
    return names.includes('vlc') && names.includes(instance);
  }, { timeoutMs: 20000, what: 'VLC on the bus (vlc and its instance name)' });
  return {
    pid: vlc.pid,
    name: 'vlc',
    instance,
    files: tracks,
    stop: () => vlc.stop(),
    /** `playerctl -p vlc ...args` on the bus; trimmed stdout. */
    playerctl: (...a) => sh('playerctl', ['-p', 'vlc', ...a], { env: bus.env }),
  };
}
