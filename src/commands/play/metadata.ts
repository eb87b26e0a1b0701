import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { allPlayersFlag, ignorePlayerFlag, jsonFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class PlayMetadata extends BaseCommand {
  static override summary = 'Show the raw metadata of the current track.';
  static override description = `Every key the player reports, as it reports it: xesam:* (xesam:artist is a list), mpris:* (mpris:length in microseconds, mpris:trackid) and the player's own keys (vlc:*, …). MPD's tags are mapped onto the same names (Title → xesam:title, Artist → xesam:artist, the length → mpris:length in microseconds, the song id → mpris:trackid), the other fields kept as mpd:<field> (mpd:file, mpd:Format…).

With KEY prints that key's value alone (a list joined with ", "); a key the player does not report is exit 1.

--json prints {player, metadata: {KEY: value}} or, with KEY, {player, key, value}; with --all-players an array with one entry per player.`;
  static override examples = ['<%= config.bin %> play metadata', '<%= config.bin %> play metadata xesam:url', '<%= config.bin %> play metadata --json --player mpd'];
  static override args = { key: Args.string({ description: 'one key to print, e.g. xesam:title' }) };
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, 'all-players': allPlayersFlag, remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(PlayMetadata);
    await this.runHot(flags, args);
  }
}
