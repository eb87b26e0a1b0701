import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, stateDir } from '../paths.js';
import { writeFileAtomic } from '../state/atomic.js';

const FILE = 'last-player.json';

/** The player mediagate last saw become active (controlled, or started playing under --follow). */
export function readLastActive(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const v = JSON.parse(readFileSync(join(stateDir(env), FILE), 'utf8')) as { name?: unknown };
    return typeof v.name === 'string' ? v.name : undefined;
  } catch {
    return undefined;
  }
}

/** Remember `name` as the most recently active player. Best effort: never fails the command. */
export function writeLastActive(env: NodeJS.ProcessEnv, name: string, now: Date): void {
  try {
    if (readLastActive(env) === name) return;
    const dir = ensurePrivateDir(stateDir(env));
    writeFileAtomic(join(dir, FILE), `${JSON.stringify({ name, at: now.toISOString() })}\n`);
  } catch { /* a read-only state dir must not break playback control */ }
}
