import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { allPlayersFlag, ignorePlayerFlag, jsonFlag, nodeFlag, playerFlag, remoteFlag } from '../../cli/flags.js';

export default class PlayStatus extends BaseCommand {
  static override summary = 'Show what is playing.';
  static override description = `Shows the state of the most recently active player (or --player NAME): status, title, artist, album, position, volume, shuffle, repeat and capabilities.

--json prints {player, status, title, artist, album, duration, position, positionUpdatedAt, volume, shuffle, repeat, artUrl, capabilities}; times are seconds, unknown values null. Clients extrapolate the position from position + positionUpdatedAt while playing.

--format takes a template in playerctl's language with mediagate's names and units: variables {{player}} {{status}} (playing/paused/stopped) {{title}} {{artist}} {{album}} {{duration}} {{position}} (seconds) {{volume}} (0–100) {{shuffle}} {{repeat}}, and every metadata key the player reports ({{xesam:url}}, {{mpris:length}} in microseconds, as the player gives it); functions duration(seconds) (as [h:]mm:ss), lc(x), uc(x), default(x, "text"), trunc(x, n), markup_escape(x), emoji(status|volume), json(x); + - * / on numbers ({{duration(duration - position)}}), + also joins text. A template that names an unknown variable or function is refused before any output (exit 2); \`mediagate playerctl\` speaks playerctl's own dialect. With --json each substituted value is escaped for use inside a JSON string.

--follow prints one line (one JSON object with --json) per change, driven by player events (no polling), until interrupted. With --remote NAME the server pushes the changes over its WebSocket (of --player NAME when given; --all-players and --ignore-player follow on this machine only).

--all-players prints every player: one line each (\`mpv: playing — Artist - Title\`, or the --format line), a JSON array with --json; with --follow a line for each player whose line changed. --ignore-player NAME (repeatable; also config players.ignore) leaves a player out of every choice.`;
  static override aliases = ['status'];
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> play status --json',
    "<%= config.bin %> status --format '{{artist}} - {{title}} [{{duration(position)}}]'",
    '<%= config.bin %> status --follow --json',
    '<%= config.bin %> status --all-players --format \'{{player}}: {{status}}\'',
    '<%= config.bin %> status --ignore-player chromium',
  ];
  static override flags = {
    player: playerFlag,
    'ignore-player': ignorePlayerFlag,
    'all-players': allPlayersFlag,
    format: Flags.string({ char: 'f', description: 'print a line from a template, e.g. "{{artist}} - {{title}}"', helpValue: 'TEMPLATE' }),
    follow: Flags.boolean({ char: 'F', description: 'print a new line for every change until interrupted' }),
    remote: remoteFlag, node: nodeFlag,
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(PlayStatus);
    await this.runHot(flags);
  }
}
