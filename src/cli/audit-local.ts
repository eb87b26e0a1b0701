import { localActor } from '../core/actor.js';
import type { AuditEventInput } from '../core/audit/types.js';
import type { Ctx } from './context.js';

/**
 * Record one action of the local CLI user in the audit log and wait for it
 * to reach disk (a CLI process is about to exit). An audit failure is
 * reported on stderr but does not undo or fail the action that happened.
 */
export async function auditLocal(ctx: Ctx, event: Omit<AuditEventInput, 'actor'>): Promise<void> {
  try {
    const { openAuditLog } = await import('../core/audit/log.js');
    const log = openAuditLog(ctx.env);
    log.append({ actor: localActor(), ...event });
    await log.close();
  } catch (e) {
    ctx.stderr.write(`mediagate: warning: could not write the audit log: ${(e as Error).message}\n`);
  }
}
