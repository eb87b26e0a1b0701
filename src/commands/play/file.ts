import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { ignorePlayerFlag, jsonFlag, playerFlag, remoteFlag } from '../../cli/flags.js';
import { playFile } from '../../cli/handlers/media.js';

export default class PlayFile extends BaseCommand {
  static override summary = 'Play an audio or video file from a media folder.';
  static override description = `FOLDER/PATH names the file inside a configured media folder (see play browse). It is checked before any player is touched: it must stay inside the folder (no .., no absolute path, no symbolic link leading outside), exist, be a regular file and have an audio or video extension; otherwise exit 2 with the reason.

MPD: the file is added to the queue and played. When it lies inside MPD's music directory it is added by its path relative to that directory; MPD tells its music directory only over its unix socket, so when MPD is reached over TCP set it with \`mediagate config set mpd.musicDirectory PATH\`. Outside the music directory MPD accepts the file only over its socket. MPRIS players (mpv, VLC…): opened with OpenUri and a file:// URI.

With --remote NAME (or MEDIAGATE_REMOTE) FOLDER/PATH is a file in one of the server's media folders, played by the server's player (POST /api/media/play).

--json prints {ok, action: "file", player, folder, path, name}.`;
  static override examples = [
    "<%= config.bin %> play file 'music/Miles Davis/Kind of Blue/01 So What.flac'",
    '<%= config.bin %> play file videos/talk.mkv --player mpv',
    '<%= config.bin %> play file music/a.ogg --player mpd --json',
  ];
  static override args = { ref: Args.string({ description: 'FOLDER/PATH of the file', required: true }) };
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(PlayFile);
    await this.handle(flags.json, (ctx) => playFile(ctx, args.ref, { player: flags.player, 'ignore-player': flags['ignore-player'] }), flags.remote);
  }
}
