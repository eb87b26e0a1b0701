// Headless Chromium as an MPRIS player: it plays a local <audio> page with
// Media Session metadata and registers org.mpris.MediaPlayer2.chromium.instance<PID>
// on the given bus. Its own process group (renderers, utility processes) is
// ended through the browser's PID when the test ends.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sh, tempDir, waitFor } from './proc.js';
import { playerctlList } from './dbus.js';

export const CHROMIUM = '/usr/bin/chromium';

const FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required'];

function page(meta) {
  const json = JSON.stringify(meta).replace(/</g, '\\u003c');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${String(meta.title).replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</title></head><body>
<audio id="a" src="track.ogg" autoplay loop></audio>
<script>navigator.mediaSession.metadata = new MediaMetadata(${json});</script>
</body></html>
`;
}

/**
 * Start Chromium on `bus` playing a 60 s tone with metadata {title, artist,
 * album} (defaults WebTitle/WebArtist/WebAlbum). Waits (≤ 30 s: the first
 * start is slow) until its player is on the bus and playing. Returns
 * {pid, name: 'chromium.instance<PID>', playerctl(...), stop()}.
 */
export async function startChromiumPlayer(t, bus, meta = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (README install line)`);
  const m = { title: 'WebTitle', artist: 'WebArtist', album: 'WebAlbum', ...meta };
  const dir = tempDir(t, 'mg-chromium-');
  sh('sox', ['-n', '-r', '44100', '-c', '2', join(dir, 'track.ogg'), 'synth', '60', 'sine', '330', 'vol', '0.2']);
  writeFileSync(join(dir, 'page.html'), page(m));
  const child = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${join(dir, 'profile')}`, pathToFileURL(join(dir, 'page.html')).href], {
    env: { ...bus.env, HOME: dir }, stdio: 'ignore', detached: true,
  });
  const exited = new Promise((r) => child.once('exit', r));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const kill = (sig) => { try { process.kill(-child.pid, sig); } catch { /* gone */ } };
    if (child.exitCode === null && child.signalCode === null) {
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    kill('SIGKILL'); // what is left of its group (a renderer that outlived the browser)
  };
  t.teardown(stop);
  process.once('exit', () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } });
  const name = `chromium.instance${child.pid}`;
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`chromium exited with ${child.exitCode}`);
    return playerctlList(bus.env).includes(name) && sh('playerctl', ['-p', name, 'status'], { env: bus.env }) === 'Playing';
  }, { timeoutMs: 30000, stepMs: 200, what: 'Chromium playing on the bus' });
  return {
    pid: child.pid,
    name,
    stop,
    /** `playerctl -p chromium.instance<PID> ...args`; trimmed stdout. */
    playerctl: (...a) => sh('playerctl', ['-p', name, ...a], { env: bus.env }),
  };
}
