import { MediagateError, NoPlayerError } from '../errors.js';
import type { Config } from '../config/store.js';
import { DEFAULT_BACKEND_TIMEOUT_MS } from '../timeout.js';
import type { Player, PlayerSource, PlayerState } from './types.js';
import { nameMatches, pickActive, unknownPlayer } from './select.js';
import { readLastActive } from './last-active.js';

export interface HubOptions {
  env: NodeJS.ProcessEnv;
  config: Config;
  /** The MPD password, already opened from its sealed form (never from argv). */
  mpdPassword?: string | undefined;
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
  private readonly opts: HubOptions;
  private sources: PlayerSource[] | undefined;

  constructor(opts: HubOptions) {
    this.opts = opts;
    this.timeoutMs = opts.config.get<number>('backend.timeoutMs') ?? DEFAULT_BACKEND_TIMEOUT_MS;
  }

  /** Which backends can hold a player of this name. */
  private backendsFor(name?: string): Array<'mpd' | 'mpris'> {
    const mpdEnabled = this.opts.config.get<boolean>('mpd.enabled') !== false;
    if (name === 'mpd') return ['mpd'];
    if (name) return ['mpris'];
    return mpdEnabled ? ['mpris', 'mpd'] : ['mpris'];
  }

  private async open(backends: Array<'mpd' | 'mpris'>): Promise<PlayerSource[]> {
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
      } else {
        const { MprisSource } = await import('./mpris.js');
        this.sources.push(new MprisSource({ env, timeoutMs: this.timeoutMs }));
      }
    }
    return this.sources.filter((s) => backends.includes(s.backend));
  }

  /** Players of the given backends (all by default); unreachable sources are reported, not thrown. */
  async list(name?: string): Promise<Listing> {
    const sources = await this.open(this.backendsFor(name));
    const results = await Promise.allSettled(sources.map((s) => s.list()));
    const players: Player[] = [];
    const problems: MediagateError[] = [];
    for (const r of results) {
      if (r.status === 'fulfilled') players.push(...r.value);
      else if (r.reason instanceof MediagateError) problems.push(r.reason);
      else problems.push(new NoPlayerError(String((r.reason as Error)?.message ?? r.reason)));
    }
    return { players, problems };
  }

  /** States of all players, skipping any that fail to answer (reported as problems). */
  async states(name?: string): Promise<{ states: PlayerState[]; players: Player[]; problems: MediagateError[] }> {
    const { players, problems } = await this.list(name);
    const results = await Promise.allSettled(players.map((p) => p.state()));
    const states: PlayerState[] = [];
    const ok: Player[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') { states.push(r.value); ok.push(players[i]!); }
      else if (r.reason instanceof MediagateError) problems.push(r.reason);
    });
    return { states, players: ok, problems };
  }

  /**
   * The player a command acts on: `--player NAME`, else config `player.default`,
   * else the most recently active one. No player is a NoPlayerError whose hint
   * says why each backend had none.
   */
  async select(requested?: string): Promise<{ player: Player; state: PlayerState }> {
    const name = requested ?? this.opts.config.get<string>('player.default');
    const { states, players, problems } = await this.states(name);
    let chosen: PlayerState | undefined;
    if (name) {
      const matching = states.filter((s) => nameMatches(name, s.player));
      chosen = pickActive(matching);
      if (!chosen) {
        if (problems.length && states.length === 0) throw noPlayers(problems, name);
        throw unknownPlayer(name, states.map((s) => s.player));
      }
    } else {
      chosen = pickActive(states, readLastActive(this.opts.env));
      if (!chosen) throw noPlayers(problems);
    }
    const player = players.find((p) => p.name === chosen!.player)!;
    return { player, state: chosen };
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
