/**
 * The first start of `mediagate serve` on a machine with no admin token
 * mints one (label `admin (first start)`) so the owner can use the admin API
 * at once, and the caller prints it ONCE. A marker in the state dir
 * (serve-first-start.json, 0600) records that this happened: later starts
 * never mint or print again — also not after the owner revoked every admin
 * token on purpose (they get a one-line note instead). A first start that
 * finds an admin token (made with the CLI) mints nothing and sets the marker. Only the token's hash
 * is stored (tokens.json); the marker holds its id, never the secret.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditActor } from '../core/audit/types.js';
import { ensurePrivateDir } from '../core/paths.js';
import { writeFileAtomic } from '../core/state/atomic.js';
import type { CreatedToken, TokenStore } from '../core/tokens.js';

export const FIRST_START_FILE = 'serve-first-start.json';
export const FIRST_ADMIN_LABEL = 'admin (first start)';

export type FirstStart =
  | { kind: 'minted'; token: CreatedToken }
  | { kind: 'has-admin' }
  /** Minted before, and no admin token is active now. */
  | { kind: 'no-admin' };

function markerExists(dir: string): boolean {
  try { readFileSync(join(dir, FIRST_START_FILE)); return true; } catch { return false; }
}

export async function firstStart(tokens: TokenStore, stateDir: string, actor: AuditActor, now: () => Date = () => new Date()): Promise<FirstStart> {
  const hasAdmin = tokens.list().some((t) => t.scope === 'admin' && t.status === 'active');
  const first = !markerExists(stateDir);
  const mark = (tokenId: string | null) => {
    ensurePrivateDir(stateDir);
    writeFileAtomic(join(stateDir, FIRST_START_FILE), `${JSON.stringify({ firstStartAt: now().toISOString(), mintedTokenId: tokenId })}\n`);
  };
  if (hasAdmin) {
    if (first) mark(null);
    return { kind: 'has-admin' };
  }
  if (!first) return { kind: 'no-admin' };
  const token = await tokens.create({ label: FIRST_ADMIN_LABEL, scope: 'admin' }, { actor });
  mark(token.id);
  return { kind: 'minted', token };
}
