import { BaseCommand } from '../../cli/base-command.js';
import { allPlayersFlag, ignorePlayerFlag, jsonFlag, nodeFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class PlayPause extends BaseCommand {
  static override summary = 'Pause playback.';
  static override aliases = ['pause'];
  static override examples = ['<%= config.bin %> play pause', '<%= config.bin %> play pause --player mpv'];
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, 'all-players': allPlayersFlag, remote: remoteFlag, node: nodeFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(PlayPause);
    await this.runHot(flags);
  }
}
