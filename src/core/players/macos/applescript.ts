/**
 * Music and Spotify through AppleScript, where media-control is missing or
 * does not work on this macOS. Every script first checks `application "X"
 * is running` (telling an app that is not running would launch it). Music
 * gives seconds, Spotify durations in milliseconds; positions are seconds
 * in both. Numbers come back in the user's locale (`245,5` in many), so the
 * parser reads a decimal comma too.
 */
import { NoPlayerError, UsageError } from '../../errors.js';
import type { Capabilities, PlayerState, RepeatMode } from '../types.js';

export type ScriptedApp = 'Music' | 'Spotify';
export const SCRIPTED_APPS: readonly ScriptedApp[] = ['Music', 'Spotify'];
export const APP_PLAYER: Record<ScriptedApp, string> = { Music: 'music', Spotify: 'spotify' };

/** Fields are separated by ASCII unit separators (never in a title), records by record separators. */
const US = '\u001f';
const RS = '\u001e';

/** One script that reports every app's state: `name<US>not running` or `name<US>state<US>title…`, records separated by RS. */
export function readAllScript(apps: readonly ScriptedApp[] = SCRIPTED_APPS): string[] {
  const lines = ['set us to character id 31', 'set out to {}'];
  for (const app of apps) {
    lines.push(`if application "${app}" is running then`, `tell application "${app}"`, 'set st to player state as text');
    if (app === 'Music') {
      lines.push(
        'if st is "stopped" then',
        `set end of out to "Music" & us & st`,
        'else',
        'set t to current track',
        'set end of out to "Music" & us & st & us & (name of t) & us & (artist of t) & us & (album of t) & us & ((duration of t) as text) & us & (player position as text) & us & (shuffle enabled as text) & us & (song repeat as text) & us & (sound volume as text)',
        'end if',
      );
    } else {
      lines.push(
        'if st is "stopped" then',
        `set end of out to "Spotify" & us & st`,
        'else',
        'set t to current track',
        'set end of out to "Spotify" & us & st & us & (name of t) & us & (artist of t) & us & (album of t) & us & ((duration of t) as text) & us & (player position as text) & us & (shuffling as text) & us & (repeating as text) & us & (sound volume as text) & us & (id of t) & us & (artwork url of t)',
        'end if',
      );
    }
    lines.push('end tell', 'else', `set end of out to "${app}" & us & "not running"`, 'end if');
  }
  lines.push("set AppleScript's text item delimiters to character id 30", 'return out as text');
  return lines;
}

/** A number as AppleScript printed it, in any locale (`245.5`, `245,5`); null when it is none. */
export function localeNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = text.trim().replace(/\s/g, '');
  if (!/^-?\d+(?:[.,]\d+)?(?:E[+-]?\d+)?$/i.test(t)) return null;
  const n = Number(t.replace(',', '.'));
  return Number.isFinite(n) ? n : null;
}

const STATUS: Record<string, PlayerState['status']> = {
  playing: 'playing', paused: 'paused', stopped: 'stopped', 'fast forwarding': 'playing', rewinding: 'playing',
  // Numeric forms (older Spotify builds print the constant's code).
  kPSP: 'playing', kPSp: 'paused', kPSS: 'stopped',
};

const MUSIC_REPEAT: Record<string, RepeatMode> = { off: 'off', one: 'track', all: 'playlist' };

/** What readAllScript printed, per app: its state, or null when the app is not running. */
export function parseReadAll(out: string, nowMs: number): Map<ScriptedApp, PlayerState | null> {
  const result = new Map<ScriptedApp, PlayerState | null>();
  for (const record of out.split(RS)) {
    const f = record.replace(/\r?\n$/, '').split(US);
    const app = f[0] as ScriptedApp;
    if (!SCRIPTED_APPS.includes(app)) continue;
    if (f[1] === 'not running') { result.set(app, null); continue; }
    result.set(app, appState(app, f.slice(1), nowMs));
  }
  return result;
}

const txt = (s: string | undefined): string | null => (s === undefined || s === '' || s === 'missing value' ? null : s);

