import { UsageError } from '../errors.js';
import type { VolumeReading, VolumeRequest } from './types.js';

const RANGE_HINT = 'use a level from 0 to 100, +N or -N to change it, or mute, unmute, toggle-mute';

/**
 * Parse the argument of `mediagate volume`. A level outside 0–100 is an
 * error (150 is not silently 100); so is a change of more than 100.
 */
export function parseVolumeRequest(arg: string | undefined): VolumeRequest {
  if (arg === undefined) return { kind: 'get' };
  const text = arg.trim();
  if (text === 'mute' || text === 'unmute' || text === 'toggle-mute') return { kind: text };
  const m = /^([+-]?)(\d+)%?$/.exec(text);
  if (!m) throw new UsageError(`invalid volume '${arg}'`, RANGE_HINT, 'usage.invalid_volume');
  const n = Number(m[2]);
  if (n > 100) throw new UsageError(`volume ${m[1] ? 'change' : 'level'} must be within 0–100, got ${arg}`, RANGE_HINT, 'usage.invalid_volume');
  if (m[1] === '+') return { kind: 'change', delta: n };
  if (m[1] === '-') return { kind: 'change', delta: -n };
  return { kind: 'set', level: n };
}

/**
 * The level a relative change leads to. Up stops at 100, and a level another
 * tool boosted above 100 (pactl can) is kept, never silently lowered by a `+N`;
 * down starts from the real level (120 − 5 = 115) and stops at 0.
 */
export function applyChange(current: Pick<VolumeReading, 'level'>, delta: number): number {
  const level = Math.round(current.level);
  if (delta >= 0) return level >= 100 ? level : Math.min(100, level + delta);
  return Math.max(0, level + delta);
}
