/**
 * This machine's identity in Home Assistant: a random id made once and kept
 * in the state dir (`mqtt-device.json`), so the device stays the same device
 * when the host name, or `mqtt.node`, changes.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, stateDir } from '../paths.js';
import { writeFileAtomic } from '../state/atomic.js';

const FILE = 'mqtt-device.json';

export function deviceId(env: NodeJS.ProcessEnv): string {
  const path = join(stateDir(env), FILE);
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { id?: unknown };
    if (typeof v.id === 'string' && /^[0-9a-f]{16}$/.test(v.id)) return v.id;
  } catch { /* first start, or unreadable: make one */ }
  const id = randomBytes(8).toString('hex');
  writeFileAtomic(join(ensurePrivateDir(stateDir(env)), FILE), `${JSON.stringify({ id })}\n`);
  return id;
}
