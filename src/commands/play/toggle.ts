import { BaseCommand } from '../../cli/base-command.js';
import { allPlayersFlag, ignorePlayerFlag, jsonFlag, nodeFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class PlayToggle extends BaseCommand {
  static override summary = 'Toggle between playing and paused.';
  static override aliases = ['toggle'];
  static override examples = ['<%= config.bin %> play toggle', '<%= config.bin %> play toggle --player mpv'];
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, 'all-players': allPlayersFlag, remote: remoteFlag, node: nodeFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(PlayToggle);
    await this.runHot(flags);
  }
}
