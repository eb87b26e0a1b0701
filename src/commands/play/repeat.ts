import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { allPlayersFlag, ignorePlayerFlag, jsonFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class PlayRepeat extends BaseCommand {
  static override summary = 'Show or set the repeat mode.';
  static override description = `Without a mode prints off, track or playlist. off, track (repeat the current track) or playlist (the whole queue) changes it — MPRIS LoopStatus None/Track/Playlist; MPD repeat and single: track is both on, playlist repeat alone — and prints what the player reports afterwards. toggle steps off → playlist → track → off. A player that ignores the change, or has no repeat setting, is exit 3.

--json prints {player, repeat} (bare) or {ok, player, action: "repeat", repeat}; with --all-players an array with one entry per player.`;
  static override examples = ['<%= config.bin %> play repeat', '<%= config.bin %> play repeat playlist', '<%= config.bin %> play repeat toggle --player mpd'];
  static override args = { mode: Args.string({ description: 'off, track, playlist or toggle (nothing: print it)' }) };
  static override flags = { player: playerFlag, 'ignore-player': ignorePlayerFlag, 'all-players': allPlayersFlag, remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(PlayRepeat);
    await this.runHot(flags, args);
  }
}
