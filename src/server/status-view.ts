/**
 * GET /api/status from the LiveState snapshot, never by asking a player per
 * request: the snapshot is kept current by player events (MPD idle, MPRIS
 * signals), so a status request costs a Map lookup and a cached string.
 *
 * The player is chosen as `play status` chooses it (LiveState.choose, the
 * same choice control requests act on): `?player=` or config
 * `player.default`, else the most recently active one (playing beats paused
 * beats stopped, then the player mediagate last saw become active). The
 * last-active record is the live state's, re-read at each of its re-reads —
 * an event — not per request.
 *
 * Answers are cached as JSON text per requested name until the next status
 * event, or until the artwork link in them needs renewing (once a minute at
 * most, and only when asked for).
 */
import { NoPlayerError } from '../core/errors.js';
import type { LiveState } from '../core/live.js';
import { ignoredPlayer, isIgnored, unknownPlayer } from '../core/players/select.js';
import type { PlayerState } from '../core/players/types.js';
import type { ArtworkSigner } from './artwork.js';
import { statusJson } from './shapes.js';

const MAX_CACHED = 64;

export class StatusView {
  private cache = new Map<string, { text: string; until: number }>();
  private readonly onStatus = () => this.invalidate();

  constructor(private readonly live: LiveState, private readonly artwork: ArtworkSigner) {
    live.on('status', this.onStatus);
  }

  /** Players changed (or an artwork link became known): drop cached answers. */
  invalidate(): void {
    this.cache.clear();
  }

  close(): void {
    this.live.off('status', this.onStatus);
    this.cache.clear();
  }

  /**
   * The player `requested` (or the default) names in the snapshot; NoPlayerError otherwise.
   * `ignore`: a request's own ignore list (config players.ignore is applied by the hub already).
   * The choice is LiveState's (choose): the one a bare command makes, asking no player.
   */
  select(requested?: string, ignore: readonly string[] = []): PlayerState {
    if (requested !== undefined && ignore.length && isIgnored({ name: requested }, ignore)) throw ignoredPlayer(requested);
    const chosen = this.live.choose(requested, ignore);
    if (chosen) return chosen.state;
    const snap = this.live.snapshot();
    const players = ignore.length ? snap.players.filter((s) => !isIgnored({ name: s.player, aliases: s.aliases }, ignore)) : snap.players;
    const fallback = this.live.defaultPlayer;
    const name = requested ?? (fallback !== undefined && !(ignore.length && isIgnored({ name: fallback }, ignore)) ? fallback : undefined);
    if (name && (players.length > 0 || snap.problems.length === 0)) throw unknownPlayer(name, players.map((s) => s.player));
    throw new NoPlayerError(
      name ? `player '${name}' is not available` : 'no media player found',
      snap.problems.length ? snap.problems.join('; ') : 'start a player (mpd, mpv, a browser…) and try again',
      'player.none',
    );
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
