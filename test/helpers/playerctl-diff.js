// Run the real playerctl and `mediagate playerctl` on the same arguments and
// compare what they print, byte for byte: stdout, stderr, exit code.
// Everything is spawned asynchronously: the test process itself is a D-Bus
// peer (the fake players) and must keep answering while the tools run.
import { spawn } from 'node:child_process';
import { BIN } from './cli.js';

/** Run a program; resolves {code, stdout, stderr} (never rejects on a non-zero exit). */
export function run(cmd, args, env, { timeoutMs = 20000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${cmd} ${args.join(' ')} timed out`)); }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

export const playerctl = (args, env, opts) => run('playerctl', args, env, opts);
export const mediagatePlayerctl = (args, env, opts) => run(process.execPath, [BIN, 'playerctl', ...args], env, opts);

/** What differs between two results ([] when they are the same byte for byte). */
export function differences(expected, actual) {
  const out = [];
  for (const k of ['stdout', 'stderr', 'code']) {
    if (expected[k] !== actual[k]) out.push({ what: k, playerctl: expected[k], mediagate: actual[k] });
  }
  return out;
}

/** Shell-quoted, for messages. */
export const shown = (args) => args.map((a) => (/^[\w%,.:=/+-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');

/**
 * Start a `--follow` run and collect its lines. `lines` grows as they
 * arrive; `settled(n, quietMs, since)` resolves once there are at least `n`
 * lines and none came for `quietMs` (counted from `since` at the earliest,
 * e.g. the moment a change was made).
 */
export function follower(t, cmd, args, env) {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  const lines = [];
  let last = Date.now();
  let buf = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1); last = Date.now(); }
  });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const settled = async (n, quietMs = 600, since = 0, timeoutMs = 8000) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (lines.length >= n && Date.now() - Math.max(last, since) >= quietMs) return lines.slice();
      await new Promise((r) => setTimeout(r, 50));
    }
    return lines.slice();
  };
  return { child, lines, settled, stderr: () => stderr };
}
