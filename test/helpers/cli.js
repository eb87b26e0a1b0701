// Run the built CLI (bin/run.cjs) as a real process with private config/state dirs.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './proc.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'run.cjs');

/**
 * Private MEDIAGATE_CONFIG_DIR / MEDIAGATE_STATE_DIR for one test, plus an
 * environment without the user's session bus or MPD settings unless given.
 */
export function cliEnv(t, extra = {}) {
  const base = tempDir(t, 'mg-cli-');
  const configDir = join(base, 'config');
  const stateDir = join(base, 'state');
  mkdirSync(configDir, { mode: 0o700 });
  mkdirSync(stateDir, { mode: 0o700 });
  const env = {
    PATH: process.env.PATH,
    HOME: join(base, 'home'),
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    MEDIAGATE_CONFIG_DIR: configDir,
    MEDIAGATE_STATE_DIR: stateDir,
    XDG_RUNTIME_DIR: join(base, 'no-runtime'),
    ...extra,
  };
  return { env, configDir, stateDir, base };
}

/** Run `mediagate ...args`; resolves {code, stdout, stderr}. Never rejects on non-zero exit. */
export function runCli(args, { env, input, timeoutMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`mediagate ${args.join(' ')} timed out`)); }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }); });
    if (input !== undefined) child.stdin.end(input); else child.stdin.end();
  });
}

/**
 * Start `mediagate ARGS` that prints one line per change (`--follow`) and
 * collect what it prints: `lines` (parsed JSON objects with --json, else
 * strings) with their arrival times in `times`; `line(pred, {from, ms, what})`
 * resolves {line, at, index} for the first line from index `from` on that
 * matches, or rejects after `ms` naming what was missing; `nth(n)` is line n
 * (1-based). The process is killed with the test unless it exited before.
 */
export function followCli(t, args, env) {
  const child = spawn(process.execPath, [BIN, ...args], { env });
  t.teardown(() => child.kill('SIGKILL'));
  const json = args.includes('--json');
  const lines = [];
  const times = [];
  const waiters = new Set();
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(json ? JSON.parse(text) : text);
      times.push(performance.now());
      for (const w of [...waiters]) w();
    }
  });
  const line = (pred, { from = 0, ms = 3000, what = 'a matching line' } = {}) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no ${what} within ${ms} ms (have ${JSON.stringify(lines)})`)); }, ms);
    function check() {
      for (let i = from; i < lines.length; i++) {
        if (!pred(lines[i], i)) continue;
        clearTimeout(timer);
        waiters.delete(check);
        resolve({ line: lines[i], at: times[i], index: i });
        return;
      }
    }
    waiters.add(check);
    check();
  });
  const nth = (n, ms = 3000) => line((_, i) => i === n - 1, { ms, what: `line ${n}` }).then((r) => r.line);
  return { child, lines, times, line, nth };
}
