import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { allPlayersFlag, ignorePlayerFlag, jsonFlag, nodeFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class PlaySeek extends BaseCommand {
  static override summary = 'Move within the current track.';
  static override description = 'POS is seconds (90), a time (1:30 or 1:02:03), a move relative to now (+10, -10, +1:00) or a percentage of the track (50%). A player that cannot seek is an error (exit 3).';
  static override examples = ['<%= config.bin %> play seek 1:30', '<%= config.bin %> play seek -10', '<%= config.bin %> play seek 50%'];
  static override args = { position: Args.string({ description: 'where to go: 90, 1:30, +10, -10 or 50%', required: true }) };
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, 'all-players': allPlayersFlag, remote: remoteFlag, node: nodeFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(PlaySeek);
    await this.runHot(flags, args);
  }
}
