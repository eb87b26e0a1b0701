import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { createContext } from '../cli/context.js';

export default class Playerctl extends BaseCommand {
  static override summary = "playerctl 2.4's command line and output, byte for byte — and MPD and --remote servers too.";
  static override description = `Takes playerctl 2.4's command line and prints exactly what playerctl prints for the same player state — output, messages ("No players found", "No player could handle this command") and exit codes — so status-bar configs (waybar, polybar, i3blocks, tmux…) work unchanged with \`alias playerctl='mediagate playerctl'\`, or a symlink named playerctl pointing at mediagate's bin (the name it is invoked under selects this mode). Unlike playerctl it also reaches MPD (the player named mpd) and, with -r/--remote NAME or MEDIAGATE_REMOTE, the players of a remote mediagate server.

Commands: play, pause, play-pause, stop, next, previous, position [OFFSET][+/-] (seconds), volume [LEVEL][+/-] (0.0–1.0), status, metadata [KEY…], open URI, loop [None|Track|Playlist], shuffle [On|Off|Toggle]. Options: -p/--player NAME[,NAME…] (a name also matches NAME.instance…; %any matches every player), -a/--all-players, -i/--ignore-player NAME[,NAME…], -f/--format TEMPLATE, -F/--follow, -l/--list-all, -s/--no-messages, -v/--version, -h/--help, -r/--remote NAME.

Templates (-f) are playerctl's: {{variable}} with playerName, playerInstance, status (Playing/Paused/Stopped), position (microseconds), volume (0.0–1.0), loop (None/Track/Playlist), shuffle (true/false), every metadata key (xesam:title, mpris:length, mpris:artUrl…) and the short names title, artist, album (metadata command only); functions lc, uc, duration (microseconds to [h:]mm:ss), markup_escape, default(a, b), emoji(status|volume), trunc(text, n); + - * / on numbers and string literals "…". Values keep their D-Bus types as in playerctl: mpris:length - position is an integer, volume * 100 prints 50.0.

The one deliberate difference: control characters in metadata other than tab and line feed (terminal escapes a web page or a file's tags could carry) print as spaces. Controlling a player is recorded in this machine's audit log, as the other mediagate commands do.`;
  static override strict = false;
  static override args = {
    command: Args.string({ description: "a playerctl command and its arguments, with playerctl's options anywhere (see above)", required: false }),
  };
  static override examples = [
    "<%= config.bin %> playerctl metadata --format '{{artist}} - {{title}}'",
    "<%= config.bin %> playerctl -p mpv,%any -F metadata --format '{{emoji(status)}} {{trunc(title, 30)}} {{duration(position)}}/{{duration(mpris:length)}}'",
    '<%= config.bin %> playerctl -a pause',
    '<%= config.bin %> playerctl --player mpd volume 0.1+',
    'ln -s "$(command -v mediagate)" ~/.local/bin/playerctl   # status bars then run mediagate as playerctl',
  ];

  async run(): Promise<void> {
    const { runPlayerctl } = await import('../cli/playerctl/run.js');
    process.exitCode = await runPlayerctl(this.argv, createContext(), 'mediagate playerctl');
  }
}
