import { MediagateError, NoPlayerError } from '../errors.js';
import type { Config } from '../config/store.js';
import { DEFAULT_BACKEND_TIMEOUT_MS } from '../timeout.js';
import { platformOf } from '../platform.js';
import type { BackendName, NamedPlayerSource, Player, PlayerSource, PlayerState } from './types.js';
import { ignoredPlayer, isIgnored, pickActive, playerMatches, unknownPlayer } from './select.js';
import { readLastActive } from './last-active.js';
import { tookCodePath } from '../code-paths.js';

export interface HubOptions {
  env: NodeJS.ProcessEnv;
  config: Config;
  /** The MPD password, already opened from its sealed form (never from argv). */
  mpdPassword?: string | undefined;
  /** Players to leave alone (--ignore-player), besides config `players.ignore`. */
  ignore?: readonly string[] | undefined;
  /** A one-shot command: MPRIS over the small wire client (SourceOptions.oneShot). */
  oneShot?: boolean | undefined;
}

/** A player that is there but did not answer (hung, timed out, refused). */
export interface SilentPlayer {
  name: string;
  backend: BackendName;
  error: MediagateError;
}

export interface Listing {
  players: Player[];
  /** Why a source gave no players (no bus, MPD down, timeout) — for hints. */
  problems: MediagateError[];
}

/**
 * All players on this machine, across backends. Sources are created only
 * when needed (`--player mpd` never touches D-Bus), and each is queried in
 * parallel under its own time limit, so one hung backend cannot hide the others.
 */
export class PlayerHub {
  readonly timeoutMs: number;
  /** Names of players no command sees (config `players.ignore`, then --ignore-player). */
  readonly ignore: readonly string[];
  private readonly opts: HubOptions;
  private sources: PlayerSource[] | undefined;

  constructor(opts: HubOptions) {
    this.opts = opts;
    this.timeoutMs = opts.config.get<number>('backend.timeoutMs') ?? DEFAULT_BACKEND_TIMEOUT_MS;
    this.ignore = [...(opts.config.get<string[]>('players.ignore') ?? []), ...(opts.ignore ?? [])];
  }

  /** Is a player of this name (and these aliases) ignored? */
  ignores(name: string, aliases?: readonly string[]): boolean {
    return this.ignore.length > 0 && isIgnored({ name, aliases }, this.ignore);
  }

  /** The desktop's own player backend: MPRIS on Linux, Now Playing on macOS, media sessions on Windows. */
  private get desktop(): Exclude<BackendName, 'mpd'> {
    const p = platformOf(this.opts.env);
    return p === 'darwin' ? 'macos' : p === 'win32' ? 'windows' : 'mpris';
  }

  /** Which backends can hold a player of this name. MPD runs on every platform. */
  private backendsFor(name?: string): BackendName[] {
    const mpdEnabled = this.opts.config.get<boolean>('mpd.enabled') !== false;
    if (name === 'mpd') return ['mpd'];
    if (name) return [this.desktop];
    return mpdEnabled ? [this.desktop, 'mpd'] : [this.desktop];
  }

  private async open(backends: BackendName[]): Promise<PlayerSource[]> {
    this.sources ??= [];
    const { env, config } = this.opts;
    for (const b of backends) {
      if (this.sources.some((s) => s.backend === b)) continue;
      if (b === 'mpd') {
        const { MpdSource, resolveMpdAddress } = await import('./mpd.js');
        const address = resolveMpdAddress({
          env,
          configHost: config.has('mpd.host') ? config.get<string>('mpd.host') : undefined,
          configPort: config.has('mpd.port') ? config.get<number>('mpd.port') : undefined,
          configPassword: this.opts.mpdPassword,
        });
        this.sources.push(new MpdSource({ env, timeoutMs: this.timeoutMs, address }));
      } else if (b === 'macos') {
        const { MacosSource } = await import('./macos/source.js');
        this.sources.push(new MacosSource({ env, timeoutMs: this.timeoutMs }));
      } else if (b === 'windows') {
        const { WindowsSource } = await import('./windows/source.js');
        this.sources.push(new WindowsSource({ env, timeoutMs: this.timeoutMs }));
      } else {
        const { MprisSource } = await import('./mpris.js');
        this.sources.push(new MprisSource({ env, timeoutMs: this.timeoutMs, oneShot: this.opts.oneShot ?? false }));
      }
    }
    for (const b of backends) tookCodePath(b);
    return this.sources.filter((s) => backends.includes(s.backend));
  }

  /** Players of the given backends (all by default); unreachable sources are reported, not thrown. */
  async list(name?: string): Promise<Listing> {
    const sources = await this.open(this.backendsFor(name));
    const results = await Promise.allSettled(sources.map((s) => s.list()));
    const players: Player[] = [];
    const problems: MediagateError[] = [];
    for (const r of results) {
      if (r.status === 'fulfilled') players.push(...r.value.filter((p) => !this.ignores(p.name, p.aliases)));
      else if (r.reason instanceof MediagateError) problems.push(r.reason);
      else problems.push(new NoPlayerError(String((r.reason as Error)?.message ?? r.reason)));
    }
    return { players, problems };
  }

