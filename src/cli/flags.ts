import { Flags } from '@oclif/core';

/** Flags shared by several commands, defined once. */
export const playerFlag = Flags.string({
  char: 'p',
  description: 'player to act on: mpd, an MPRIS name such as mpv, or an app on macOS/Windows such as spotify (default: the most recently active player)',
  helpValue: 'NAME',
});

export const jsonFlag = Flags.boolean({ description: 'print machine-readable JSON (stable, additive-only fields)' });

export const remoteFlag = Flags.string({
  char: 'r',
  description: 'send the command to this remote mediagate server (a profile from `mediagate remote add`; default: $MEDIAGATE_REMOTE, else config remote.default; `local` = this machine)',
  helpValue: 'NAME',
});

export const ignorePlayerFlag = Flags.string({
  char: 'i',
  description: 'leave this player out, as if it were not there; repeatable or comma-separated (also config players.ignore)',
  helpValue: 'NAME',
  multiple: true,
  multipleNonGreedy: true,
});

export const allPlayersFlag = Flags.boolean({
  char: 'a',
  description: 'every player (but ignored ones): one line or JSON array entry each; ok if one of them did it',
});
