// Shared helpers for the security tests: private config/state dirs, an audit
// sink that records, a settable clock, and a runner for test/fixtures/security-child.js.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './proc.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'security-child.js');

export function securityEnv(t) {
  const base = tempDir(t, 'mg-sec-');
  const configDir = join(base, 'config');
  const stateDir = join(base, 'state');
  mkdirSync(configDir, { mode: 0o700 });
  mkdirSync(stateDir, { mode: 0o700 });
  const env = { PATH: process.env.PATH, HOME: join(base, 'home'), MEDIAGATE_CONFIG_DIR: configDir, MEDIAGATE_STATE_DIR: stateDir };
  return { env, configDir, stateDir, base };
}

export function recordingAudit() {
  const events = [];
  return { events, append(e) { events.push(structuredClone(e)); } };
}

/** A clock tests move by hand. */
export function clock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let ms = start;
  const now = () => new Date(ms);
  now.advance = (d) => { ms += d; };
  now.set = (v) => { ms = v; };
  return now;
}

/** Run the child script; resolves {code, signal, stdout, stderr, json}. */
export function runChild(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`child ${args[0]} timed out`)); }, 60000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let json;
      try { json = JSON.parse(stdout.trim().split('\n').pop()); } catch { /* none */ }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
}

/**
 * The headers every API answer must carry, written out literally (not read
 * from the code under test) so that a change to them fails the tests.
 */
export const API_SECURITY_HEADERS = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-site',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'cache-control': 'no-store',
});
