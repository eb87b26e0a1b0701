/**
 * Shuffle and repeat: what `toggle` means, and a change that reports what
 * the player has afterwards (see confirm.ts). Backends only send requests.
 */
import { NoPlayerError } from '../errors.js';
import { notApplied, reread } from './confirm.js';
import type { Player, PlayerState, RepeatMode } from './types.js';

export const REPEAT_MODES: readonly RepeatMode[] = ['off', 'track', 'playlist'];

/** `repeat toggle` steps as a player's repeat button does: off → playlist → track → off. */
export const NEXT_REPEAT: Readonly<Record<RepeatMode, RepeatMode>> = { off: 'playlist', playlist: 'track', track: 'off' };

function cannot(player: string, what: string): NoPlayerError {
  return new NoPlayerError(`player '${player}' has no ${what} setting`, 'not supported by this player; use its own controls, or another player', 'player.unsupported');
}

const onOff = (v: boolean | null) => (v === null ? 'nothing' : v ? 'on' : 'off');

/** Set (or toggle) shuffle; the value the player reports afterwards, or `player.not_applied`. */
export async function changeShuffle(player: Player, state: PlayerState, value: boolean | 'toggle', limitMs: number): Promise<boolean> {
  if (!player.setShuffle || !state.capabilities.canShuffle || state.shuffle === null) throw cannot(player.name, 'shuffle');
  const want = value === 'toggle' ? !state.shuffle : value;
  await player.setShuffle(want);
  const { value: after, applied } = await reread(() => player.state(), (s) => s.shuffle === want, limitMs);
  if (!applied) throw notApplied('shuffle change', onOff(want), onOff(after.shuffle), player.name);
  return want;
}

/** Set (or step) the repeat mode; the mode the player reports afterwards, or `player.not_applied`. */
export async function changeRepeat(player: Player, state: PlayerState, mode: RepeatMode | 'toggle', limitMs: number): Promise<RepeatMode> {
  if (!player.setRepeat || !state.capabilities.canRepeat || state.repeat === null) throw cannot(player.name, 'repeat');
  const want = mode === 'toggle' ? NEXT_REPEAT[state.repeat] : mode;
  await player.setRepeat(want);
  const { value: after, applied } = await reread(() => player.state(), (s) => s.repeat === want, limitMs);
  if (!applied) throw notApplied('repeat change', want, after.repeat ?? 'nothing', player.name);
  return want;
}
