import { ENTRIES } from './options.js';

/** The playerctl version whose command line and output this mode reproduces (what `--version` prints). */
export const PLAYERCTL_VERSION = 'v2.4.1';

const COMMANDS = `Available Commands:
  play                    Command the player to play
  pause                   Command the player to pause
  play-pause              Command the player to toggle between play/pause
  stop                    Command the player to stop
  next                    Command the player to skip to the next track
  previous                Command the player to skip to the previous track
  position [OFFSET][+/-]  Command the player to go to the position or seek forward/backward OFFSET in seconds
  volume [LEVEL][+/-]     Print or set the volume to LEVEL from 0.0 to 1.0
  status                  Get the play status of the player
  metadata [KEY...]       Print metadata information for the current track. If KEY is passed,
                          print only those values. KEY may be artist,title, album, or any key found in the metadata.
  open [URI]              Command for the player to open given URI.
                          URI can be either file path or remote URL.
  loop [STATUS]           Print or set the loop status.
                          Can be "None", "Track", or "Playlist".
  shuffle [STATUS]        Print or set the shuffle status.
                          Can be "On", "Off", or "Toggle".`;

/**
 * The help playerctl prints (for -h, and on stdout with exit 1 when no
 * command is given), laid out as GOption lays it out, for this mode: `prog`
 * is how it was invoked (`playerctl` through a symlink, else `mediagate playerctl`).
 */
export function helpText(prog: string): string {
  const row = (left: string, text: string): string => `  ${left.padEnd(31)}${text}`;
  const options = ENTRIES.map((e) => row(`-${e.short}, --${e.long}${e.valueName ? `=${e.valueName}` : ''}`, e.description));
  return [
    'Usage:',
    `  ${prog} [OPTION\u2026] COMMAND - Controller for media players`,
    '',
    '  For players supporting the MPRIS D-Bus specification, and MPD (mediagate\'s playerctl mode)',
    '',
    'Help Options:',
    row('-h, --help', 'Show help options'),
    '',
    'Application Options:',
    ...options,
    '',
    COMMANDS,
    '',
  ].join('\n');
}
