// A real MPD (null output, software mixer) on a free port and a unix socket,
// private to one test; and a TCP server that accepts and never answers.
import net from 'node:net';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitFor, startDaemon, makeMusic, sh } from './proc.js';

/** A TCP port nothing listens on right now (the OS picks it). */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function conf({ dir, musicDir, port, socketPath, password }) {
  return [
    `music_directory "${musicDir}"`,
    `playlist_directory "${dir}"`,
    `db_file "${join(dir, 'db')}"`,
    `state_file "${join(dir, 'state')}"`,
    'bind_to_address "127.0.0.1"',
    `bind_to_address "${socketPath}"`,
    `port "${port}"`,
    'auto_update "no"',
    'zeroconf_enabled "no"',
    ...(password ? [`password "${password}@read,add,control,admin"`] : []),
    'audio_output {',
    '  type "null"',
    '  name "null"',
    '  mixer_type "software"',
    '}',
    '',
  ].join('\n');
}

/**
 * Start MPD for test `t` with the three sox tracks (or `musicDir`), update
 * its database and queue everything. Stopped (by PID) when `t` ends.
 * Returns {host, port, socketPath, password, dir, pid, mpc(...args), stop(), restart()}.
 */
export async function startMpd(t, { musicDir, password } = {}) {
  const dir = tempDir(t, 'mg-mpd-');
  const music = musicDir ?? makeMusic(join(dir, 'music'));
  const socketPath = join(dir, 'socket');
  const log = join(dir, 'log');
  const confFile = join(dir, 'mpd.conf');
  const host = '127.0.0.1';

  // A port picked now may be taken by a parallel test before MPD binds it: retry.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(host);
    writeFileSync(confFile, conf({ dir, musicDir: music, port, socketPath, password }));
    const daemon = startDaemon('mpd', ['--no-daemon', '--stderr', confFile], { logFile: log });
    t.teardown(() => daemon.stop());
    const hostArg = password ? `${password}@${host}` : host;
    const mpc = (...args) => sh('mpc', ['-h', hostArg, '-p', String(port), ...args]);
    let exited = false;
    daemon.exited.then(() => { exited = true; });
    try {
      await waitFor(() => {
        if (exited) throw new Error('mpd exited');
        mpc('status');
        return true;
      }, { timeoutMs: 10000, stepMs: 25, what: 'mpd to answer' });
    } catch (e) {
      await daemon.stop();
      if (attempt < 3) continue;
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      throw new Error(`mpd did not start: ${e.message}\n${text}`);
    }
    mpc('-q', 'update', '--wait');
    mpc('-q', 'add', '/');
    const handle = { host, port, socketPath, password, dir, pid: daemon.pid, mpc, stop: () => current.stop() };
    let current = daemon;
    /** Stop MPD and start it again on the same port and socket (for reconnect tests). */
    handle.restart = async () => {
      await current.stop();
      current = startDaemon('mpd', ['--no-daemon', '--stderr', confFile], { logFile: log });
      const d = current;
      t.teardown(() => d.stop());
      handle.pid = d.pid;
      await waitFor(() => { mpc('status'); return true; }, { timeoutMs: 10000, stepMs: 25, what: 'mpd to answer again' });
    };
    return handle;
  }
}

/**
 * A TCP server on a free port that accepts connections and never writes
 * (or writes only `greeting`, then goes silent). Counts open connections so a
 * test can check the client let go. Closed when `t` ends.
 */
export async function startHungServer(t, { greeting } = {}) {
  const sockets = new Set();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.on('data', () => {}); // read and ignore
    if (greeting) s.write(greeting);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  server.unref();
  const { port } = server.address();
  const close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  t.teardown(close);
  return {
    host: '127.0.0.1',
    port,
    get open() { return sockets.size; },
    get accepted() { return accepted; },
    close,
  };
}
