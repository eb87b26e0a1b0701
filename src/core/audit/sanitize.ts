/**
 * Defence in depth for "never a secret in the audit log": callers are not
 * supposed to pass secrets, but every string field is scanned anyway and
 * anything shaped like a bearer token (`mg_…`), a pairing token (`mgp_…`),
 * an invite code or a sealed value (`nacl:v1:…`) is replaced by
 * `[redacted]` — also a fragment of one. Fields are also stripped of control
 * characters and capped in length, so one line stays one short line.
 */
import type { AuditActor, AuditEventInput, AuditOutcome } from './types.js';
import type { PendingEvent } from './record.js';

export const REDACTED = '[redacted]';

const NOT_ALNUM_BEFORE = '(?<![A-Za-z0-9])';
const NOT_ALNUM_AFTER = '(?![A-Za-z0-9])';
/** Every secret shape in one pattern, so each field is scanned once. */
const SECRET_SHAPES = new RegExp([
  // Bearer and pairing tokens, whole or in part (6+ characters after the prefix).
  `${NOT_ALNUM_BEFORE}mgp?_[A-Za-z0-9_-]{6,}`,
  // Sealed secrets: the prefix and everything base64 after it.
  'nacl:v1:[A-Za-z0-9+/=_-]*',
  // Invite codes as shown or typed: four groups of four with dashes (any case) …
  `${NOT_ALNUM_BEFORE}[A-Za-z0-9]{4}(?:-[A-Za-z0-9]{4}){3}${NOT_ALNUM_AFTER}`,
  // … or with spaces (upper case only, so "took more than 5000" stays readable) …
  `${NOT_ALNUM_BEFORE}[0-9A-Z]{4}(?: [0-9A-Z]{4}){3}${NOT_ALNUM_AFTER}`,
  // … or normalised: 16 Crockford characters, upper case, letters and digits mixed.
  `${NOT_ALNUM_BEFORE}(?=[0-9A-Z]*[A-Z])(?=[0-9A-Z]*[0-9])[0-9A-Z]{16}${NOT_ALNUM_AFTER}`,
].join('|'), 'g');

/** Replace every secret-shaped part of `text`; returns the cleaned text and how many parts were replaced. */
export function redactSecrets(text: string): { text: string; count: number } {
  let count = 0;
  const out = text.replace(SECRET_SHAPES, () => { count++; return REDACTED; });
  return { text: out, count };
}

/** Longest stored length of each field, in characters. */
export const FIELD_LIMITS = {
  actorId: 200,
  actorLabel: 100,
  ip: 64,
  requestId: 128,
  action: 64,
  target: 256,
  detail: 500,
} as const;

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const CONTROL_TEST = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const OUTCOMES: ReadonlySet<string> = new Set(['ok', 'denied', 'error']);

export interface Sanitizer {
  /** Secret-shaped parts replaced so far. */
  redacted: number;
}

function clean(value: unknown, max: number, counter: Sanitizer): string | undefined {
  if (value === undefined || value === null) return undefined;
  let s = typeof value === 'string' ? value : String(value);
  if (CONTROL_TEST.test(s)) s = s.replace(CONTROL, ' ');
  // Redact before cutting: a cut must never turn a token into an unrecognised fragment.
  const r = redactSecrets(s);
  counter.redacted += r.count;
  s = r.text;
  if (s.length > max) s = `${s.slice(0, max - 1)}…`;
  return s;
}

/** Turn a caller's event into a queue entry: every field cleaned, time stamped. Never throws. */
export function sanitizeEvent(ev: AuditEventInput, time: string, counter: Sanitizer): PendingEvent {
  const input = (ev ?? {}) as Partial<AuditEventInput>;
  const actorIn = (input.actor ?? {}) as Partial<AuditActor>;
  const actor: AuditActor = { id: clean(actorIn.id, FIELD_LIMITS.actorId, counter) || 'unknown' };
  const label = clean(actorIn.label, FIELD_LIMITS.actorLabel, counter);
  if (label !== undefined) actor.label = label;
  const outcome = (OUTCOMES.has(input.outcome as string) ? input.outcome : 'error') as AuditOutcome;
  const out: PendingEvent = {
    time,
    actor,
    action: clean(input.action, FIELD_LIMITS.action, counter) || 'unknown',
    outcome,
  };
  const ip = clean(input.ip, FIELD_LIMITS.ip, counter);
  if (ip !== undefined) out.ip = ip;
  const requestId = clean(input.requestId, FIELD_LIMITS.requestId, counter);
  if (requestId !== undefined) out.requestId = requestId;
  const target = clean(input.target, FIELD_LIMITS.target, counter);
  if (target !== undefined) out.target = target;
  let detail = clean(input.detail, FIELD_LIMITS.detail, counter);
  if (!OUTCOMES.has(input.outcome as string)) {
    detail = `${detail ? `${detail}; ` : ''}outcome given as '${clean(input.outcome, 20, counter)}'`;
  }
  if (detail !== undefined) out.detail = detail;
  return out;
}
