import * as path from 'node:path';
import type { AuditLog } from '../../core/audit/log.js';
import type { AuditEventInput, AuditSink } from '../../core/audit/types.js';
import { nullAudit } from '../../core/audit/types.js';
import { ConfigError } from '../../core/errors.js';
import { stateDir } from '../../core/paths.js';
import type { Ctx } from '../context.js';

/**
 * Run `fn` with the audit log open and close it (flushing every event to
 * disk) before the command returns: a CLI process is about to exit. This is
 * the one place the token/invite/secret commands open the audit log. If the
 * log cannot be opened or flushed, the action still happens and a warning
 * goes to stderr (same policy as auditLocal for the other commands); config
 * changes use withRequiredAudit instead, which fails.
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

/** The error for a change whose audit event could not be written (exit 5, like any unwritable state). */
function auditUnwritable(ctx: Ctx, message: string, why: string | undefined): ConfigError {
  const { join } = path;
  const file = join(stateDir(ctx.env), 'audit.jsonl');
  return new ConfigError(
    `${message}: ${why ?? 'the audit log could not be written'}`,
    `the audit log ${file} must be a file this user can write, in a writable state dir (MEDIAGATE_STATE_DIR); check it with: mediagate audit verify`,
    'audit.unwritable',
  );
}

/**
 * For changes that must not happen unrecorded (config): like withAudit, but
 * an audit log that cannot be opened or written fails the command with exit
 * 5 (`audit.unwritable`) instead of a warning. `made` names the change for
 * the message when it was made before the write failed ("mpd.password was
 * stored"); a change recorded first with recordFirst is refused instead.
 */
export async function withRequiredAudit<T>(ctx: Ctx, made: string, fn: (audit: AuditLog) => Promise<T>): Promise<T> {
  let log: AuditLog;
  try {
    const { openAuditLog } = await import('../../core/audit/log.js');
    // No warning on stderr: a failure is this command's error.
    log = openAuditLog(ctx.env, { syncIo: true, onError: () => {} });
  } catch (e) {
    throw auditUnwritable(ctx, `nothing was changed: the audit log cannot be opened`, (e as Error)?.message);
  }
  let result: T;
  try {
    result = await fn(log);
  } catch (e) {
    await log.close();
    throw e;
  }
  await log.close();
  const s = log.stats();
  if (s.failed > 0 || s.queued > 0) throw auditUnwritable(ctx, `${made}, but its audit event could not be written`, s.lastError);
  return result;
}

/**
 * Write `event` to the audit log now, before the change it records is made
 * (call inside the change's transaction): when it cannot be written the
 * change is refused — `what` was not changed — with exit 5.
 */
export async function recordFirst(ctx: Ctx, audit: AuditLog, event: AuditEventInput, what: string): Promise<void> {
  audit.append(event);
  await audit.flush();
  const s = audit.stats();
  if (s.queued > 0 || s.failed > 0) throw auditUnwritable(ctx, `${what} was not changed: its audit event could not be written`, s.lastError);
}
