/**
 * Where the playerctl mode finds its players: on this machine, the MPRIS
 * players on the session bus (every bus name, as playerctl lists them) and
 * MPD when it is enabled and answers; with --remote, the players of that
 * mediagate server. Control actions are audited by the caller (run.ts) for
 * all of them alike, so the local controller here records nothing itself.
 */
import { Config } from '../../core/config/store.js';
import { LocalController, type Controller } from '../../core/control.js';
import { MediagateError } from '../../core/errors.js';
import type { MprisSource } from '../../core/players/mpris.js';
import type { Ctx } from '../context.js';
import { mpdPassword } from '../handlers/players.js';
import { resolveRemote } from '../../client/profiles.js';
import { ControllerPlayerctlPlayer } from './controller-player.js';
import { PlayerAbsent, type PlayerctlPlayer, type PlayerctlState } from './player.js';

export interface PlayerctlSources {
  /** The machine's own players (audited here) or a remote server's (audited there). */
  readonly remote: boolean;
  /** Instance names there may be; a player whose read() throws PlayerAbsent is not there after all (MPD not running). */
  instances(): Promise<string[]>;
  player(instance: string): PlayerctlPlayer;
  /** Calls `onChange(instance)` when that player changes, appears or leaves; a stop function. */
  watch(onChange: (instance: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** playerctl's own daemon proxies other players; playerctl lists it only when asked for by name. */
const PLAYERCTLD = 'playerctld';

/** An MPD that does not answer at all is absent; one that answers badly (auth, timeout) is a real failure. */
class MpdPlayerctlPlayer extends ControllerPlayerctlPlayer {
  override async read(): Promise<PlayerctlState> {
    try {
      return await super.read();
    } catch (e) {
      if (e instanceof MediagateError && e.code === 'player.unavailable') throw new PlayerAbsent(e.message);
      throw e;
    }
  }
}

class LocalSources implements PlayerctlSources {
  readonly remote = false;
  private mpris: Promise<MprisSource | undefined> | undefined;

  constructor(private readonly ctl: LocalController, private readonly mpdEnabled: boolean) {}

  private mprisSource(): Promise<MprisSource | undefined> {
    this.mpris ??= this.ctl.hub.openSources().then((s) => s.find((x) => x.backend === 'mpris') as MprisSource | undefined);
    return this.mpris;
  }

  async instances(): Promise<string[]> {
    const source = await this.mprisSource();
    const names = source ? await source.busNames().catch(() => [] as string[]) : [];
    return [...names.filter((n) => n !== PLAYERCTLD), ...(this.mpdEnabled ? ['mpd'] : [])];
  }

  player(instance: string): PlayerctlPlayer {
    if (instance === 'mpd' && this.mpdEnabled) return new MpdPlayerctlPlayer(this.ctl, 'mpd');
    return new LazyMprisPlayer(instance, () => this.mprisSource());
  }

  async watch(onChange: (instance: string) => void): Promise<() => Promise<void>> {
    const sources = await this.ctl.hub.openSources();
    const stops = await Promise.all(sources.map((s) => s.watch(onChange).catch(() => async () => {})));
    return async () => { await Promise.allSettled(stops.map((stop) => stop())); };
  }

  close(): Promise<void> {
    return this.ctl.close();
  }
}

/** An MPRIS player whose module (and dbus-next) loads only when it is first read. */
class LazyMprisPlayer implements PlayerctlPlayer {
  private inner: Promise<PlayerctlPlayer> | undefined;

  constructor(readonly instance: string, private readonly source: () => Promise<MprisSource | undefined>) {}

  private get(): Promise<PlayerctlPlayer> {
    this.inner ??= (async () => {
      const [{ MprisPlayer }, { MprisPlayerctlPlayer }, source] = await Promise.all([
        import('../../core/players/mpris.js'), import('./mpris-player.js'), this.source(),
      ]);
      if (!source) throw new PlayerAbsent(`no MPRIS player named '${this.instance}'`);
      return new MprisPlayerctlPlayer(new MprisPlayer(source, this.instance));
    })();
    return this.inner;
  }

  async read(): Promise<PlayerctlState> { return (await this.get()).read(); }
  async play(): Promise<void> { return (await this.get()).play(); }
  async pause(): Promise<void> { return (await this.get()).pause(); }
  async playPause(): Promise<void> { return (await this.get()).playPause(); }
  async stop(): Promise<void> { return (await this.get()).stop(); }
  async next(): Promise<void> { return (await this.get()).next(); }
  async previous(): Promise<void> { return (await this.get()).previous(); }
  async seek(offset: bigint): Promise<void> { return (await this.get()).seek(offset); }
  async setPosition(position: bigint, state: PlayerctlState): Promise<void> { return (await this.get()).setPosition(position, state); }
  async setVolume(level: number): Promise<void> { return (await this.get()).setVolume(level); }
  async setLoop(loop: Parameters<PlayerctlPlayer['setLoop']>[0]): Promise<void> { return (await this.get()).setLoop(loop); }
  async setShuffle(on: boolean): Promise<void> { return (await this.get()).setShuffle(on); }
  async open(uri: string): Promise<void> { return (await this.get()).open(uri); }
}

class RemoteSources implements PlayerctlSources {
  readonly remote = true;

  constructor(private readonly ctl: Controller, private readonly follow: RemoteFollow) {}

  async instances(): Promise<string[]> {
    const { players } = await this.ctl.players();
    return players.filter((r) => r.responding).map((r) => r.name);
  }

  player(instance: string): PlayerctlPlayer {
    return new ControllerPlayerctlPlayer(this.ctl, instance);
  }

  watch(onChange: (instance: string) => void): Promise<() => Promise<void>> {
    return this.follow(onChange);
  }

  close(): Promise<void> {
    return this.ctl.close();
  }
}

type RemoteFollow = (onChange: (instance: string) => void) => Promise<() => Promise<void>>;

/** The players this command reaches: a remote server's with --remote (or MEDIAGATE_REMOTE, config remote.default), else this machine's. */
export async function openSources(ctx: Ctx, o: { oneShot?: boolean } = {}): Promise<PlayerctlSources> {
  const config = Config.load(ctx.env);
  const remote = resolveRemote(ctx.remote, ctx.env, config);
  if (remote) {
    const { remoteClient, RemoteController } = await import('../../client/session.js');
    const client = await remoteClient(config, remote, ctx.env);
    const follow: RemoteFollow = async (onChange) => {
      const { followRemoteStatus } = await import('../../client/follow.js');
      let end!: () => void;
      const ended = new Promise<void>((resolve) => { end = resolve; });
      const done = followRemoteStatus(client, (s) => onChange(s?.player ?? ''), ended).catch(() => {});
      return async () => { end(); await done; };
    };
    return new RemoteSources(new RemoteController(client), follow);
  }
  // One-shot commands reach MPRIS over the small wire client, as status does; --follow keeps dbus-next.
  const ctl = new LocalController(ctx.env, config, { mpdPassword: await mpdPassword(config, ctx.env), now: ctx.now, oneShot: o.oneShot ?? false });
  return new LocalSources(ctl, config.get<boolean>('mpd.enabled') !== false);
}
