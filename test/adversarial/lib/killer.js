// Run the real CLI and kill it with SIGKILL after a chosen delay (or let it
// finish), and a small seeded random source so every kill moment can be
// reproduced from the printed seed.
import { spawn } from 'node:child_process';
import { BIN } from '../../helpers/cli.js';

/** mulberry32: a tiny deterministic PRNG; returns () → [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `mediagate ...args` with `input` on stdin; SIGKILL after `killAfterMs`
 * unless it finished first. Resolves {code, signal, killed, stdout, stderr, pid, ms}.
 * `onSpawn(pid)` lets a caller watch the child's own children meanwhile.
 */
export function runAndKill(args, { env, input, killAfterMs, onSpawn } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = killAfterMs === undefined ? null : setTimeout(() => { killed = child.exitCode === null && child.signalCode === null; child.kill('SIGKILL'); }, killAfterMs);
    const guard = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(guard);
      resolve({ code, signal, killed: killed && signal === 'SIGKILL', stdout, stderr, pid: child.pid, ms: performance.now() - t0 });
    });
    child.stdin.on('error', () => {});
    if (input !== undefined) child.stdin.end(input); else child.stdin.end();
  });
}
