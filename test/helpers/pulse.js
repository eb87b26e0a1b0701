// A private PulseAudio server with a null sink, as in shared/reference/media-stacks.sh.
import { mkdirSync, writeFileSync, chownSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir, startDaemon, waitFor, sh } from './proc.js';
import { freePort } from './mpd.js';

/** The unprivileged user the suite shares (COORDINATION.md): created if missing. */
export function testUser(name = 'mgvlc') {
  try { execFileSync('id', ['-u', name], { stdio: 'ignore' }); } catch { execFileSync('useradd', ['-m', name]); }
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { name, uid, gid };
}

/**
 * Start PulseAudio (null sink `test_sink`, default) with its own HOME and
 * XDG_RUNTIME_DIR. Returns {env, pactl(...args), stop()}; `env` holds what a
 * client needs to reach it and nothing of the user's session.
 * Options:
 *   tcp: also listen on 127.0.0.1:<random port> (returned as `tcpPort`), anonymous;
 *   cookieAuth: run as the unprivileged test user with cookie authentication
 *     on its unix socket (no anonymous access; root's credentials are another
 *     user's, so only the cookie admits it). The cookie file is `cookieFile`.
 */
export async function startPulse(t, { tcp = false, cookieAuth = false } = {}) {
  const dir = tempDir(t, 'mg-pa-');
  const home = join(dir, 'home');
  const runtime = join(dir, 'xdg');
  mkdirSync(home);
  mkdirSync(runtime, { mode: 0o700 });
  const tcpPort = tcp ? await freePort() : undefined;
  const cookieFile = cookieAuth ? join(dir, 'cookie') : undefined;
  const script = join(dir, 'pa.pa');
  writeFileSync(script, [
    'load-module module-null-sink sink_name=test_sink',
    cookieAuth ? `load-module module-native-protocol-unix auth-anonymous=0 auth-cookie=${cookieFile}` : 'load-module module-native-protocol-unix auth-anonymous=1',
    ...(tcp ? [`load-module module-native-protocol-tcp auth-anonymous=1 listen=127.0.0.1 port=${tcpPort}`] : []),
    'set-default-sink test_sink',
    '',
  ].join('\n'));
  const env = { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: runtime, LANG: 'C' };
  const args = ['--daemonize=no', '--exit-idle-time=-1', '-n', '-F', script, '--use-pid-file=no', '--log-target=stderr'];
  let daemon;
  if (cookieAuth) {
    const u = testUser();
    writeFileSync(cookieFile, randomBytes(256), { mode: 0o600 });
    for (const p of [dir, home, runtime, cookieFile, script]) chownSync(p, u.uid, u.gid);
    chmodSync(dir, 0o755);
    // setpriv execs PulseAudio itself (the PID is the daemon's), as the test user
    daemon = startDaemon('setpriv', ['--reuid', String(u.uid), '--regid', String(u.gid), '--init-groups', '--', 'pulseaudio', ...args], { env, logFile: join(dir, 'pa.log') });
  } else {
    daemon = startDaemon('pulseaudio', args, { env, logFile: join(dir, 'pa.log') });
  }
  // libpulse (pactl) refuses a runtime dir owned by another user: as root, reach the test user's server by PULSE_SERVER
  const clientEnv = cookieAuth ? { PATH: process.env.PATH, LANG: 'C', HOME: dir, XDG_RUNTIME_DIR: join(dir, 'root-xdg'), PULSE_SERVER: `unix:${join(runtime, 'pulse', 'native')}`, PULSE_COOKIE: cookieFile } : env;
  if (cookieAuth) mkdirSync(clientEnv.XDG_RUNTIME_DIR, { mode: 0o700 });
  const pactl = (...a) => sh('pactl', a, { env: clientEnv });
  await waitFor(() => pactl('info'), { what: 'pulseaudio' });
  t.teardown(() => daemon.stop());
  return { env, clientEnv, pactl, stop: () => daemon.stop(), pid: daemon.pid, runtime, home, dir, tcpPort, cookieFile, socket: join(runtime, 'pulse', 'native') };
}

/** The default sink's volume (percent of the first channel) and mute, as pactl reports them. */
export function pulseVolume(pa) {
  const vol = pa.pactl('get-sink-volume', '@DEFAULT_SINK@');
  const mute = pa.pactl('get-sink-mute', '@DEFAULT_SINK@');
  return { level: Number(/(\d+)%/.exec(vol)[1]), muted: /yes/.test(mute) };
}

/** Every channel of the default sink as pactl prints it: [{raw, percent}] in channel order. */
export function pulseChannels(pa) {
  const line = pa.pactl('get-sink-volume', '@DEFAULT_SINK@').split('\n')[0];
  return [...line.matchAll(/:\s*(\d+)\s*\/\s*(\d+)%/g)].map((m) => ({ raw: Number(m[1]), percent: Number(m[2]) }));
}