  /**
   * States of all players (of those `name` matches, when given — no other
   * player is asked). A player that is there but fails to answer (hung,
   * timed out) is listed in `silent` and its error is also a problem.
   */
  async states(name?: string): Promise<{ states: PlayerState[]; players: Player[]; problems: MediagateError[]; silent: SilentPlayer[] }> {
    const listing = await this.list(name);
    const problems = listing.problems;
    const players = name ? listing.players.filter((p) => playerMatches(name, p)) : listing.players;
    const results = await Promise.allSettled(players.map((p) => p.state()));
    const states: PlayerState[] = [];
    const ok: Player[] = [];
    const silent: SilentPlayer[] = [];
    results.forEach((r, i) => {
      const p = players[i]!;
      if (r.status === 'fulfilled') { states.push(r.value); ok.push(p); return; }
      const error = r.reason instanceof MediagateError ? r.reason : new NoPlayerError(String((r.reason as Error)?.message ?? r.reason));
      // A player that quit between listing and asking is simply gone, not silent.
      if (error.code !== 'player.not_found') silent.push({ name: p.name, backend: p.backend, error });
      problems.push(error);
    });
    return { states, players: ok, problems, silent };
  }

  /** The player mediagate last saw change state (state dir), for choosing among equals. */
  lastActive(): string | undefined {
    return readLastActive(this.opts.env);
  }

  /**
   * The player a bare command acts on among `states`: config `player.default`
   * when set, else the most recently active one (see pickActive).
   */
  activeOf(states: PlayerState[]): PlayerState | undefined {
    const name = this.opts.config.get<string>('player.default');
    const named = name && !this.ignores(name) ? states.filter((s) => playerMatches(name, { name: s.player, aliases: s.aliases })) : states;
    return pickActive(named, this.lastActive());
  }

  /**
   * The player a command acts on: `--player NAME` (or config `player.default`),
   * addressed directly — no other player is asked, so a hung one elsewhere
   * costs nothing and a hung one named is a timeout, not "no such player".
   * Else the most recently active one. No player is a NoPlayerError whose
   * hint says why each backend had none.
   */
  async select(requested?: string): Promise<{ player: Player; state: PlayerState }> {
    const name = requested ?? this.opts.config.get<string>('player.default');
    if (name && this.ignores(name)) {
      // An ignored default leaves the choice to activity, as if none were set; an ignored --player is refused.
      if (requested !== undefined) throw ignoredPlayer(name);
    } else if (name) {
      return this.named(name);
    }
    const { states, players, problems } = await this.states();
    const chosen = pickActive(states, this.lastActive());
    if (!chosen) throw noPlayers(problems);
    const player = players.find((p) => p.name === chosen.player)!;
    return { player, state: chosen };
  }

  /** The player `name` names, asked directly; its own error (timeout, gone) when it fails. */
  private async named(name: string): Promise<{ player: Player; state: PlayerState }> {
    const [source] = await this.open(this.backendsFor(name));
    let candidates: Player[];
    if (source!.backend === 'mpd') {
      candidates = [(source as import('./mpd.js').MpdSource).player()];
    } else {
      // With an ignore list, the players' other names matter (-i vlc.instance42 ignores vlc): take them from a listing.
      const named = source as NamedPlayerSource;
      const found = this.ignore.length ? (await named.list()).filter((p) => playerMatches(name, p)) : await named.find(name);
      candidates = found.filter((p) => !this.ignores(p.name, p.aliases));
      if (candidates.length === 0) throw found.length ? ignoredPlayer(name) : unknownPlayer(name, await this.allNames());
    }
    if (candidates.length === 1) {
      const player = candidates[0]!;
      return { player, state: await player.state() };
    }
    // Several instances (`vlc` → vlc.instance1, vlc.instance2): the most recently active of those that answer.
    const results = await Promise.allSettled(candidates.map((p) => p.state()));
    const states = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const chosen = pickActive(states, this.lastActive());
    if (!chosen) throw (results[0] as PromiseRejectedResult).reason;
    return { player: candidates.find((p) => p.name === chosen.player)!, state: chosen };
  }

  /**
   * One player already known by backend and exact name (from an earlier
   * listing), without asking it or any other: its calls reject with
   * `player.not_found` when it has left the bus.
   */
  async playerOf(backend: BackendName, name: string): Promise<Player> {
    const [source] = await this.open([backend]);
    if (source!.backend === 'mpd') return (source as import('./mpd.js').MpdSource).player();
    if (source!.backend === 'mpris') return (source as import('./mpris.js').MprisSource).known(name);
    return (source as NamedPlayerSource).player(name);
  }

  /** The state of one player already known by backend and exact name, asked directly (see playerOf). */
  async stateOf(backend: BackendName, name: string): Promise<PlayerState> {
    return (await this.playerOf(backend, name)).state();
  }

  /** Names of the players of every backend, for a "no player named …" hint (without asking any player). */
  private async allNames(): Promise<string[]> {
    const sources = await this.open(this.backendsFor());
    const lists = await Promise.allSettled(sources.map((s) => s.list()));
    return lists.flatMap((r) => (r.status === 'fulfilled' ? r.value.map((p) => p.name) : []));
  }

  /** Every source that has been opened (for watching). */
  async openSources(name?: string): Promise<PlayerSource[]> {
    return this.open(this.backendsFor(name));
  }

  async close(): Promise<void> {
    await Promise.allSettled((this.sources ?? []).map((s) => s.close()));
  }
}

/** One error saying that no player was found and why, per backend. */
export function noPlayers(problems: MediagateError[], name?: string): MediagateError {
  if (problems.length === 1) return problems[0]!;
  const why = problems.map((p) => `${p.message}${p.hint ? ` (${p.hint})` : ''}`).join('; ');
  return new NoPlayerError(
    name ? `player '${name}' is not available` : 'no media player found',
    why || 'start a player (mpd, mpv, a browser…) and try again',
    'player.none',
  );
}
