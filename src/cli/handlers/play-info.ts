/** `play metadata` and `play queue`: what the player reports about its tracks, raw. */
import { MediagateError, UsageError } from '../../core/errors.js';
import { escapeValue, formatClock } from '../../core/format.js';
import { metadataText } from '../../core/players/metadata.js';
import type { Metadata, QueueEntry } from '../../core/players/types.js';
import { say, type Ctx } from '../context.js';
import { onSelected, type SelectFlags } from './selection.js';

export interface InfoFlags extends SelectFlags {
  json?: boolean | undefined;
}

const clean = (s: string) => escapeValue(s, 'plain');

/** `KEY  VALUE` lines (keys padded), each prefixed with the player under --all-players. */
function metadataLines(player: string, m: Metadata, each: boolean): string | undefined {
  const keys = Object.keys(m);
  if (keys.length === 0) return undefined;
  const width = Math.max(0, ...keys.map((k) => k.length));
  const head = each ? `${clean(player)}  ` : '';
  return keys.map((k) => `${head}${clean(k).padEnd(width)}  ${clean(metadataText(m[k]))}`).join('\n');
}

function missingKey(player: string, key: string, m: Metadata): MediagateError {
  const keys = Object.keys(m);
  return new MediagateError('metadata.missing_key', `player '${player}' reports no '${key.slice(0, 100)}' for this track`, 1,
    keys.length ? `it reports: ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? ', …' : ''}` : 'it reports no metadata now (nothing loaded?)');
}

/**
 * `play metadata [KEY]`: every raw key (xesam:*, mpris:*, the player's
 * own), or one key's value (lists joined with ", "; exit 1 when the player
 * does not report it). --json: {player, metadata} or {player, key, value}.
 */
export async function playMetadata(ctx: Ctx, key: string | undefined, flags: InfoFlags): Promise<void> {
  if (key !== undefined && (key === '' || /[\0-\x1f\x7f]/.test(key))) throw new UsageError('invalid metadata key', 'e.g. xesam:title, mpris:length', 'usage.invalid_key');
  if (key === undefined) {
    await onSelected(ctx, flags, (ctl, player) => ctl.metadata(player), {
      json: (r) => ({ player: r.player, metadata: r.metadata }),
      line: (r, each) => metadataLines(r.player, r.metadata, each),
    });
    return;
  }
  await onSelected(ctx, flags, async (ctl, player) => {
    const { player: name, metadata } = await ctl.metadata(player);
    if (!(key in metadata)) throw missingKey(name, key, metadata);
    return { player: name, key, value: metadata[key]! };
  }, {
    json: (r) => r,
    line: (r, each) => `${each ? `${clean(r.player)}  ` : ''}${clean(metadataText(r.value))}`,
  });
}

function queueLine(e: QueueEntry): string {
  const what = e.title ? `${e.artist ? `${clean(e.artist)} - ` : ''}${clean(e.title)}` : clean(e.uri ?? '?');
  return `${e.current ? '*' : ' '} ${String(e.position + 1).padStart(3)}  ${what}${e.duration !== null ? `  ${formatClock(e.duration)}` : ''}`;
}

/** `play queue`: the player's queue, the current track marked with `*`; --json {player, queue: [...]}. */
export async function playQueue(ctx: Ctx, flags: InfoFlags): Promise<void> {
  if (flags['all-players']) throw new UsageError('play queue shows one player: give --player, not --all-players', undefined, 'usage.invalid_player');
  await onSelected(ctx, flags, async (ctl, player) => {
    const r = await ctl.queue(player);
    if (r.queue.length === 0 && !ctx.json) say(ctx, `the queue of ${clean(r.player)} is empty`);
    return r;
  }, {
    json: (r) => ({ player: r.player, queue: r.queue }),
    line: (r) => (r.queue.length ? r.queue.map(queueLine).join('\n') : undefined),
  });
}
