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
