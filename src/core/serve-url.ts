/**
 * Where the running `mediagate serve` is reached, for invite links made by
 * the local CLI. serve writes `serve.json` ({url, pid}) in the state dir when
 * it listens and removes it when it stops; `invite create` (run locally,
 * with no server.publicUrl) builds its link from it — the port and scheme
 * the server really uses (`--port`, TLS) — instead of a default that may
 * point nowhere. A file left behind by a server that died is ignored (its
 * process is gone).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, stateDir } from './paths.js';
import { writeFileAtomic } from './state/atomic.js';

export const SERVE_FILE = 'serve.json';

type Env = NodeJS.ProcessEnv;

function read(env: Env): { url: string; pid: number } | null {
  try {
    const d = JSON.parse(readFileSync(join(stateDir(env), SERVE_FILE), 'utf8')) as { url?: unknown; pid?: unknown };
    if (typeof d.url !== 'string' || !Number.isSafeInteger(d.pid) || (d.pid as number) <= 0) return null;
    const u = new URL(d.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return { url: d.url.replace(/\/+$/, ''), pid: d.pid as number };
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Record the base URL of this serve process (best effort: a read-only state dir only loses the hint). */
export function recordServeUrl(env: Env, url: string, pid = process.pid): void {
  try {
    writeFileAtomic(join(ensurePrivateDir(stateDir(env)), SERVE_FILE), `${JSON.stringify({ url, pid })}\n`);
  } catch { /* invite links then fall back to the default */ }
}

/** Remove the record, if it is still this process's. */
export function clearServeUrl(env: Env, pid = process.pid): void {
  const d = read(env);
  if (d === null || d.pid !== pid) return;
  try { rmSync(join(stateDir(env), SERVE_FILE), { force: true }); } catch { /* gone or read-only */ }
}

/** The base URL of a serve process that is running now, if one recorded it. */
export function runningServeUrl(env: Env): string | undefined {
  const d = read(env);
  return d !== null && alive(d.pid) ? d.url : undefined;
}
