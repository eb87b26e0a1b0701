/**
 * playerctl's commands, one player at a time, with playerctl's rules: each
 * checks what playerctl checks (a capability, a property the player has)
 * and, when the player cannot, is "not handled" — the next player is tried;
 * bad input is a CommandError (playerctl's message; exit 1). Output is what
 * playerctl prints, newline included.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMediagateError } from '../../core/errors.js';
import { playerctlVariables, TemplateRuntimeError, type PlayerctlLoop, type Template } from '../../core/format.js';
import { printfF } from '../../core/template/gvariant-text.js';
import { metadataListing, metadataValue } from './render.js';
import { positionNow, type PlayerctlPlayer, type PlayerctlState } from './player.js';

/** A refusal playerctl reports as "Could not execute command: <message>". */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** What playerctl says about a failure inside a command (bad input, a template error, a player refusing); undefined for a bug. */
export function commandFailure(e: unknown): string | undefined {
  if (e instanceof CommandError || e instanceof TemplateRuntimeError || isMediagateError(e)) return e.message;
  return undefined;
}

/** The property change that makes --follow run a command again (playerctl's signal names, in short). */
export type FollowSignal = 'status' | 'metadata' | 'volume' | 'seeked' | 'loop' | 'shuffle';

export interface CommandInput {
  /** The command words: the command, then its arguments. */
  argv: string[];
  /** -f/--format, parsed. */
  template?: Template | undefined;
  /** The working directory, for `open FILE`. */
  cwd: string;
}

export interface Outcome {
  handled: boolean;
  output?: string;
  /** A control action to audit: action name and detail. */
  audit?: { action: string; detail?: string };
}

export interface PlayerctlCommand {
  readonly name: string;
  readonly supportsFormat: boolean;
  /** The change that re-runs it under --follow; none: --follow is refused. */
  readonly follows?: FollowSignal;
  run(player: PlayerctlPlayer, state: PlayerctlState, input: CommandInput): Promise<Outcome>;
}

const NOT_HANDLED: Outcome = { handled: false };
const done = (action: string, detail?: string): Outcome => ({ handled: true, audit: { action, ...(detail !== undefined ? { detail } : {}) } });

/** A template expanded for one player (the metadata only for the metadata command), as one output line. */
function expand(template: Template, state: PlayerctlState, withMetadata: boolean): string {
  const view = { ...state, position: positionNow(state) };
  return `${template.render(playerctlVariables(view, withMetadata), 'terminal')}\n`;
}

/** The number at the start of `text`, as C's strtod reads it; undefined when there is none. */
export function strtod(text: string): number | undefined {
  const m = /^[\t\n\v\f\r ]*([+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan))/i.exec(text);
  if (!m) return undefined;
  const t = m[1]!.toLowerCase();
  if (t.endsWith('inf') || t.endsWith('infinity')) return t.startsWith('-') ? -Infinity : Infinity;
  if (t.endsWith('nan')) return NaN;
  return Number(t);
}

/** C's conversion of a double to an int64 (toward zero). */
function int64Of(d: number): bigint {
  if (Number.isNaN(d)) return 0n;
  if (!Number.isFinite(d)) return d > 0 ? (1n << 63n) - 1n : -(1n << 63n);
  return BigInt.asIntN(64, BigInt(Math.trunc(d)));
}

/** The URI `open` sends: an existing file as a file:// URI of its absolute path, anything else as given. */
export function openUri(arg: string, cwd: string): string {
  try {
    if (/^[a-z][a-z0-9+.-]*:/i.test(arg)) {
      if (!/^file:/i.test(arg)) return arg;
      const path = fileURLToPath(arg);
      return existsSync(path) ? pathToFileURL(path).href : arg;
    }
    const path = resolve(cwd, arg);
    return existsSync(path) ? pathToFileURL(path).href : arg;
  } catch {
    return arg;
  }
}

const NO_FORMAT_ON_FUNCTIONS = 'format strings are not supported on command functions.';

function action(name: string, method: (p: PlayerctlPlayer) => Promise<void>, can: (s: PlayerctlState) => boolean, audit: string): PlayerctlCommand {
  return {
    name,
    supportsFormat: false,
    async run(player, state) {
      if (!can(state)) return NOT_HANDLED;
      await method(player);
      return done(audit);
    },
  };
}

const position: PlayerctlCommand = {
  name: 'position',
  supportsFormat: true,
  follows: 'seeked',
  async run(player, state, { argv, template }) {
    const arg = argv[1];
    if (arg === undefined) {
      if (template) return { handled: true, output: expand(template, state, false) };
      const now = positionNow(state);
      return now === undefined ? NOT_HANDLED : { handled: true, output: `${printfF(Number(now) / 1e6)}\n` };
    }
    if (template) throw new CommandError(NO_FORMAT_ON_FUNCTIONS);
    const seconds = strtod(arg);
    if (seconds === undefined) throw new CommandError(`Could not parse position as a number: ${arg}\n`);
    let offset = int64Of(1e6 * seconds);
    if (!state.caps.canSeek) return NOT_HANDLED;
    const last = arg.at(-1);
    if (last === '+' || last === '-') {
      if (last === '-') offset = -offset;
      await player.seek(offset);
      return done('player.seek', `${offset >= 0n ? '+' : ''}${Number(offset) / 1e6}`);
    }
    await player.setPosition(offset, state);
    return done('player.seek', String(Number(offset) / 1e6));
  },
};

