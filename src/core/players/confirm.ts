/**
 * "Report what is, not what was asked": after a change the answer is the
 * player's own reading. Players apply some requests a moment later (mpv
 * seeks asynchronously) and some not at all (VLC without an audio output
 * keeps its volume at 0), so the reading is taken again — at growing
 * intervals, within the backend time limit — until it shows the change.
 */
import { NoPlayerError } from '../errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Read until `applied(value)` or until `limitMs` have passed; the last reading either way. */
export async function reread<T>(read: () => Promise<T>, applied: (value: T) => boolean, limitMs: number): Promise<{ value: T; applied: boolean }> {
  const deadline = Date.now() + limitMs;
  let wait = 10;
  for (;;) {
    const value = await read();
    if (applied(value)) return { value, applied: true };
    const left = deadline - Date.now();
    if (left <= 0) return { value, applied: false };
    await sleep(Math.min(wait, left));
    wait = Math.min(wait * 2, 200);
  }
}

/** `player.not_applied` (exit 3): the player took the request without error and did not change. */
export function notApplied(what: string, asked: string, reported: string, player?: string): NoPlayerError {
  return new NoPlayerError(`the player did not apply the ${what} (asked for ${asked}, ${player ?? 'it'} reports ${reported})`,
    'the player accepted the request but kept its old value (VLC without an audio output ignores volume changes, for example)',
    'player.not_applied');
}
