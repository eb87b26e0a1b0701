import { BaseCommand } from '../../cli/base-command.js';
import { allPlayersFlag, ignorePlayerFlag, jsonFlag, nodeFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class PlayStop extends BaseCommand {
  static override summary = 'Stop playback.';
  static override aliases = [];
  static override examples = ['<%= config.bin %> play stop', '<%= config.bin %> play stop --player mpv'];
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, 'all-players': allPlayersFlag, remote: remoteFlag, node: nodeFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(PlayStop);
    await this.runHot(flags);
  }
}
