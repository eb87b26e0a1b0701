/**
 * Run one checked control command (src/server/ws-protocol.ts `Command`) on
 * the controller and shape its answer as the API does. The MQTT bridge runs
 * its commands through here; the WebSocket's copy in ws.ts can move here
 * when that file's split lands.
 */
import type { Controller } from '../core/control.js';
import { UsageError } from '../core/errors.js';
import type { Command } from './ws-protocol.js';

export async function runCommand(ctl: Controller, cmd: Command): Promise<Record<string, unknown>> {
  switch (cmd.action) {
    case 'seek': {
      const r = await ctl.seek(cmd.target, cmd.player);
      return { player: r.player, action: 'seek', position: r.position };
    }
    case 'volume': {
      const v = await ctl.volume(cmd.request, cmd.target, cmd.player);
      return { level: v.level, muted: v.muted, target: v.target, backend: v.backend };
    }
    case 'shuffle': {
      const r = await ctl.setShuffle(cmd.value, cmd.player);
      return { player: r.player, action: 'shuffle', shuffle: r.shuffle };
    }
    case 'repeat': {
      const r = await ctl.setRepeat(cmd.mode, cmd.player);
      return { player: r.player, action: 'repeat', repeat: r.repeat };
    }
    case 'open':
      // Opening makes the machine fetch a URL: only the routes that apply the
      // open policy (scheme allow-list, admin scope) may do it, never this path.
      throw new UsageError('open is not accepted here', 'use POST /api/player/open or the WebSocket open command', 'usage.unsupported_command');
    default: {
      const r = await ctl.act(cmd.action, cmd.player);
      return { player: r.player, action: cmd.action };
    }
  }
}
