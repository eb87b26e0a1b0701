import { localActor } from '../core/actor.js';
import type { AuditEventInput, AuditSink } from '../core/audit/types.js';
import type { Ctx } from './context.js';
import { withAudit } from './handlers/security-audit.js';

/**
 * Record one action of the local CLI user in the audit log and wait for it
 * to reach disk (a CLI process is about to exit). An audit failure is
 * reported on stderr but does not undo or fail the action that happened.
 */
export async function auditLocal(ctx: Ctx, event: Omit<AuditEventInput, 'actor'>): Promise<void> {
  await withAudit(ctx, async (audit) => { audit.append({ actor: localActor(), ...event }); });
}

/**
 * An audit sink that opens the log only when the first event arrives, so
 * read-only commands never touch it; `close` writes what was recorded, with
 * the same failure policy as withAudit.
 */
export function lazyAudit(ctx: Ctx): AuditSink & { close(): Promise<void> } {
  const queued: AuditEventInput[] = [];
  return {
    append(e) { queued.push(e); },
    // Load the log's writer (and node:crypto, fs/promises: ~4 ms) while the
    // action runs; close() then finds it loaded.
    prepare() { import('../core/audit/log.js').catch(() => undefined); },
    async close() {
      if (queued.length === 0) return;
      await withAudit(ctx, async (audit) => { for (const e of queued) audit.append(e); });
    },
  };
}

/**
 * Record that `action` was refused before it reached the core (bad input
 * checked early by the command) — on this machine only: a command for a
 * remote server never reached it. Never fails the command further.
 */
export async function auditRefused(ctx: Ctx, action: string, e: unknown): Promise<void> {
  try {
    const { isRemote } = await import('./handlers/remote.js');
    if (isRemote(ctx)) return;
  } catch { return; }
  await auditLocal(ctx, { action, outcome: 'error', detail: (e as { code?: string }).code ?? 'error' });
}
