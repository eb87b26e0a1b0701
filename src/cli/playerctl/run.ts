/**
 * `mediagate playerctl …` (or a `playerctl` symlink to mediagate): playerctl
 * 2.4's command line, output, messages and exit codes, over mediagate's
 * players — MPRIS, MPD, and a remote server's with --remote. What playerctl
 * refuses before touching a player (an unknown command, a format on a
 * command without one, a template that does not parse) is refused here
 * before any player is asked.
 */
import { isMediagateError } from '../../core/errors.js';
import { playerctlTemplate, TemplateError, type Template } from '../../core/format.js';
import { lazyAudit } from '../audit-local.js';
import { localActor } from '../../core/actor.js';
import type { Ctx } from '../context.js';
import { reportError } from '../errors.js';
import { commandFailure, controlAction, findCommand, type PlayerctlCommand } from './commands.js';
import { helpText, PLAYERCTL_VERSION } from './help.js';
import { parseOptions, playerList, type PlayerctlOptions } from './options.js';
import { PlayerAbsent } from './player.js';
import { comparePriority, isSelected, orderPlayers } from './select.js';
import { openSources, type PlayerctlSources } from './sources.js';

/** What a run needs besides the player sources: the parsed command line, ready to use. */
export interface Invocation {
  options: PlayerctlOptions;
  command: PlayerctlCommand;
  template: Template | undefined;
  players: string[];
  ignored: string[];
}

const write = (stream: NodeJS.WritableStream, text: string): void => { stream.write(text); };

export async function runPlayerctl(argv: string[], ctx: Ctx, prog: string): Promise<number> {
  const parsed = parseOptions(argv);
  if (parsed.kind === 'help') { write(ctx.stdout, `${helpText(prog)}\n`); return 0; }
  // playerctl exits 0 after an option error.
  if (parsed.kind === 'error') { write(ctx.stderr, `${parsed.message}\n`); return 0; }
  const { options } = parsed;
  if (options.command.length === 0 && !options.version && !options.listAll) {
    write(ctx.stdout, `${helpText(prog)}\n`);
    return 1;
  }
  if (options.version) { write(ctx.stdout, `${PLAYERCTL_VERSION}\n`); return 0; }
  if (options.remote !== undefined) ctx = { ...ctx, remote: options.remote };
  const players = playerList(options.player);
  const ignored = playerList(options.ignorePlayer);

  let invocation: Invocation | undefined;
  if (!options.listAll) {
    const prepared = prepare(options, players, ignored);
    if (typeof prepared === 'string') { write(ctx.stderr, `Could not execute command: ${prepared}\n`); return 1; }
    invocation = prepared;
  }

  let sources: PlayerctlSources | undefined;
  try {
    sources = await openSources(ctx, { oneShot: !options.follow });
    if (!invocation) return await listAll(ctx, sources, options, players, ignored);
    if (options.follow) {
      const { follow } = await import('./follow.js');
      return await follow(ctx, sources, invocation);
    }
    return await once(ctx, sources, invocation);
  } catch (e) {
    return reportError(ctx, e);
  } finally {
    await sources?.close();
  }
}

/** The command and template, checked as playerctl checks them before it looks for players; a message when refused. */
function prepare(options: PlayerctlOptions, players: string[], ignored: string[]): Invocation | string {
  const name = options.command[0]!;
  const command = findCommand(name);
  if (!command) return `Command not recognized: ${name}`;
  if (options.format !== undefined && !command.supportsFormat) return `format strings are not supported on command: ${name}`;
  if (options.follow && !command.follows) return `follow is not supported on command: ${name}`;
  let template: Template | undefined;
  if (options.format !== undefined) {
    try {
      template = playerctlTemplate(options.format);
    } catch (e) {
      if (e instanceof TemplateError) return e.message;
      throw e;
    }
  }
  return { options, command, template, players, ignored };
}

/** `-l`: the selected players, in playerctl's order (MPD only when it answers). */
async function listAll(ctx: Ctx, sources: PlayerctlSources, options: PlayerctlOptions, players: string[], ignored: string[]): Promise<number> {
  const present: string[] = [];
  for (const instance of await sources.instances()) {
    if (instance === 'mpd') {
      try { await sources.player(instance).read(); } catch (e) { if (e instanceof PlayerAbsent) continue; }
    }
    present.push(instance);
  }
  const listed = [...present].sort().sort((a, b) => comparePriority(a, b, players)).filter((n) => isSelected(n, players, ignored));
  for (const n of listed) write(ctx.stdout, `${n}\n`);
  if (listed.length === 0 && !options.noMessages) write(ctx.stderr, 'No players found\n');
  return 0;
}

/** Run the command on the first player that can (every player with -a). */
async function once(ctx: Ctx, sources: PlayerctlSources, inv: Invocation): Promise<number> {
  const { options, command, template } = inv;
  const audit = sources.remote ? undefined : lazyAudit(ctx);
  let selected = false;
  let handled = false;
  try {
    for (const instance of orderPlayers(await sources.instances(), inv.players, inv.ignored)) {
      const player = sources.player(instance);
      let state;
      try {
        state = await player.read();
      } catch (e) {
        if (e instanceof PlayerAbsent) continue;
        // playerctl gives up here; a hung or broken player should not hide the next one.
        write(ctx.stderr, `Could not connect to player: ${(e as Error).message}\n`);
        continue;
      }
      selected = true;
      audit?.prepare?.();
      let outcome;
      try {
        outcome = await command.run(player, state, { argv: options.command, template, cwd: process.cwd() });
      } catch (e) {
        const message = commandFailure(e);
        if (message === undefined) throw e;
        const action = controlAction(options.command);
        if (action && isMediagateError(e)) audit?.append({ actor: localActor(), action, target: instance, outcome: 'error', detail: e.code });
        write(ctx.stderr, `Could not execute command: ${message}\n`);
        return 1;
      }
      if (!outcome.handled) continue;
      handled = true;
      if (outcome.output !== undefined) write(ctx.stdout, outcome.output);
      if (outcome.audit) audit?.append({ actor: localActor(), action: outcome.audit.action, target: instance, outcome: 'ok', ...(outcome.audit.detail ? { detail: outcome.audit.detail } : {}) });
      if (!options.allPlayers) break;
    }
  } finally {
    await audit?.close();
  }
  if (!selected) {
    if (!options.noMessages) write(ctx.stderr, 'No players found\n');
    return 1;
  }
  if (!handled) {
    if (!options.noMessages) write(ctx.stderr, 'No player could handle this command\n');
    return 1;
  }
  return 0;
}
