/** `play shuffle`, `play repeat` and `play open`: the answers are what the player reports after the change. */
import { NoPlayerError, UsageError } from '../../core/errors.js';
import { REPEAT_MODES } from '../../core/players/options.js';
import type { PlayerState, RepeatMode } from '../../core/players/types.js';
import { escapeValue } from '../../core/format.js';
import type { Ctx } from '../context.js';
import { onSelected, type SelectFlags } from './selection.js';

export interface OptionFlags extends SelectFlags {
  json?: boolean | undefined;
}

const clean = (s: string) => escapeValue(s, 'plain');
const onOff = (v: boolean) => (v ? 'on' : 'off');

/** on|off|toggle (any case; also true/false, as playerctl's On/Off) → the request; undefined → read. */
export function parseShuffleArg(v: string | undefined): boolean | 'toggle' | undefined {
  if (v === undefined) return undefined;
  const x = v.toLowerCase();
  if (x === 'on' || x === 'true') return true;
  if (x === 'off' || x === 'false') return false;
  if (x === 'toggle') return 'toggle';
  throw new UsageError(`invalid shuffle value '${v.slice(0, 40)}'`, 'use on, off or toggle (or nothing, to print it)', 'usage.invalid_shuffle');
}

/** off|track|playlist|toggle (any case; also playerctl's None) → the request; undefined → read. */
export function parseRepeatArg(v: string | undefined): RepeatMode | 'toggle' | undefined {
  if (v === undefined) return undefined;
  const x = v.toLowerCase();
  if (x === 'none') return 'off';
  if (x === 'toggle' || (REPEAT_MODES as readonly string[]).includes(x)) return x as RepeatMode | 'toggle';
  throw new UsageError(`invalid repeat mode '${v.slice(0, 40)}'`, 'use off, track, playlist or toggle (or nothing, to print it)', 'usage.invalid_repeat');
}

function noSetting(s: PlayerState, what: string): NoPlayerError {
  return new NoPlayerError(`player '${s.player}' has no ${what} setting`, 'not supported by this player', 'player.unsupported');
}

/** `play shuffle [on|off|toggle]`: bare, prints the player's shuffle (on/off). */
export async function playShuffle(ctx: Ctx, arg: string | undefined, flags: OptionFlags): Promise<void> {
  const value = parseShuffleArg(arg);
  if (value === undefined) {
    await onSelected(ctx, flags, async (ctl, player) => {
      const s = await ctl.status(player);
      if (s.shuffle === null || !s.capabilities.canShuffle) throw noSetting(s, 'shuffle');
      return { player: s.player, shuffle: s.shuffle };
    }, {
      json: (r) => r,
      line: (r, each) => (each ? `${clean(r.player)}: ${onOff(r.shuffle)}` : onOff(r.shuffle)),
    });
    return;
  }
  await onSelected(ctx, flags, (ctl, player) => ctl.setShuffle(value, player), {
    json: (r) => ({ ok: true, player: r.player, action: 'shuffle', shuffle: r.shuffle }),
    line: (r, each) => (each ? `${clean(r.player)}: ${onOff(r.shuffle)}` : onOff(r.shuffle)),
  });
}

/** `play repeat [off|track|playlist|toggle]`: bare, prints the player's repeat mode. */
export async function playRepeat(ctx: Ctx, arg: string | undefined, flags: OptionFlags): Promise<void> {
  const mode = parseRepeatArg(arg);
  const line = (r: { player: string; repeat: RepeatMode }, each: boolean) => (each ? `${clean(r.player)}: ${r.repeat}` : r.repeat);
  if (mode === undefined) {
    await onSelected(ctx, flags, async (ctl, player) => {
      const s = await ctl.status(player);
      if (s.repeat === null || !s.capabilities.canRepeat) throw noSetting(s, 'repeat');
      return { player: s.player, repeat: s.repeat };
    }, { json: (r) => r, line });
    return;
  }
  await onSelected(ctx, flags, (ctl, player) => ctl.setRepeat(mode, player), {
    json: (r) => ({ ok: true, player: r.player, action: 'repeat', repeat: r.repeat }),
    line,
  });
}

/** `play open URI`: a URL, a local file (MPRIS) or a path in MPD's database, played now. */
export async function playOpen(ctx: Ctx, uri: string, flags: OptionFlags): Promise<void> {
  if (flags['all-players']) throw new UsageError('play open acts on one player: give --player, not --all-players', undefined, 'usage.invalid_player');
  await onSelected(ctx, flags, (ctl, player) => ctl.open(uri, player), {
    json: (r) => ({ ok: true, player: r.player, action: 'open', uri: r.uri }),
  });
}
