import { UsageError } from '../../core/errors.js';
import { parseVolumeRequest } from '../../core/volume/request.js';
import { out, outJson, say, type Ctx } from '../context.js';
import { withController } from './players.js';
import { ignoreList } from './selection.js';

export interface VolumeFlags {
  target?: string | undefined;
  player?: string | undefined;
  'ignore-player'?: string[] | undefined;
  json?: boolean | undefined;
}

function parseTarget(t: string | undefined): 'system' | 'player' | undefined {
  if (t === undefined || t === 'system' || t === 'player') return t;
  throw new UsageError(`invalid --target '${t}'`, 'use --target system or --target player', 'usage.invalid_target');
}

/** `mediagate volume [LEVEL|+N|-N|mute|unmute|toggle-mute]`. */
export async function volume(ctx: Ctx, arg: string | undefined, flags: VolumeFlags): Promise<void> {
  const request = parseVolumeRequest(arg);
  const target = parseTarget(flags.target);
  await withController(ctx, async (ctl) => {
    const after = await ctl.volume(request, target, flags.player);
    if (after.level > 100) {
      // Boosted by another tool (pactl, pavucontrol): report it as it is, and say why +N did not move it.
      const kept = request.kind === 'change' && request.delta > 0 ? `; +${request.delta} left it there (mediagate raises the volume to 100 at most)` : '';
      say(ctx, `note: the volume is ${after.level}, above 100${kept}`);
    }
    if (ctx.json) {
      outJson(ctx, { level: after.level, muted: after.muted, target: after.target, backend: after.backend });
    } else {
      out(ctx, String(after.level));
      if (after.muted) say(ctx, '(muted)');
    }
  }, { ignore: ignoreList(flags) });
}
