import type { Ctx } from './context.js';
import { playAction, playSeek, playStatus, type PlayFlags } from './handlers/play.js';
import { playMetadata, playQueue, type InfoFlags } from './handlers/play-info.js';
import { playOpen, playRepeat, playShuffle, type OptionFlags } from './handlers/play-options.js';
import { volume, type VolumeFlags } from './handlers/volume.js';
import { nodes, type NodesFlags } from './handlers/nodes.js';

type Flags = Record<string, unknown>;
type Args = Record<string, string | undefined>;

/**
 * The hot commands: what scripts and cron call all day. Both the oclif
 * command classes and the fast path in bin/ run them through this table,
 * so the two paths cannot drift apart.
 */
export const HOT: Record<string, (ctx: Ctx, flags: Flags, args: Args) => Promise<void>> = {
  play: (ctx, f) => playAction(ctx, 'play', f as PlayFlags),
  'play:status': (ctx, f) => playStatus(ctx, f as PlayFlags),
  'play:pause': (ctx, f) => playAction(ctx, 'pause', f as PlayFlags),
  'play:toggle': (ctx, f) => playAction(ctx, 'toggle', f as PlayFlags),
  'play:stop': (ctx, f) => playAction(ctx, 'stop', f as PlayFlags),
  'play:next': (ctx, f) => playAction(ctx, 'next', f as PlayFlags),
  'play:prev': (ctx, f) => playAction(ctx, 'previous', f as PlayFlags),
  'play:seek': (ctx, f, a) => playSeek(ctx, a.position ?? '', f as PlayFlags),
  'play:shuffle': (ctx, f, a) => playShuffle(ctx, a.value, f as OptionFlags),
  'play:repeat': (ctx, f, a) => playRepeat(ctx, a.mode, f as OptionFlags),
  'play:open': (ctx, f, a) => playOpen(ctx, a.uri ?? '', f as OptionFlags),
  'play:metadata': (ctx, f, a) => playMetadata(ctx, a.key, f as InfoFlags),
  'play:queue': (ctx, f) => playQueue(ctx, f as InfoFlags),
  volume: (ctx, f, a) => volume(ctx, a.level, f as VolumeFlags),
  nodes: (ctx, f) => nodes(ctx, f as NodesFlags),
};
