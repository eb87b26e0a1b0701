/**
 * playerctl's command line, parsed the way its option parser (GLib's
 * GOption) does: options anywhere, `--name value` and `--name=value`,
 * grouped short flags (`-sp NAME`), `--` ending the options, the last of a
 * repeated option winning, and the same messages for what it refuses
 * ("Unknown option -x", "Missing argument for -p") — after which playerctl
 * exits 0, so this mode does too. mediagate adds `-r/--remote NAME`.
 */
export interface PlayerctlOptions {
  player?: string | undefined;
  allPlayers: boolean;
  ignorePlayer?: string | undefined;
  format?: string | undefined;
  follow: boolean;
  listAll: boolean;
  noMessages: boolean;
  version: boolean;
  remote?: string | undefined;
  /** The command and its arguments. */
  command: string[];
}

export type Parsed =
  | { kind: 'run'; options: PlayerctlOptions }
  | { kind: 'help' }
  /** An option error: the message for stderr (exit 0, as playerctl). */
  | { kind: 'error'; message: string };

interface Entry { long: string; short?: string; key: keyof PlayerctlOptions; takesValue: boolean; valueName?: string; description: string }

/** The options, in playerctl's order (its help lists them so). */
export const ENTRIES: readonly Entry[] = [
  { long: 'player', short: 'p', key: 'player', takesValue: true, valueName: 'NAME', description: 'A comma separated list of names of players to control (default: the first available player)' },
  { long: 'all-players', short: 'a', key: 'allPlayers', takesValue: false, description: 'Select all available players to be controlled' },
  { long: 'ignore-player', short: 'i', key: 'ignorePlayer', takesValue: true, valueName: 'IGNORE', description: 'A comma separated list of names of players to ignore.' },
  { long: 'format', short: 'f', key: 'format', takesValue: true, description: 'A format string for printing properties and metadata' },
  { long: 'follow', short: 'F', key: 'follow', takesValue: false, description: 'Block and append the query to output when it changes for the most recently updated player.' },
  { long: 'list-all', short: 'l', key: 'listAll', takesValue: false, description: 'List the names of running players that can be controlled' },
  { long: 'no-messages', short: 's', key: 'noMessages', takesValue: false, description: 'Suppress diagnostic messages' },
  { long: 'version', short: 'v', key: 'version', takesValue: false, description: 'Print version information' },
  { long: 'remote', short: 'r', key: 'remote', takesValue: true, valueName: 'NAME', description: 'Send the command to this remote mediagate server (a profile from `mediagate remote add`)' },
];

const byLong = new Map(ENTRIES.map((e) => [e.long, e]));
const byShort = new Map(ENTRIES.filter((e) => e.short).map((e) => [e.short!, e]));

export function parseOptions(argv: readonly string[]): Parsed {
  const options: PlayerctlOptions = { allPlayers: false, follow: false, listAll: false, noMessages: false, version: false, command: [] };
  const set = (e: Entry, value?: string): void => {
    (options as unknown as Record<string, unknown>)[e.key] = e.takesValue ? value : true;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { options.command.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('-') || arg === '-') { options.command.push(arg); continue; }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      if (name === 'help' || name === 'help-all') return { kind: 'help' };
      const e = byLong.get(name);
      if (!e) return { kind: 'error', message: `Unknown option ${arg}` };
      if (!e.takesValue) { set(e); continue; }
      if (eq >= 0) set(e, arg.slice(eq + 1));
      else if (i + 1 < argv.length) set(e, argv[++i]);
      else return { kind: 'error', message: `Missing argument for --${name}` };
      continue;
    }
    // A group of short options: each takes the next word if it needs a value, at most one per group.
    let tookNext = false;
    for (const c of arg.slice(1)) {
      if (c === 'h' || c === '?') return { kind: 'help' };
      const e = byShort.get(c);
      if (!e) return { kind: 'error', message: `Unknown option ${arg}` };
      if (!e.takesValue) { set(e); continue; }
      if (tookNext) return { kind: 'error', message: `Error parsing option -${c}` };
      if (i + 1 >= argv.length) return { kind: 'error', message: `Missing argument for -${c}` };
      set(e, argv[i + 1]);
      tookNext = true;
    }
    if (tookNext) i++;
  }
  return { kind: 'run', options };
}

/** A comma-separated player list as playerctl splits it: empty items dropped, each trimmed. */
export function playerList(arg: string | undefined): string[] {
  if (arg === undefined) return [];
  return arg.split(',').filter((s) => s !== '').map((s) => s.trim());
}