function appState(app: ScriptedApp, f: string[], nowMs: number): PlayerState {
  const status = STATUS[f[0] ?? ''] ?? 'stopped';
  const caps: Capabilities = { canPlay: true, canPause: true, canSeek: false, canGoNext: true, canGoPrevious: true, canSetVolume: true, canControl: true,
    canShuffle: true, canRepeat: true, canOpenUri: app === 'Spotify' };
  const base: PlayerState = {
    player: APP_PLAYER[app], status, title: null, artist: null, album: null, duration: null, position: null, positionUpdatedAt: null,
    volume: localeNumber(f[8]), shuffle: null, repeat: null, artUrl: null, capabilities: caps,
  };
  if (status === 'stopped' || f.length < 2) return base;
  const rawDuration = localeNumber(f[4]);
  // Spotify: milliseconds; Music: seconds.
  const duration = rawDuration === null || rawDuration <= 0 ? null : app === 'Spotify' ? rawDuration / 1000 : rawDuration;
  const position = localeNumber(f[5]);
  const art = txt(f[10]);
  return {
    ...base,
    title: txt(f[1]),
    artist: txt(f[2]),
    album: txt(f[3]),
    duration: duration === null ? null : Math.round(duration * 1000) / 1000,
    position: position === null ? null : Math.round(Math.max(0, position) * 1000) / 1000,
    positionUpdatedAt: position === null ? null : new Date(nowMs).toISOString(),
    shuffle: f[6] === 'true' ? true : f[6] === 'false' ? false : null,
    repeat: app === 'Music' ? (MUSIC_REPEAT[f[7] ?? ''] ?? null) : f[7] === 'true' ? 'playlist' : f[7] === 'false' ? 'off' : null,
    artUrl: art && /^https?:\/\//.test(art) ? art : null,
    capabilities: { ...caps, canSeek: duration !== null },
  };
}

/** The script that sends one control to `app`; values come as run-handler arguments. */
export function controlScript(app: ScriptedApp, command: string): string[] {
  const guard = (body: string[]) => [
    'on run argv',
    `if application "${app}" is running then`,
    `tell application "${app}"`,
    ...body,
    'end tell',
    'return "ok"',
    'else',
    'return "not running"',
    'end if',
    'end run',
  ];
  switch (command) {
    case 'play': return guard(['play']);
    case 'pause': return guard(['pause']);
    case 'toggle': return guard(['playpause']);
    // Spotify has no stop: pause and go back to the start, which is what stop means to a listener.
    case 'stop': return guard(app === 'Music' ? ['stop'] : ['pause', 'set player position to 0']);
    case 'next': return guard(['next track']);
    case 'previous': return guard(['previous track']);
    // Positions go as whole milliseconds: a real's text form depends on the locale, an integer's does not.
    case 'seek': return guard(['set player position to ((item 1 of argv) as integer) / 1000']);
    case 'volume': return guard(['set sound volume to ((item 1 of argv) as integer)']);
    case 'shuffle': return guard([app === 'Music' ? 'set shuffle enabled to ((item 1 of argv) is "true")' : 'set shuffling to ((item 1 of argv) is "true")']);
    case 'repeat': return guard(app === 'Music'
      ? ['set m to item 1 of argv', 'if m is "one" then', 'set song repeat to one', 'else if m is "all" then', 'set song repeat to all', 'else', 'set song repeat to off', 'end if']
      : ['set repeating to ((item 1 of argv) is "true")']);
    case 'open': return guard(['play track (item 1 of argv)']);
    default: throw new UsageError(`unknown AppleScript command '${command}'`);
  }
}

/** The argument controlScript's `repeat` takes for a repeat mode; Spotify repeats all or nothing. */
export function repeatArg(app: ScriptedApp, mode: RepeatMode): string {
  if (app === 'Music') return mode === 'track' ? 'one' : mode === 'playlist' ? 'all' : 'off';
  if (mode === 'track') {
    throw new NoPlayerError("Spotify's AppleScript can repeat the whole list or nothing, not one track", 'use repeat playlist or off', 'player.unsupported');
  }
  return mode === 'playlist' ? 'true' : 'false';
}
