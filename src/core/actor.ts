import { userInfo } from 'node:os';
import type { AuditActor } from './audit/types.js';

/** The local CLI user: acts as admin, guarded by file permissions. */
export function localActor(): AuditActor {
  let name = 'unknown';
  try { name = userInfo().username; } catch { /* no passwd entry */ }
  return { id: `local:${name}`, label: name };
}
