import { UsageError } from '../errors.js';

/** Where a seek goes: an absolute time, a move relative to now, or a fraction of the track. */
export type SeekTarget =
  | { kind: 'absolute'; seconds: number }
  | { kind: 'relative'; seconds: number }
  | { kind: 'percent'; percent: number };

const CLOCK = /^(\d+(?:\.\d+)?)$|^(\d+):([0-5]?\d(?:\.\d+)?)$|^(\d+):([0-5]?\d):([0-5]?\d(?:\.\d+)?)$/;

function clockSeconds(text: string): number | undefined {
  const m = CLOCK.exec(text);
  if (!m) return undefined;
  if (m[1] !== undefined) return Number(m[1]);
  if (m[2] !== undefined) return Number(m[2]) * 60 + Number(m[3]);
  return Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]);
}

/**
 * Parse a seek position as users type it: `90`, `1:30`, `1:02:03`, `+10`,
 * `-10`, `+1:00`, `50%`. Anything else is a usage error that shows the forms.
 */
export function parseSeek(input: string): SeekTarget {
  const text = input.trim();
  const bad = () => new UsageError(`invalid seek position '${input}'`, 'use seconds (90), a time (1:30), a move (+10, -10) or a percentage (50%)', 'usage.invalid_seek');
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (pct) {
    const percent = Number(pct[1]);
    if (percent > 100) throw new UsageError(`seek percentage must be 0–100%, got ${input}`, undefined, 'usage.invalid_seek');
    return { kind: 'percent', percent };
  }
  const sign = text[0] === '+' || text[0] === '-' ? text[0] : '';
  const seconds = clockSeconds(sign ? text.slice(1) : text);
  if (seconds === undefined || !Number.isFinite(seconds)) throw bad();
  if (sign) return { kind: 'relative', seconds: sign === '-' ? -seconds : seconds };
  return { kind: 'absolute', seconds };
}

/** The absolute position a percent seek means for a track of `duration` seconds. */
export function percentToSeconds(percent: number, duration: number | null): number {
  if (duration === null || !(duration > 0)) {
    throw new UsageError('cannot seek by percentage: the current track has no known duration', undefined, 'usage.invalid_seek');
  }
  return (duration * percent) / 100;
}
