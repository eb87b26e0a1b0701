/**
 * Which player(s) a command acts on: --player NAME, --ignore-player NAME
 * (repeatable, or comma-separated) and --all-players. With --all-players the
 * command runs once per player (as `play players` lists them, ignored ones
 * left out) and prints one line — or one JSON array entry — each; like
 * playerctl -a, it succeeds when at least one player did it.
 */
import type { Controller } from '../../core/control.js';
import { MediagateError, UsageError, type ExitCodeValue } from '../../core/errors.js';
import { escapeValue } from '../../core/format.js';
import { noPlayers } from '../../core/players/hub.js';
import { outJson, out, say, type Ctx } from '../context.js';
import { ReportedError } from '../errors.js';
import { withController } from './players.js';

export interface SelectFlags {
  player?: string | undefined;
  'ignore-player'?: string[] | undefined;
  'all-players'?: boolean | undefined;
}

/** The --ignore-player names: each flag may hold several, comma-separated (as playerctl takes them). */
export function ignoreList(flags: SelectFlags): string[] {
  const names = (flags['ignore-player'] ?? []).flatMap((v) => v.split(',')).map((v) => v.trim());
  if (names.some((n) => n === '')) throw new UsageError('--ignore-player needs a player name', 'e.g. --ignore-player chromium', 'usage.invalid_player');
  return names;
}

/** What one player did under --all-players. */
export type Outcome<R> = { ok: true; player: string; result: R } | { ok: false; player: string; error: MediagateError };

function asError(e: unknown): MediagateError {
  return e instanceof MediagateError ? e : new MediagateError('error', String((e as Error)?.message ?? e), 1);
}

/**
 * Run `one` on every player the controller lists (in parallel, in listing
 * order); a player that did not answer the listing is an outcome of its
 * own, not asked again. No player at all is the usual "no player" error.
 */
export async function onEveryPlayer<R>(ctl: Controller, one: (player: string) => Promise<R>): Promise<Array<Outcome<R>>> {
  const { players, problems } = await ctl.players();
  if (players.length === 0) throw noPlayers(problems);
  return Promise.all(players.map(async (row): Promise<Outcome<R>> => {
    if (!row.responding) return { ok: false, player: row.name, error: new MediagateError('backend.timeout', row.error ?? 'not responding', 3) };
    try {
      return { ok: true, player: row.name, result: await one(row.name) };
    } catch (e) {
      return { ok: false, player: row.name, error: asError(e) };
    }
  }));
}

/** How a command shows one player's result. */
export interface View<R> {
  /** The JSON of one result (also the --all-players array entry); without it, --json prints lines too (a --format template). */
  json?(r: R): unknown;
  /** The line printed for it, if any (actions print nothing); `each`: under --all-players, where a line usually names its player. */
  line?(r: R, each: boolean): string | undefined;
}

const clean = (s: string) => escapeValue(s, 'plain');

/**
 * Print the outcomes of --all-players: JSON, an array with one entry per
 * player ({ok: false, player, error: {code, message}} for a failure); else
 * the view's line per success and `mediagate: PLAYER: MESSAGE` per failure on
 * stderr. Throws (exit code of the first failure) when no player did it.
 */
export function printOutcomes<R>(ctx: Ctx, outcomes: Array<Outcome<R>>, view: View<R>): void {
  const json = ctx.json && view.json;
  if (json) {
    outJson(ctx, outcomes.map((o) => (o.ok ? json(o.result) : { ok: false, player: o.player, error: { code: o.error.code, message: o.error.message } })));
  }
  for (const o of outcomes) {
    if (!o.ok) { if (!json) say(ctx, `mediagate: ${clean(o.player)}: ${o.error.message}`); continue; }
    const line = !json && view.line ? view.line(o.result, true) : undefined;
    if (line !== undefined) out(ctx, line);
  }
  const failed = outcomes.find((o) => !o.ok);
  if (failed && !outcomes.some((o) => o.ok)) throw new ReportedError((failed as { error: MediagateError }).error.exitCode as ExitCodeValue);
}

/**
 * A command that does `run` to the selected player, or with --all-players
 * to each, through the local or remote controller, and prints `view`.
 */
export async function onSelected<R>(ctx: Ctx, flags: SelectFlags, run: (ctl: Controller, player: string | undefined) => Promise<R>, view: View<R>): Promise<void> {
  if (flags['all-players'] && flags.player !== undefined) {
    throw new UsageError('give --player or --all-players, not both', undefined, 'usage.invalid_player');
  }
  await withController(ctx, async (ctl) => {
    if (flags['all-players']) {
      printOutcomes(ctx, await onEveryPlayer(ctl, (name) => run(ctl, name)), view);
      return;
    }
    const r = await run(ctl, flags.player);
    if (ctx.json && view.json) { outJson(ctx, view.json(r)); return; }
    const line = view.line?.(r, false);
    if (line !== undefined) out(ctx, line);
  }, { ignore: ignoreList(flags) });
}
