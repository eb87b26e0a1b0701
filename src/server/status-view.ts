/**
 * GET /api/status from the LiveState snapshot, never by asking a player per
 * request: the snapshot is kept current by player events (MPD idle, MPRIS
 * signals), so a status request costs a Map lookup and a cached string.
 *
 * The player is chosen as `play status` chooses it (hub.select): `?player=`
 * or config `player.default`, else the most recently active one (playing
 * beats paused beats stopped, then the player mediagate last saw become
 * active). The last-active file is read when the players change — an event —
 * not per request.
 *
 * Answers are cached as JSON text per requested name until the next status
 * event, or until the artwork link in them needs renewing (once a minute at
 * most, and only when asked for).
 */
import type { Config } from '../core/config/store.js';
import { NoPlayerError } from '../core/errors.js';
import type { LiveState } from '../core/live.js';
import { readLastActive } from '../core/players/last-active.js';
import { ignoredPlayer, isIgnored, pickActive, playerMatches, unknownPlayer } from '../core/players/select.js';
import type { PlayerState } from '../core/players/types.js';
import type { ArtworkSigner } from './artwork.js';
import { statusJson } from './shapes.js';

const MAX_CACHED = 64;

export class StatusView {
  private cache = new Map<string, { text: string; until: number }>();
  private lastActive: string | undefined;
  private readonly defaultName: string | undefined;
  private readonly onStatus = () => this.invalidate();

  constructor(private readonly live: LiveState, private readonly env: NodeJS.ProcessEnv, config: Config, private readonly artwork: ArtworkSigner) {
    this.defaultName = config.get<string>('player.default');
    this.lastActive = readLastActive(env);
    live.on('status', this.onStatus);
  }

  /** Players changed (or the server acted): drop cached answers, re-read the last active player. */
  invalidate(): void {
    this.cache.clear();
    this.lastActive = readLastActive(this.env);
  }

  close(): void {
    this.live.off('status', this.onStatus);
    this.cache.clear();
  }

  /**
   * The player `requested` (or the default) names in the snapshot; NoPlayerError otherwise.
   * `ignore`: a request's own ignore list (config players.ignore is applied by the hub already).
   */
  select(requested?: string, ignore: readonly string[] = []): PlayerState {
    const snap = this.live.snapshot();
    const players = ignore.length ? snap.players.filter((s) => !isIgnored({ name: s.player, aliases: s.aliases }, ignore)) : snap.players;
    if (requested !== undefined && ignore.length && isIgnored({ name: requested }, ignore)) throw ignoredPlayer(requested);
    const name = requested ?? (this.defaultName && !(ignore.length && isIgnored({ name: this.defaultName }, ignore)) ? this.defaultName : undefined);
    const none = () => new NoPlayerError(
      name ? `player '${name}' is not available` : 'no media player found',
      snap.problems.length ? snap.problems.join('; ') : 'start a player (mpd, mpv, a browser…) and try again',
      'player.none',
    );
    if (name) {
      const chosen = pickActive(players.filter((s) => playerMatches(name, { name: s.player, aliases: s.aliases })), this.lastActive);
      if (chosen) return chosen;
      if (players.length === 0 && snap.problems.length > 0) throw none();
      throw unknownPlayer(name, players.map((s) => s.player));
    }
    const chosen = pickActive(players, this.lastActive);
    if (!chosen) throw none();
    return chosen;
  }

  /** The status JSON of one player, with its artwork link. */
  json(s: PlayerState, nowMs = Date.now()): ReturnType<typeof statusJson> & { artwork: string | null } {
    return { ...statusJson(s), artwork: this.artwork.urlFor(s, nowMs).url };
  }

  /** The answer of GET /api/status[?player=NAME][&ignore=…], as JSON text (cached per name, not with an ignore list). */
  text(requested: string | undefined, nowMs = Date.now(), ignore: readonly string[] = []): string {
    if (ignore.length) return JSON.stringify(this.json(this.select(requested, ignore), nowMs));
    const key = requested ?? '';
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.until > nowMs) return hit.text;
    const s = this.select(requested);
    const art = this.artwork.urlFor(s, nowMs);
    const text = JSON.stringify({ ...statusJson(s), artwork: art.url });
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, { text, until: art.reuseUntil });
    return text;
  }
}
