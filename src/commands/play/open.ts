import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { ignorePlayerFlag, jsonFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class PlayOpen extends BaseCommand {
  static override summary = 'Open a URI (or a file) and play it.';
  static override description = `MPRIS players: OpenUri, when the player supports the URI's scheme (its SupportedUriSchemes; file is taken as supported by any player that lists schemes at all); a plain path is a local file, relative to the working directory. MPD: the URL (a scheme of its URL handlers; file:// and absolute paths only over its unix socket) or a path in MPD's database (as \`mpc ls\` shows it) is added to the queue and played.

A scheme the player does not open is exit 3, naming the schemes it does. With --remote NAME the server opens it: only the schemes of its config server.openSchemes (default http, https; never a plain path), with a token of server.openScope (default admin), since the server's machine fetches the URL.

--json prints {ok, player, action: "open", uri}.`;
  static override examples = [
    '<%= config.bin %> play open https://radio.example.org/stream.ogg',
    '<%= config.bin %> play open ~/Music/song.flac --player mpv',
    "<%= config.bin %> play open 'Albums/Kind of Blue/01 So What.flac' --player mpd",
  ];
  static override args = { uri: Args.string({ description: 'a URI (https://…, file://…), a local file (MPRIS) or a path in MPD\'s database', required: true }) };
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(PlayOpen);
    await this.runHot(flags, args);
  }
}
