import { ExitCode, isMediagateError, MediagateError, type ExitCodeValue } from '../core/errors.js';
import type { Ctx } from './context.js';

/** A failure whose messages the handler has already printed: only its exit code is left to give. */
export class ReportedError extends MediagateError {
  constructor(exitCode: ExitCodeValue) {
    super('cli.reported', 'reported above', exitCode);
  }
}

/**
 * Report any thrown value on stderr and return the exit code. MediagateErrors
 * print their message and hint; with --json also a JSON error object on
 * stderr so scripts can read the code. Anything else is a bug: exit 1 with
 * the message only (no stack unless MEDIAGATE_DEBUG is set).
 */
export function reportError(ctx: Pick<Ctx, 'stderr' | 'json' | 'env'>, e: unknown): number {
  if (e instanceof ReportedError) return e.exitCode;
  if (isMediagateError(e)) {
    if (ctx.json) {
      ctx.stderr.write(`${JSON.stringify({ error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } })}\n`);
    } else {
      ctx.stderr.write(`mediagate: ${e.message}\n`);
      if (e.hint) ctx.stderr.write(`hint: ${e.hint}\n`);
    }
    return e.exitCode;
  }
  const err = e as Error;
  ctx.stderr.write(`mediagate: ${err?.message ?? String(e)}\n`);
  if (ctx.env.MEDIAGATE_DEBUG && err?.stack) ctx.stderr.write(`${err.stack}\n`);
  return ExitCode.failure;
}
