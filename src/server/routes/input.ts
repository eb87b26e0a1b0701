/**
 * Checking request fields. A missing required field or a wrong type is a
 * UsageError with code `usage.invalid_field` (→ 422 through http-error.ts),
 * naming the field. Unknown fields are ignored (fields are additive).
 */
import { MediagateError, UsageError } from '../../core/errors.js';

type Body = Record<string, unknown>;

function invalid(field: string, what: string): UsageError {
  return new UsageError(`invalid field '${field}': ${what}`, undefined, 'usage.invalid_field');
}

export function optString(b: Body, field: string, max = 256): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw invalid(field, `must be a non-empty string of at most ${max} characters`);
  return v;
}

export function reqString(b: Body, field: string, max = 256): string {
  const v = optString(b, field, max);
  if (v === undefined) throw new UsageError(`missing field '${field}'`, undefined, 'usage.invalid_field');
  return v;
}

export function optNumber(b: Body, field: string, min: number, max: number, opts: { integer?: boolean } = {}): number | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (opts.integer && !Number.isInteger(v)) || v < min || v > max) {
    throw invalid(field, `must be ${opts.integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return v;
}

export function optBoolean(b: Body, field: string): boolean | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(field, 'must be true or false');
  return v;
}

/** `player` from the body, else from the query string. */
export function playerOf(b: Body, query: URLSearchParams): string | undefined {
  return optString(b, 'player') ?? queryString(query, 'player');
}

const MAX_IGNORED = 32;

/**
 * `ignore` (as --ignore-player): an array of player names in the body, else
 * comma-separated in the query string; [] when absent.
 */
export function ignoreOf(b: Body, query: URLSearchParams): string[] {
  const v = b.ignore;
  let names: unknown[];
  if (v !== undefined && v !== null) {
    if (!Array.isArray(v)) throw invalid('ignore', 'must be an array of player names');
    names = v;
  } else {
    const q = queryString(query, 'ignore', 4096);
    names = q === undefined ? [] : q.split(',');
  }
  if (names.length > MAX_IGNORED) throw invalid('ignore', `at most ${MAX_IGNORED} player names`);
  return names.map((n) => {
    if (typeof n !== 'string' || n.trim() === '' || n.length > 256 || /[\u0000-\u001f\u007f]/.test(n)) throw invalid('ignore', 'each entry must be a player name (1–256 printable characters)');
    return n.trim();
  });
}

export function queryString(query: URLSearchParams, name: string, max = 256): string | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  if (v.length === 0 || v.length > max) throw new UsageError(`invalid query parameter '${name}'`, undefined, 'usage.invalid_field');
  return v;
}

/** The code to record for a failure. */
export function codeOf(e: unknown): string {
  return e instanceof MediagateError ? e.code : (e as { code?: unknown })?.code && typeof (e as { code?: unknown }).code === 'string' ? String((e as { code: string }).code) : 'error';
}
