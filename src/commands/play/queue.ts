import { BaseCommand } from '../../cli/base-command.js';
import { ignorePlayerFlag, jsonFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class PlayQueue extends BaseCommand {
  static override summary = "Show the player's queue.";
  static override description = `MPD: the whole queue. MPRIS: the player's TrackList (VLC has one); a player without one (mpv, browsers) is exit 3, "not supported by this player". * marks the current track.

--json prints {player, queue: [{position, id, title, artist, album, duration, uri, current}]}: position counts from 0, duration in seconds.`;
  static override examples = ['<%= config.bin %> play queue', '<%= config.bin %> play queue --player mpd --json'];
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(PlayQueue);
    await this.runHot(flags);
  }
}
