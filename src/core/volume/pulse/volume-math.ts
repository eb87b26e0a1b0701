/**
 * PulseAudio volumes and mediagate's 0–100 levels, with pactl's arithmetic
 * exactly (the existing mixers and their tests compare with pactl):
 * pactl prints a channel as floor((v·100 + NORM/2) / NORM) percent and sets
 * N% as the truncation of N·NORM/100.
 */
export const VOLUME_NORM = 0x10000;
/** PA_VOLUME_MAX: the largest valid channel volume. */
export const VOLUME_MAX = 0x7fffffff;

/** One channel's percentage as pactl prints it. */
export function percentOf(v: number): number {
  return Math.floor((v * 100 + VOLUME_NORM / 2) / VOLUME_NORM);
}

/** The raw volume pactl sets for `level`%. */
export function rawOf(level: number): number {
  return Math.trunc((level * VOLUME_NORM) / 100);
}

/** The level mediagate reports: the average of the channels' pactl percentages, rounded. */
export function levelOf(values: readonly number[]): number {
  return Math.round(values.reduce((a, v) => a + percentOf(v), 0) / values.length);
}

/** The smallest raw volume pactl prints as `p` percent. */
const lowestOf = (p: number): number => Math.max(0, Math.ceil((p * VOLUME_NORM - VOLUME_NORM / 2) / 100));

/**
 * New channel volumes for `level`, keeping the balance between channels.
 * Equal channels (the usual case) all get pactl's value for `level`.
 * Unequal ones are scaled by one factor so that their average becomes
 * `level`; where the per-channel rounding would make the reported level
 * one off, the channel nearest its rounding edge is moved across it, so
 * that reading back always gives `level` exactly.
 */
export function scaleKeepingBalance(values: readonly number[], level: number): number[] {
  const target = rawOf(level);
  const max = Math.max(...values);
  if (values.every((v) => v === values[0]) || max === 0) return values.map(() => target);
  const avg = values.reduce((a, v) => a + v, 0) / values.length;
  const out = values.map((v) => Math.min(VOLUME_MAX, Math.round((v * target) / avg)));
  for (let step = 0; step < 2 * out.length && levelOf(out) !== level; step++) {
    const up = levelOf(out) < level;
    let best = -1;
    let bestCost = Infinity;
    out.forEach((v, i) => {
      if (values[i] === 0) return; // a silent channel stays silent
      const p = percentOf(v);
      if (!up && p === 0) return;
      const edge = up ? lowestOf(p + 1) : lowestOf(p) - 1;
      const cost = Math.abs(edge - v);
      if (cost < bestCost) { bestCost = cost; best = i; }
    });
    if (best < 0) break;
    const p = percentOf(out[best]!);
    out[best] = Math.min(VOLUME_MAX, up ? lowestOf(p + 1) : lowestOf(p) - 1);
  }
  return out;
}
