import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createContext } from './context.js';
import { reportError } from './errors.js';
import { normalizeArgv } from './argv.js';
import { codePathsTaken } from '../core/code-paths.js';

/**
 * The fast path: run a hot command without loading @oclif/core (~180 ms of
 * start-up on Node 20). Flags and args come from the oclif manifest that the
 * build generates from the command classes, so there is one definition of
 * each command. Anything unusual — help, an unknown or malformed flag, a
 * missing argument, a command that is not hot — returns undefined and oclif
 * handles it, with its own messages.
 */
interface ManifestFlag { name: string; type: 'boolean' | 'option'; char?: string; multiple?: boolean; multipleNonGreedy?: boolean; options?: string[]; default?: unknown }
interface ManifestArg { name: string; required?: boolean }
interface ManifestCommand { id: string; aliases?: string[]; flags: Record<string, ManifestFlag>; args: Record<string, ManifestArg>; strict?: boolean }

function loadManifest(path: string): Record<string, ManifestCommand> | undefined {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { commands: Record<string, ManifestCommand> }).commands;
  } catch {
    return undefined;
  }
}

const HELPISH = new Set(['--help', '-h', '--version', '-v', 'help', '--']);

/** Find the command an argv names: `play status`, `status` (alias), `volume`. */
function resolve(argv: string[], commands: Record<string, ManifestCommand>): { cmd: ManifestCommand; rest: string[] } | undefined {
  const words: string[] = [];
  for (const a of argv) { if (a.startsWith('-')) break; words.push(a); if (words.length === 2) break; }
  for (let n = words.length; n >= 1; n--) {
    const id = words.slice(0, n).join(':');
    const cmd = commands[id] ?? Object.values(commands).find((c) => c.aliases?.includes(id));
    if (cmd) {
      const idx = argv.indexOf(words[n - 1]!);
      return { cmd, rest: [...argv.slice(0, idx - (n - 1)), ...argv.slice(idx + 1)] };
    }
  }
  return undefined;
}

let playerctlProgram = 'mediagate playerctl';
let dispatched: string | undefined;

/**
 * What the last runFast ran on the fast path, or undefined: the command's
 * manifest id (or 'playerctl') and the code paths it took, as
 * `play:status+mpd+mpris`. bin/code-cache.cjs keys its cache by it: each
 * command, and each backend, compiles its own functions, so a cache made
 * after one holds none of another's.
 */
export function fastCommand(): string | undefined {
  return dispatched === undefined ? undefined : [dispatched, ...codePathsTaken()].join('+');
}

/**
 * The command line as typed: mediagate's own (normalised, see argv.ts), or —
 * when the program was invoked under the name `playerctl` (a symlink or copy
 * of the bin) — the playerctl mode's, untouched.
 */
export function commandLine(scriptPath: string, args: string[]): string[] {
  if (basename(scriptPath) === 'playerctl') {
    playerctlProgram = 'playerctl';
    return ['playerctl', ...args];
  }
  return normalizeArgv(args);
}

/**
 * Run argv on the fast path if it is a plain hot command; the exit code, or
 * undefined to let oclif run it. `manifestPath` is the package's generated
 * dist/fast-manifest.json, the slim copy of oclif.manifest.json (bin/ knows
 * where the package root is).
 */
export async function runFast(argv: string[], manifestPath: string): Promise<number | undefined> {
  // The playerctl mode parses its own command line (playerctl's, -h included) and is always fast.
  if (argv[0] === 'playerctl' && !process.env.MEDIAGATE_NO_FAST_PATH) {
    if (process.env.MEDIAGATE_DEBUG_DISPATCH) process.stderr.write('dispatch: fast playerctl\n');
    const { runPlayerctl } = await import('./playerctl/run.js');
    dispatched = 'playerctl';
    return runPlayerctl(argv.slice(1), createContext(), playerctlProgram);
  }
  if (argv.length === 0 || argv.some((a) => HELPISH.has(a) && a !== '--') || process.env.MEDIAGATE_NO_FAST_PATH) return undefined;
  const commands = loadManifest(manifestPath);
  if (!commands) return undefined;
  const found = resolve(argv, commands);
  if (!found) return undefined;
  const { HOT } = await import('./hot.js');
  const run = HOT[found.cmd.id];
  if (!run) return undefined;

  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const f of Object.values(found.cmd.flags)) {
    // A repeatable flag (--ignore-player) takes one value per occurrence, as oclif's multipleNonGreedy does.
    if (f.multiple && (f.type !== 'option' || !f.multipleNonGreedy)) return undefined;
    options[f.name] = { type: f.type === 'boolean' ? 'boolean' : 'string', ...(f.char ? { short: f.char } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: found.rest, options, allowPositionals: true, strict: true, tokens: true });
  } catch {
    return undefined;
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name) && !found.cmd.flags[t.name]?.multiple) return undefined; // a repeated flag: oclif reports it
    seen.add(t.name);
  }
  const argDefs = Object.values(found.cmd.args);
  if (parsed.positionals.length > argDefs.length) return undefined;
  const args: Record<string, string | undefined> = {};
  for (const [i, def] of argDefs.entries()) {
    args[def.name] = parsed.positionals[i];
    if (def.required && args[def.name] === undefined) return undefined;
  }
  const flags: Record<string, unknown> = {};
  for (const f of Object.values(found.cmd.flags)) {
    const v = parsed.values[f.name];
    const values = Array.isArray(v) ? v : [v];
    if (f.options && values.some((x) => typeof x === 'string' && !f.options!.includes(x))) return undefined;
    flags[f.name] = v ?? f.default;
  }

  if (process.env.MEDIAGATE_DEBUG_DISPATCH) process.stderr.write(`dispatch: fast ${found.cmd.id}\n`);
  dispatched = found.cmd.id;
  const ctx = createContext({ json: Boolean(flags.json), remote: flags.remote as string | undefined, node: flags.node as string | undefined });
  try {
    await run(ctx, flags, args);
    return 0;
  } catch (e) {
    return reportError(ctx, e);
  }
}
