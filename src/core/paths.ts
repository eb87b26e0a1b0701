import { mkdirSync, statSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './errors.js';

type Env = NodeJS.ProcessEnv;

/** Where config (config.json, secret.key) lives: MEDIAGATE_CONFIG_DIR, else $XDG_CONFIG_HOME/mediagate. */
export function configDir(env: Env = process.env): string {
  if (env.MEDIAGATE_CONFIG_DIR) return env.MEDIAGATE_CONFIG_DIR;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'mediagate');
}

/** Where state (tokens, invites, audit log, last active player) lives: MEDIAGATE_STATE_DIR, else $XDG_STATE_HOME/mediagate. */
export function stateDir(env: Env = process.env): string {
  if (env.MEDIAGATE_STATE_DIR) return env.MEDIAGATE_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'mediagate');
}

const GROUP_OR_WORLD_WRITABLE = 0o022;

/**
 * Refuse a path that others could write to: anyone who can write there can
 * plant tokens or read secrets. Missing paths are fine (nothing to refuse).
 */
export function assertNotWritableByOthers(path: string, kind: 'directory' | 'file'): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (mode & GROUP_OR_WORLD_WRITABLE) {
    const fix = kind === 'directory' ? `chmod 700 '${path}'` : `chmod 600 '${path}'`;
    throw new ConfigError(
      `refusing to use ${kind} ${path}: it is writable by group or others (mode ${(mode & 0o777).toString(8)})`,
      `fix it with: ${fix}`,
      'config.unsafe_permissions',
    );
  }
}

/**
 * Make sure `dir` exists as a private directory (0700) and is not writable by
 * others. A directory we create is created 0700; an existing one that is too
 * open is refused, never silently fixed.
 */
export function ensurePrivateDir(dir: string): string {
  assertNotWritableByOthers(dir, 'directory');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new ConfigError(`cannot create ${dir}: ${(e as Error).message}`, undefined, 'config.unwritable');
  }
  // mkdir's mode is masked by umask; make the leaf exactly 0700 when we own it.
  try {
    const st = statSync(dir);
    if ((st.mode & 0o777) !== 0o700 && typeof process.getuid === 'function' && st.uid === process.getuid()) {
      chmodSync(dir, 0o700);
    }
  } catch { /* stat failure surfaces on first use */ }
  return dir;
}
