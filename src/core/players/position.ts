// Player positions: where playback is now from a player's last report
// (positionAt), and whether a fresh reading is news (carryPosition).

import type { PlayerState } from './types.js';

/**
 * Where playback is now, from where it was when the player last said so.
 * macOS reports elapsedTime as of `timestamp`, Windows Position as of
 * LastUpdatedTime; apps update those rarely (on play, pause, seek), so the
 * position is carried forward by the playback rate while playing and kept
 * within the track. A paused or stopped player stays where it was.
 */
export interface Timeline {
  /** Seconds at `at`. */
  position: number;
  /** When `position` was true (ms since epoch). */
  at: number;
  playing: boolean;
  /** 1 = normal speed; null or absent means 1 while playing. */
  rate?: number | null | undefined;
  /** Seconds, when known. */
  duration?: number | null | undefined;
}

export function positionAt(t: Timeline, nowMs: number): number {
  let p = t.position;
  if (t.playing) {
    const rate = typeof t.rate === 'number' && Number.isFinite(t.rate) ? t.rate : 1;
    // A timestamp from the future (clock skew between processes) moves nothing.
    p += (Math.max(0, nowMs - t.at) / 1000) * rate;
  }
  if (!Number.isFinite(p) || p < 0) p = 0;
  if (typeof t.duration === 'number' && t.duration > 0 && p > t.duration) p = t.duration;
  return Math.round(p * 1000) / 1000;
}

/**
 * Is a fresh reading of a player's position news, or only what a client
 * already extrapolates from the last one (`position` + the time since
 * `positionUpdatedAt`, while playing)?
 *
 * Every reading carries the time it was taken, so two readings of a player
 * that plays on undisturbed differ in both fields although nothing happened.
 * A live view (serve, `--follow`) keeps the earlier pair instead: the state
 * is then equal to the one already published, and nothing is pushed. A seek,
 * a status change, another track, or a position that drifted from the
 * extrapolation by more than the tolerance (a stalled stream, a clock
 * running apart) is news: the fresh pair is taken.
 */
/**
 * How far (seconds) a reading may be from the extrapolated position and
 * still count as the same. Above the error of the reading time under load
 * (a round trip's half for MPD, the reply time for D-Bus: tens of ms), below
 * what a second-resolution display shows.
 */
export const POSITION_TOLERANCE_S = 0.5;

/** Same track: what a status answer shows of it. */
function sameTrack(a: PlayerState, b: PlayerState): boolean {
  return a.title === b.title && a.artist === b.artist && a.album === b.album && a.duration === b.duration && a.artUrl === b.artUrl;
}

/**
 * `next`, with `prev`'s position and positionUpdatedAt when `next` reports
 * nothing new about the position (see above). Both are readings of the
 * same player. Pure.
 */
export function carryPosition(prev: PlayerState, next: PlayerState, toleranceS = POSITION_TOLERANCE_S): PlayerState {
  if (prev.player !== next.player || prev.status !== next.status || !sameTrack(prev, next)) return next;
  if (prev.position === null || next.position === null || prev.positionUpdatedAt === null || next.positionUpdatedAt === null) return next;
  if (prev.positionUpdatedAt === next.positionUpdatedAt && prev.position === next.position) return next;
  const since = next.status === 'playing' ? (Date.parse(next.positionUpdatedAt) - Date.parse(prev.positionUpdatedAt)) / 1000 : 0;
  if (!Number.isFinite(since) || since < 0) return next;
  if (Math.abs(next.position - (prev.position + since)) > toleranceS) return next;
  return { ...next, position: prev.position, positionUpdatedAt: prev.positionUpdatedAt };
}
