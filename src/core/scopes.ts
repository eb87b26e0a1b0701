import { UsageError } from './errors.js';

/** Scopes, weakest first: read ⊂ control ⊂ admin. */
export const SCOPES = ['read', 'control', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

/** Command-line or request text → Scope, or a UsageError (exit 2) naming the valid scopes. */
export function parseScope(text: string): Scope {
  if (isScope(text)) return text;
  throw new UsageError(`invalid scope '${text}': must be one of ${SCOPES.join(', ')}`,
    'read: status and browsing; control: also play, pause, seek, volume; admin: also tokens, invites, scripts and audit',
    'usage.invalid_scope');
}

/** Does a principal holding `have` satisfy a requirement of `need`? */
export function scopeAllows(have: Scope, need: Scope): boolean {
  const h = SCOPES.indexOf(have);
  const n = SCOPES.indexOf(need);
  return h >= 0 && n >= 0 && h >= n;
}

/**
 * A label (token label, invite label, device name): 1–64 printable
 * characters after trimming; no control or invisible formatting characters.
 */
export function validateLabel(text: string, what = 'label'): string {
  const s = String(text ?? '').trim();
  if (s.length === 0) throw new UsageError(`${what} must not be empty`, undefined, 'usage.invalid_label');
  if ([...s].length > 64) throw new UsageError(`${what} is too long: at most 64 characters`, undefined, 'usage.invalid_label');
  if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/u.test(s)) {
    throw new UsageError(`${what} must be printable text (no control characters)`, undefined, 'usage.invalid_label');
  }
  return s;
}
