/**
 * `playerctl --follow`, as playerctl follows: the selected players in a
 * list, the one that changed last on top (within the order a `-p` list
 * imposes); after a change that matters to the command — its own property,
 * and any of status, volume, loop, shuffle, position the template reads —
 * the command runs again down the list and the first player that handles it
 * prints, unless that is what was printed last; an empty line when no player
 * can. A template that reads `position` is expanded again every second.
 * Event-driven otherwise (MPRIS signals, MPD idle): nothing runs while
 * nothing changes.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Ctx } from '../context.js';
import { commandFailure, type FollowSignal } from './commands.js';
import { positionNow, type PlayerctlPlayer, type PlayerctlState } from './player.js';
import type { Invocation } from './run.js';
import { comparePriority, isSelected, orderPlayers } from './select.js';
import type { PlayerctlSources } from './sources.js';

interface Managed { instance: string; player: PlayerctlPlayer; state: PlayerctlState }

/** The changes that re-run the command: its own, and those of the commands whose names the template reads. */
export function followSignals(inv: Invocation): Set<FollowSignal> {
  const signals = new Set<FollowSignal>([inv.command.follows!]);
  const byName: Record<string, FollowSignal> = { position: 'seeked', volume: 'volume', status: 'status', loop: 'loop', shuffle: 'shuffle' };
  for (const [name, signal] of Object.entries(byName)) if (inv.template?.uses(name)) signals.add(signal);
  return signals;
}

/** What changed between two readings of one player, as playerctl's signals would say. */
export function changes(before: PlayerctlState, after: PlayerctlState): Set<FollowSignal> {
  const out = new Set<FollowSignal>();
  if (before.status !== after.status) out.add('status');
  if (before.volume !== after.volume) out.add('volume');
  if (before.loop !== after.loop) out.add('loop');
  if (before.shuffle !== after.shuffle) out.add('shuffle');
  if (!isDeepStrictEqual(before.metadata, after.metadata)) out.add('metadata');
  const expected = positionNow(before, after.readAt);
  if (after.position !== undefined && (expected === undefined || abs(after.position - expected) > 1_000_000n)) out.add('seeked');
  return out;
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

export async function follow(ctx: Ctx, sources: PlayerctlSources, inv: Invocation): Promise<number> {
  const signals = followSignals(inv);
  const managed: Managed[] = [];
  let last: string | undefined;

  /** Where a (re)appearing or changed player goes: the top, or the top of its rank under a -p list. */
  const place = (m: Managed): void => {
    const at = inv.players.length === 0 ? 0 : managed.findIndex((e) => comparePriority(m.instance, e.instance, inv.players) <= 0);
    managed.splice(at < 0 ? managed.length : at, 0, m);
  };
  const print = (output: string | undefined): void => {
    if (output === undefined && last === undefined) return;
    const text = output ?? '\n';
    if (text === last) return;
    last = text;
    ctx.stdout.write(text);
  };
  /** Run the command down the list; throws what the command throws. */
  const execute = async (): Promise<void> => {
    for (const m of managed) {
      const outcome = await inv.command.run(m.player, m.state, { argv: inv.options.command, template: inv.template, cwd: process.cwd() });
      if (outcome.output !== undefined) print(outcome.output);
      if (outcome.handled) return;
    }
    print(undefined);
  };
  const quietly = async (): Promise<void> => { try { await execute(); } catch { /* playerctl ignores failures after the start */ } };

  const read = async (instance: string): Promise<Managed | undefined> => {
    const player = sources.player(instance);
    try {
      return { instance, player, state: await player.read() };
    } catch {
      // Gone, absent (MPD down) or not answering: not a player to print for until it changes again.
      return undefined;
    }
  };

  for (const instance of orderPlayers(await sources.instances(), inv.players, inv.ignored)) {
    const m = await read(instance);
    if (m) place(m);
  }
  try {
    await execute();
  } catch (e) {
    const message = commandFailure(e);
    if (message === undefined) throw e;
    ctx.stderr.write(`Connection to player failed: ${message}\n`);
    return 1;
  }

  // One change at a time, in the order they came; a player changing again while it is read is read once more.
  const pending = new Set<string>();
  let busy: Promise<void> = Promise.resolve();
  const onChange = (instance: string): void => {
    if (pending.has(instance)) return;
    pending.add(instance);
    busy = busy.then(async () => {
      pending.delete(instance);
      if (!isSelected(instance, inv.players, inv.ignored)) return;
      const at = managed.findIndex((m) => m.instance === instance);
      const now = await read(instance);
      if (at < 0) {
        if (!now) return;
        place(now);
        return quietly();
      }
      if (!now) {
        managed.splice(at, 1);
        return quietly();
      }
      const changed = changes(managed[at]!.state, now.state);
      managed[at]!.state = now.state;
      if (![...changed].some((c) => signals.has(c))) return;
      managed.splice(at, 1);
      place({ ...now });
      return quietly();
    });
  };

  const stop = await sources.watch(onChange);
  const tick = inv.template?.uses('position') ? setInterval(() => { busy = busy.then(quietly); }, 1000) : undefined;
  try {
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      ctx.stdout.once('error', resolve);
      ctx.stdout.once('close', resolve);
    });
  } finally {
    if (tick) clearInterval(tick);
    await stop();
  }
  return 0;
}
