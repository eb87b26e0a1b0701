import type { AuditSink } from '../../core/audit/types.js';
import { nullAudit } from '../../core/audit/types.js';
import type { Ctx } from '../context.js';

/**
 * Run `fn` with the audit log open and close it (flushing every event to
 * disk) before the command returns: a CLI process is about to exit. This is
 * the one place the token/invite/secret commands open the audit log. If the
 * log cannot be opened or flushed, the action still happens and a warning
 * goes to stderr (same policy as auditLocal for the other commands).
 */
export async function withAudit<T>(ctx: Ctx, fn: (audit: AuditSink) => Promise<T>): Promise<T> {
  let sink: AuditSink = nullAudit;
  let close: () => Promise<void> = async () => {};
  try {
    const { openAuditLog } = await import('../../core/audit/log.js');
    const log = openAuditLog(ctx.env, { syncIo: true });
    sink = log;
    close = () => log.close();
  } catch (e) {
    ctx.stderr.write(`mediagate: warning: could not open the audit log: ${(e as Error).message}\n`);
  }
  try {
    return await fn(sink);
  } finally {
    try {
      await close();
    } catch (e) {
      ctx.stderr.write(`mediagate: warning: could not write the audit log: ${(e as Error).message}\n`);
    }
  }
}
