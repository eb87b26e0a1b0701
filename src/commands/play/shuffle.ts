import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { allPlayersFlag, ignorePlayerFlag, jsonFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class PlayShuffle extends BaseCommand {
  static override summary = 'Show or set shuffle.';
  static override description = `Without a value prints on or off. on, off or toggle changes it (MPRIS Shuffle, MPD random) and prints what the player reports afterwards; a player that ignores the change is exit 3 ("the player did not apply the shuffle change"), one without shuffle (Chromium) exit 3.

--json prints {player, shuffle} (bare) or {ok, player, action: "shuffle", shuffle}; with --all-players an array with one entry per player.`;
  static override examples = ['<%= config.bin %> play shuffle', '<%= config.bin %> play shuffle on', '<%= config.bin %> play shuffle toggle --player mpd'];
  static override args = { value: Args.string({ description: 'on, off or toggle (nothing: print it)' }) };
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, 'all-players': allPlayersFlag, remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(PlayShuffle);
    await this.runHot(flags, args);
  }
}
