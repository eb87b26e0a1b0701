/**
 * Small helpers over checked request input. The checks themselves come from
 * each route's contract (contract/validate.ts): a handler gets a body and
 * query values that already fit their schemas.
 */
import { MediagateError, UsageError } from '../../core/errors.js';
import { MAX_IGNORED } from '../contract/fields.js';

/** `player` from the body, else from the query string. */
export function playerOf(body: Record<string, unknown>, args: Readonly<Record<string, unknown>>): string | undefined {
  return (body.player ?? args.player) as string | undefined;
}

/**
 * `ignore` (as --ignore-player): the body's list of player names (its schema
 * checked each), else the query's comma-separated names; [] when absent. The
 * query schema checks the text (printable, no empty entry); what a pattern
 * cannot count — how many names, how long each — is checked here.
 */
export function ignoreOf(body: Record<string, unknown>, args: Readonly<Record<string, unknown>>): string[] {
  if (Array.isArray(body.ignore)) return (body.ignore as string[]).map((n) => n.trim());
  if (typeof args.ignore !== 'string') return [];
  const names = args.ignore.split(',').map((n) => n.trim());
  if (names.length > MAX_IGNORED || names.some((n) => n.length > 256)) {
    throw new UsageError(`invalid query parameter 'ignore': at most ${MAX_IGNORED} comma-separated player names of 1–256 printable characters`, undefined, 'usage.invalid_field');
  }
  return names;
}

/** The code to record for a failure. */
export function codeOf(e: unknown): string {
  return e instanceof MediagateError ? e.code : (e as { code?: unknown })?.code && typeof (e as { code?: unknown }).code === 'string' ? String((e as { code: string }).code) : 'error';
}
