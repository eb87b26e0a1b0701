/**
 * Where playback is now, from the last status: the player reports a
 * position and when it read it (positionUpdatedAt); while playing, the page
 * moves the seek bar on by the time passed since, clamped to the duration.
 * No request is made for it.
 */
export interface Timed {
  status: 'playing' | 'paused' | 'stopped';
  position: number | null;
  positionUpdatedAt: string | null;
  duration: number | null;
}

export function positionAt(s: Timed, nowMs: number, clockSkewMs = 0): number | null {
  if (s.position === null) return null;
  let p = s.position;
  if (s.status === 'playing' && s.positionUpdatedAt) {
    const at = Date.parse(s.positionUpdatedAt);
    if (Number.isFinite(at)) p += Math.max(0, nowMs - clockSkewMs - at) / 1000;
  }
  if (s.duration !== null && s.duration > 0) p = Math.min(p, s.duration);
  return Math.max(0, p);
}
