import { BaseCommand } from '../../cli/base-command.js';
import { allPlayersFlag, ignorePlayerFlag, jsonFlag, nodeFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class Play extends BaseCommand {
  static override summary = 'Resume playback (see the subcommands for everything else).';
  static override description = 'Resumes the most recently active player, or the one named with --player. A player that cannot play is an error (exit 3), not a silent no-op.';
  static override examples = ['<%= config.bin %> play', '<%= config.bin %> play --player mpd'];
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, 'all-players': allPlayersFlag, remote: remoteFlag, node: nodeFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(Play);
    await this.runHot(flags);
  }
}
