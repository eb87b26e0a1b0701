import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, nodeFlag, remoteFlag } from '../../cli/flags.js';
import { playPlayers } from '../../cli/handlers/play.js';

export default class PlayPlayers extends BaseCommand {
  static override summary = 'List the players mediagate can control.';
  static override description = 'Every player mediagate can reach — MPRIS players on the D-Bus session bus (Linux), the app playing now (macOS; Music and Spotify without media-control), each app with a media session (Windows), and the MPD server — with its status; * marks the one bare commands act on. Exit 3 when there is none, with the reason for each backend.';
  static override examples = ['<%= config.bin %> play players', '<%= config.bin %> play players --json'];
  static override flags = { remote: remoteFlag, node: nodeFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(PlayPlayers);
    await this.handle(flags.json, (ctx) => playPlayers(ctx), flags.remote, flags.node);
  }
}
