import { UsageError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const DAY = UNIT_MS.d!;

export interface DurationOptions {
  /** Accept `never` (returns null). Default false. */
  allowNever?: boolean;
  /** Longest accepted duration in ms (default 3650 days). */
  maxMs?: number;
  /** Shortest accepted duration in ms (default 1 s). */
  minMs?: number;
  /** Name used in error messages, e.g. `--expires`. */
  what?: string;
}

/**
 * Parse a human duration: one or more `<integer><unit>` parts with units
 * s, m, h, d, w (`30d`, `12h`, `90m`, `1w`, `1h30m`), or `never` when allowed.
 * Returns milliseconds, or null for `never`. Anything else is a UsageError
 * (exit 2) that shows the accepted forms.
 */
export function parseDuration(text: string, opts: DurationOptions = {}): number | null {
  const what = opts.what ?? 'duration';
  const maxMs = opts.maxMs ?? 3650 * DAY;
  const minMs = opts.minMs ?? 1000;
  const forms = `like 30d, 12h, 90m, 1w or 1h30m${opts.allowNever ? ', or never' : ''}`;
  const s = String(text ?? '').trim().toLowerCase();
  if (s === 'never') {
    if (opts.allowNever) return null;
    throw new UsageError(`invalid ${what} 'never': this must expire`, `use a duration ${forms}`, 'usage.invalid_duration');
  }
  if (!/^(\d{1,6}[smhdw])+$/.test(s)) {
    throw new UsageError(`invalid ${what} '${text}'`, `use a duration ${forms}`, 'usage.invalid_duration');
  }
  let ms = 0;
  const seen = new Set<string>();
  for (const [, n, unit] of s.matchAll(/(\d+)([smhdw])/g)) {
    if (seen.has(unit!)) throw new UsageError(`invalid ${what} '${text}': unit '${unit}' given twice`, `use a duration ${forms}`, 'usage.invalid_duration');
    seen.add(unit!);
    ms += Number(n) * UNIT_MS[unit!]!;
  }
  if (ms < minMs) {
    throw new UsageError(`invalid ${what} '${text}': must be at least ${formatDuration(minMs)}`, `use a duration ${forms}`, 'usage.invalid_duration');
  }
  if (ms > maxMs) {
    throw new UsageError(`invalid ${what} '${text}': must be at most ${formatDuration(maxMs)}`, `use a duration ${forms}`, 'usage.invalid_duration');
  }
  return ms;
}

/** Short form of a duration in ms: `3d`, `12h`, `1h30m`, `45s`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
