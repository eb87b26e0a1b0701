import { BaseCommand } from '../../cli/base-command.js';
import { allPlayersFlag, ignorePlayerFlag, jsonFlag, nodeFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class PlayNext extends BaseCommand {
  static override summary = 'Skip to the next track.';
  static override aliases = ['next'];
  static override examples = ['<%= config.bin %> play next', '<%= config.bin %> play next --player mpv'];
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, 'all-players': allPlayersFlag, remote: remoteFlag, node: nodeFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(PlayNext);
    await this.runHot(flags);
  }
}
