/**
 * Did a seek land? Where a seek should have put the player, and whether the
 * position it reports afterwards is there — the check behind "report what
 * is" for `play seek` (see confirm.ts). Pure.
 */
import type { PlayerState } from './types.js';

/**
 * Where a relative seek sent at `sentAtMs` should land: from the position
 * `before` reports (moved on by the time it played since it was read),
 * kept within the track. null when that cannot be known: no position, or
 * past the end (MPRIS players go to the next track there).
 */
export function relativeLanding(before: PlayerState, offset: number, sentAtMs: number): number | null {
  if (before.position === null) return null;
  const readAt = before.positionUpdatedAt ? Date.parse(before.positionUpdatedAt) : sentAtMs;
  const played = before.status === 'playing' && Number.isFinite(readAt) ? Math.max(0, (sentAtMs - readAt) / 1000) : 0;
  const target = before.position + played + offset;
  if (before.duration !== null && target >= before.duration) return null;
  return Math.max(0, target);
}

/**
 * Is the player at `expected` after a seek sent `elapsedS` seconds ago?
 * Within a second (players seek to the nearest frame or page) plus what it
 * has played since; anything counts when the target is unknown or the track
 * changed meanwhile.
 */
export function seekLanded(before: PlayerState, after: PlayerState, expected: number | null, elapsedS: number): boolean {
  if (expected === null || after.position === null) return true;
  if (after.title !== before.title || after.duration !== before.duration) return true;
  const slack = 1 + (after.status === 'playing' ? elapsedS : 0);
  return Math.abs(after.position - expected) <= slack;
}
