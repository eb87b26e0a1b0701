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
