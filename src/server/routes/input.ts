/**
 * Small helpers over checked request input. The checks themselves come from
 * each route's contract (contract/validate.ts): a handler gets a body and
 * query values that already fit their schemas.
 */
import { MediagateError } from '../../core/errors.js';

/** `player` from the body, else from the query string. */
export function playerOf(body: Record<string, unknown>, args: Readonly<Record<string, unknown>>): string | undefined {
  return (body.player ?? args.player) as string | undefined;
}

/** The code to record for a failure. */
export function codeOf(e: unknown): string {
  return e instanceof MediagateError ? e.code : (e as { code?: unknown })?.code && typeof (e as { code?: unknown }).code === 'string' ? String((e as { code: string }).code) : 'error';
}
