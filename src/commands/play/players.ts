import { BaseCommand } from '../../cli/base-command.js';
import { ignorePlayerFlag, jsonFlag, remoteFlag } from '../../cli/flags.js';
import { playPlayers } from '../../cli/handlers/play.js';

export default class PlayPlayers extends BaseCommand {
  static override summary = 'List the players mediagate can control.';
  static override description = `Every player mediagate can reach — MPRIS players on the D-Bus session bus (Linux), the app playing now (macOS; Music and Spotify without media-control), each app with a media session (Windows), and the MPD server — with its status; * marks the one bare commands act on. Exit 3 when there is none, with the reason for each backend.

A player that owns several bus names on one connection (VLC: vlc and vlc.instance<PID>) is one row, under the name without the instance suffix; --player takes either name. Ignored players (--ignore-player, config players.ignore) are left out.

--json prints [{name, backend, status, responding, error?, title, artist, active, capabilities, aliases}]; aliases are the player's other names.`;
  static override examples = ['<%= config.bin %> play players', '<%= config.bin %> play players --json'];
  static override flags = { 'ignore-player': ignorePlayerFlag, remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(PlayPlayers);
    await this.handle(flags.json, (ctx) => playPlayers(ctx, flags), flags.remote);
  }
}
