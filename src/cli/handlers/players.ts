import { Config } from '../../core/config/store.js';
import { LocalController, type Controller } from '../../core/control.js';
import { say, type Ctx } from '../context.js';
import { UsageError } from '../../core/errors.js';
import { localActor } from '../../core/actor.js';
import { lazyAudit } from '../audit-local.js';
import { resolveRemote } from '../../client/profiles.js';
import type { PlayerState } from '../../core/players/types.js';

/** The MPD password from config, opened from its sealed form; undefined when none is set. */
export async function mpdPassword(config: Config, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (!config.has('mpd.password')) return undefined;
  const { readSecret } = await import('../../core/secrets.js');
  return readSecret(config, 'mpd.password', env);
}

/** Which players a command may see: the names of --ignore-player (config players.ignore is added by the hub / the server). */
export interface ControllerOptions {
  ignore?: readonly string[] | undefined;
  /** Watching for changes (--follow): MPRIS over dbus-next, not the one-shot wire client. Default false. */
  follow?: boolean | undefined;
}

/** The local controller for one command, always closed afterwards so the process can exit; control actions are audited. */
export async function withLocal<T>(ctx: Ctx, fn: (ctl: LocalController, config: Config) => Promise<T>, loaded?: Config, opts: ControllerOptions = {}): Promise<T> {
  const config = loaded ?? Config.load(ctx.env);
  const audit = lazyAudit(ctx);
  const ctl = new LocalController(ctx.env, config, { mpdPassword: await mpdPassword(config, ctx.env), now: ctx.now, audit, actor: localActor(), ignore: opts.ignore, oneShot: !opts.follow });
  try {
    return await fn(ctl, config);
  } finally {
    await ctl.close();
    await audit.close();
  }
}

/**
 * The controller a command acts through: this machine, or a mediagate server
 * when --remote NAME, MEDIAGATE_REMOTE or config remote.default names one
 * (`--remote local` forces this machine; see src/client/profiles.ts). Remote
 * actions are audited by the server, not in this machine's log.
 */
export async function withController<T>(ctx: Ctx, fn: (ctl: Controller) => Promise<T>, opts: ControllerOptions = {}): Promise<T> {
  const config = Config.load(ctx.env);
  if (ctx.node !== undefined) {
    const { withNodes } = await import('../../client/fleet-session.js');
    return (await withNodes(ctx.node, config, ctx.env, (ctl) => fn(ctl), (node, e) => {
      say(ctx, `mediagate: node ${node}: ${(e as Error)?.message ?? String(e)}`);
    })) as T;
  }
  const remote = resolveRemote(ctx.remote, ctx.env, config);
  if (!remote) return withLocal(ctx, (ctl) => fn(ctl), config, opts);
  const { remoteClient, RemoteController } = await import('../../client/session.js');
  const ctl = new RemoteController(await remoteClient(config, remote, ctx.env), { ignore: opts.ignore });
  try {
    return await fn(ctl);
  } finally {
    await ctl.close();
  }
}

/**
 * `play status --follow` against a remote server: the status the server
 * pushes on its WebSocket, given to `print` as it arrives; false when the
 * command acts on this machine (the caller follows locally). With --player
 * the server pushes that player's status (as a local --follow --player).
 * `refuse`: the error for options the remote side cannot follow.
 */
export async function followRemote(ctx: Ctx, player: string | undefined, print: (s: PlayerState | null) => void, ended: () => Promise<void>, refuse?: () => Error): Promise<boolean> {
  const config = Config.load(ctx.env);
  if (ctx.node !== undefined) {
    if (ctx.node === 'all') throw new UsageError('status --follow follows one node: give --node NAME', 'mediagate nodes --follow shows every node', 'usage.follow_all');
    const { followNodeStatus } = await import('../../client/fleet-session.js');
    await followNodeStatus(ctx.node, config, ctx.env, player, print, ended());
    return true;
  }
  const remote = resolveRemote(ctx.remote, ctx.env, config);
  if (!remote) return false;
  if (refuse) throw refuse();
  const { remoteClient } = await import('../../client/session.js');
  const { followRemoteStatus } = await import('../../client/follow.js');
  await followRemoteStatus(await remoteClient(config, remote, ctx.env), print, ended(), player);
  return true;
}
