/**
 * Run one checked control command (src/server/ws-protocol.ts `Command`) on
 * the controller and shape its answer as the API does. The MQTT bridge runs
 * its commands through here; the WebSocket's copy in ws.ts can move here
 * when that file's split lands.
 */
import type { Controller } from '../core/control.js';
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
    default: {
      const r = await ctl.act(cmd.action, cmd.player);
      return { player: r.player, action: cmd.action };
    }
  }
}
