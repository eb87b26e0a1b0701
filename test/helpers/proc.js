// Shared helpers for tests that start real daemons. Every process is tracked
// by PID and stopped when the test (or the process) ends.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set();
process.on('exit', () => { for (const p of live) { try { process.kill(p.pid, 'SIGKILL'); } catch {} } });

/** A fresh temp dir, removed when `t` ends. */
export function tempDir(t, prefix = 'mg-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Poll `fn` until it returns truthy (or doesn't throw) — for daemon start-up only. */
export async function waitFor(fn, { timeoutMs = 10000, stepMs = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timeout waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** Run a command synchronously and return trimmed stdout; throws on non-zero exit. */
export function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000, ...opts }).trim();
}

/**
 * Start a long-running daemon with output to `logFile`. Returns {pid, stop()}.
 * stop() sends SIGTERM, then SIGKILL after 2 s, and waits for exit.
 */
export function startDaemon(cmd, args, { env = process.env, logFile, cwd } = {}) {
  const fd = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', fd, fd], detached: false });
  if (typeof fd === 'number') closeSync(fd);
  const exited = new Promise((r) => child.once('exit', r));
  const handle = {
    pid: child.pid,
    child,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) { live.delete(handle); return; }
      child.kill('SIGTERM');
      const timer = setTimeout(() => { try { child.kill('SIGKILL'); } catch {} }, 2000);
      await exited;
      clearTimeout(timer);
      live.delete(handle);
    },
  };
  live.add(handle);
  return handle;
}

/** Three short test tracks made with sox: a.ogg (SineA/Probe), b.flac (SineB), c.mp3. */
export function makeMusic(dir, seconds = 30) {
  mkdirSync(dir, { recursive: true });
  sh('sox', ['-n', '-r', '44100', '-c', '2', '--add-comment', 'TITLE=SineA', '--add-comment', 'ARTIST=Probe', join(dir, 'a.ogg'), 'synth', String(seconds), 'sine', '440', 'vol', '0.2']);
  sh('sox', ['-n', '-r', '44100', '-c', '2', '--add-comment', 'TITLE=SineB', join(dir, 'b.flac'), 'synth', String(seconds), 'sine', '660', 'vol', '0.2']);
  sh('sox', ['-n', '-r', '44100', '-c', '2', join(dir, 'c.mp3'), 'synth', String(seconds), 'sine', '880', 'vol', '0.2']);
  return dir;
}
