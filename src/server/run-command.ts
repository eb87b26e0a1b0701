/**
 * Run one checked control command (src/server/ws-protocol.ts `Command`) on
 * the controller and shape its answer as the API does. The MQTT bridge runs
 * and the WebSocket dispatch run their commands through here.
 */
import type { Controller } from '../core/control.js';
import { UsageError } from '../core/errors.js';
import type { Command } from './ws-protocol.js';

/**
 * `openChecked`: the caller has applied the open policy (scheme allow-list,
 * config server.openScope) to this command — the WebSocket does; the MQTT
 * bridge cannot (its commands are never admin), so open is refused there.
 */
export async function runCommand(ctl: Controller, cmd: Command, { openChecked = false }: { openChecked?: boolean } = {}): Promise<Record<string, unknown>> {
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
    case 'open': {
      // Opening makes the machine fetch a URL: only callers that applied the
      // open policy (scheme allow-list, admin scope) may do it.
      if (!openChecked) throw new UsageError('open is not accepted here', 'use POST /api/player/open or the WebSocket open command', 'usage.unsupported_command');
      const r = await ctl.open(cmd.uri, cmd.player);
      return { player: r.player, action: 'open', uri: r.uri };
    }
    default: {
      const r = await ctl.act(cmd.action, cmd.player);
      return { player: r.player, action: cmd.action };
    }
  }
}
