/**
 * `--since` for the audit commands: a duration back from now (`90m`, `1h`,
 * `7d`, `1w`, `1h30m`) or an ISO date or time (`2025-01-31`,
 * `2025-01-31T12:00:00Z`; without a zone it is local time).
 */
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';

const ISO_START = /^\d{4}-\d{2}-\d{2}(?:$|[T ])/;
const FORMS = 'use a duration back from now such as 30m, 1h, 7d, or an ISO time such as 2025-01-31 or 2025-01-31T12:00:00Z';

/** The point in time `text` names, relative to `now`. UsageError (exit 2) for anything else. */
export function parseSince(text: string, now: Date = new Date()): Date {
  const s = String(text ?? '').trim();
  if (ISO_START.test(s)) {
    const t = Date.parse(s);
    if (Number.isNaN(t)) throw new UsageError(`invalid --since '${text}': not a valid date or time`, FORMS, 'usage.invalid_since');
    return new Date(t);
  }
  let ms: number | null;
  try {
    ms = parseDuration(s, { what: '--since', minMs: 1000, maxMs: 100 * 366 * 86_400_000 });
  } catch {
    throw new UsageError(`invalid --since '${text}'`, FORMS, 'usage.invalid_since');
  }
  return new Date(now.getTime() - (ms ?? 0));
}
