import { UsageError } from '../../core/errors.js';
import { chooseMixer } from '../../core/volume/select.js';
import { applyChange, parseVolumeRequest } from '../../core/volume/request.js';
import type { VolumeReading } from '../../core/volume/types.js';
import { out, outJson, say, type Ctx } from '../context.js';
import { withHub } from './players.js';

export interface VolumeFlags {
  target?: string | undefined;
  player?: string | undefined;
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
  await withHub(ctx, async (hub, config) => {
    const { mixer, reading } = await chooseMixer({ env: ctx.env, config, target, player: flags.player, hub });
    let after: VolumeReading = reading;
    switch (request.kind) {
      case 'get':
        break;
      case 'set':
        await mixer.set(request.level);
        after = { ...reading, level: request.level };
        break;
      case 'change': {
        const level = applyChange(reading, request.delta);
        if (level !== reading.level) await mixer.set(level);
        after = { ...reading, level };
        break;
      }
      case 'mute':
      case 'unmute':
      case 'toggle-mute': {
        const muted = request.kind === 'mute' ? true : request.kind === 'unmute' ? false : !reading.muted;
        if (muted !== reading.muted) await mixer.setMuted(muted);
        after = await mixer.get();
        break;
      }
    }
    if (ctx.json) {
      outJson(ctx, { level: after.level, muted: after.muted, target: mixer.target, backend: mixer.backend });
    } else {
      out(ctx, String(after.level));
      if (after.muted) say(ctx, '(muted)');
    }
  });
}