const volume: PlayerctlCommand = {
  name: 'volume',
  supportsFormat: true,
  follows: 'volume',
  async run(player, state, { argv, template }) {
    const arg = argv[1];
    if (arg === undefined) {
      if (state.volume === undefined) return NOT_HANDLED;
      return { handled: true, output: template ? expand(template, state, false) : `${printfF(state.volume)}\n` };
    }
    if (template) throw new CommandError(NO_FORMAT_ON_FUNCTIONS);
    const last = arg.at(-1);
    const n = strtod(arg);
    if (n === undefined) throw new CommandError(`could not parse volume as a number: ${arg}\n`);
    const level = last === '+' || last === '-' ? (state.volume ?? 0) + (last === '-' ? -n : n) : n;
    if (!state.caps.canControl) return NOT_HANDLED;
    await player.setVolume(level);
    return done('volume.set', `player ${level}`);
  },
};

const status: PlayerctlCommand = {
  name: 'status',
  supportsFormat: true,
  follows: 'status',
  async run(_player, state, { template }) {
    if (state.status === undefined) return NOT_HANDLED;
    return { handled: true, output: template ? expand(template, state, false) : `${state.status}\n` };
  },
};

const LOOPS: Record<string, PlayerctlLoop> = { none: 'None', track: 'Track', playlist: 'Playlist' };

const loop: PlayerctlCommand = {
  name: 'loop',
  supportsFormat: true,
  follows: 'loop',
  async run(player, state, { argv, template }) {
    const arg = argv[1];
    if (arg === undefined) {
      if (template) return { handled: true, output: expand(template, state, false) };
      return state.loop === undefined ? NOT_HANDLED : { handled: true, output: `${state.loop}\n` };
    }
    const wanted = LOOPS[arg.toLowerCase()];
    if (!wanted) throw new CommandError(`Got unknown loop status: '${arg}' (expected 'none', 'playlist', or 'track').`);
    if (!state.caps.canControl) return NOT_HANDLED;
    await player.setLoop(wanted);
    return done('player.repeat', wanted);
  },
};

const shuffle: PlayerctlCommand = {
  name: 'shuffle',
  supportsFormat: true,
  follows: 'shuffle',
  async run(player, state, { argv, template }) {
    const arg = argv[1];
    if (arg === undefined) {
      if (state.shuffle === undefined) return NOT_HANDLED;
      return { handled: true, output: template ? expand(template, state, false) : state.shuffle ? 'On\n' : 'Off\n' };
    }
    const word = arg.toLowerCase();
    let on: boolean;
    if (word === 'on') on = true;
    else if (word === 'off') on = false;
    else if (word === 'toggle') on = !(state.shuffle ?? false);
    else throw new CommandError(`Got unknown shuffle status: '${arg}' (expected 'on', 'off', or 'toggle').`);
    if (!state.caps.canControl) return NOT_HANDLED;
    await player.setShuffle(on);
    return done('player.shuffle', on ? 'on' : 'off');
  },
};

const SHORT_KEYS: Record<string, string> = { artist: 'xesam:artist', title: 'xesam:title', album: 'xesam:album' };

const metadata: PlayerctlCommand = {
  name: 'metadata',
  supportsFormat: true,
  follows: 'metadata',
  async run(_player, state, { argv, template }) {
    if (!state.caps.canPlay) return NOT_HANDLED;
    if (template) return state.metadata.length === 0 ? NOT_HANDLED : { handled: true, output: expand(template, state, true) };
    if (argv.length === 1) {
      return state.metadata.length === 0 ? NOT_HANDLED : { handled: true, output: `${metadataListing(state)}\n` };
    }
    // Every key must be there; playerctl prints the last one's value.
    let output = '';
    for (const key of argv.slice(1)) {
      const value = metadataValue(state, SHORT_KEYS[key] ?? key);
      if (value === undefined) return NOT_HANDLED;
      output = `${value}\n`;
    }
    return { handled: true, output };
  },
};

const open: PlayerctlCommand = {
  name: 'open',
  supportsFormat: false,
  async run(player, state, { argv, cwd }) {
    if (!state.caps.canControl) return NOT_HANDLED;
    const arg = argv[1];
    if (arg === undefined) return { handled: true };
    const uri = openUri(arg, cwd);
    await player.open(uri);
    return done('player.open', uri.slice(0, 300));
  },
};

/** The commands, in playerctl's order. */
export const COMMANDS: readonly PlayerctlCommand[] = [
  open,
  action('play', (p) => p.play(), (s) => s.caps.canPlay, 'player.play'),
  action('pause', (p) => p.pause(), (s) => s.caps.canPause, 'player.pause'),
  action('play-pause', (p) => p.playPause(), (s) => s.caps.canPlay, 'player.toggle'),
  // playerctl: there is no CanStop; a player without a track (CanPlay false) cannot stop.
  action('stop', (p) => p.stop(), (s) => s.caps.canPlay, 'player.stop'),
  action('next', (p) => p.next(), (s) => s.caps.canGoNext, 'player.next'),
  action('previous', (p) => p.previous(), (s) => s.caps.canGoPrevious, 'player.previous'),
  position,
  volume,
  status,
  loop,
  shuffle,
  metadata,
];

const ACTIONS: Readonly<Record<string, string>> = {
  play: 'player.play', pause: 'player.pause', 'play-pause': 'player.toggle', stop: 'player.stop', next: 'player.next',
  previous: 'player.previous', position: 'player.seek', volume: 'volume.set', loop: 'player.repeat', shuffle: 'player.shuffle', open: 'player.open',
};

/** The audit action of a command line that controls a player; undefined for one that only reads. */
export function controlAction(argv: readonly string[]): string | undefined {
  const [name, arg] = argv;
  if (['position', 'volume', 'loop', 'shuffle'].includes(name!) && arg === undefined) return undefined;
  return ACTIONS[name!];
}

export function findCommand(name: string): PlayerctlCommand | undefined {
  return COMMANDS.find((c) => c.name === name);
}
