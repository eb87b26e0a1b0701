/**
 * `--node NAME|all` for the play and volume commands: open the broker
 * connection (src/client/fleet.ts), hand the command a NodeController per
 * node, close it afterwards. Loaded only when --node is given, so no other
 * command pays for MQTT.js.
 */
import type { Config } from '../core/config/store.js';
import type { Controller } from '../core/control.js';
import { isMediagateError, MediagateError, NoPlayerError } from '../core/errors.js';
import type { PlayerState } from '../core/players/types.js';
import { playerId } from '../core/mqtt/topics.js';
import { playerStateFrom } from './controller.js';
import { Fleet, pickNode } from './fleet.js';
import { NodeController } from './node-controller.js';

/**
 * Run `fn` with the controller of node `target`, or (`all`) of every online
 * node in turn: a node that fails is reported through `onError` and the
 * others still run; then the first failure's exit code is the command's.
 */
export async function withNodes<T>(target: string, config: Config, env: NodeJS.ProcessEnv, fn: (ctl: Controller, node: string) => Promise<T>, onError: (node: string, e: unknown) => void): Promise<T | undefined> {
  const fleet = await Fleet.open(config, env);
  try {
    if (target !== 'all') return await fn(new NodeController(fleet, target), target);
    const online = (await fleet.nodes()).filter((n) => n.online);
    if (online.length === 0) throw new NoPlayerError('no mediagate node is online on the broker', 'see mediagate nodes', 'mqtt.no_nodes');
    let first: MediagateError | undefined;
    let failed = 0;
    for (const n of online) {
      try {
        await fn(new NodeController(fleet, n.node), n.node);
      } catch (e) {
        failed++;
        onError(n.node, e);
        if (!first) first = isMediagateError(e) ? e : new MediagateError('error', String((e as Error)?.message ?? e), 1);
      }
    }
    if (first) throw new MediagateError(first.code, `${failed} of ${online.length} nodes failed (the first: ${first.message})`, first.exitCode);
    return undefined;
  } finally {
    await fleet.close();
  }
}

/** `status --follow --node NAME`: the node's retained active (or --player) state, on every change. */
export async function followNodeStatus(target: string, config: Config, env: NodeJS.ProcessEnv, player: string | undefined, print: (s: PlayerState | null) => void, stop: Promise<void>): Promise<void> {
  const fleet = await Fleet.open(config, env);
  try {
    pickNode(await fleet.nodes(), target);
    const t = fleet.topics(target);
    const topic = player === undefined ? t.activeState : t.playerState(playerId(player));
    await fleet.followTopic(topic, (p) => {
      let j: Record<string, unknown> | null = null;
      try { j = p ? JSON.parse(p.toString('utf8')) as Record<string, unknown> : null; } catch { return; }
      print(j && j.status !== 'idle' ? playerStateFrom({ server: `node ${target}` }, j) : null);
    }, stop);
  } finally {
    await fleet.close();
  }
}
