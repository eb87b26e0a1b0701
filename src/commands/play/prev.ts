import { BaseCommand } from '../../cli/base-command.js';
import { allPlayersFlag, ignorePlayerFlag, jsonFlag, nodeFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class PlayPrev extends BaseCommand {
  static override summary = 'Go back to the previous track.';
  static override aliases = ['prev'];
  static override examples = ['<%= config.bin %> play prev', '<%= config.bin %> play prev --player mpv'];
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, 'all-players': allPlayersFlag, remote: remoteFlag, node: nodeFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(PlayPrev);
    await this.runHot(flags);
  }
}
