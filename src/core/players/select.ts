import { NoPlayerError } from '../errors.js';
import { withoutInstance } from './mpris-names.js';
import type { PlaybackStatus, PlayerState } from './types.js';

/** Does `requested` name this player? Exact, or the MPRIS instance form (`vlc` matches `vlc.instance42`). */
export function nameMatches(requested: string, name: string): boolean {
  return name === requested || name.startsWith(`${requested}.`);
}

/** A player by its name and the other names it answers to (a Player, or a PlayerState as {name: s.player, aliases}). */
export interface Named { name: string; aliases?: readonly string[] | undefined }

/** Does `requested` name this player, by its name or one of its aliases (`vlc.instance42` names the player listed as `vlc`)? */
export function playerMatches(requested: string, p: Named): boolean {
  return nameMatches(requested, p.name) || (p.aliases ?? []).some((a) => nameMatches(requested, a));
}

/**
 * Could a player reported only by its name be the one `requested` names?
 * As nameMatches, and an instance name also for its base name (VLC's
 * events come as `vlc`, which `vlc.instance42` names when one connection
 * owns both — which only its aliases tell).
 */
export function mayMatch(requested: string, name: string): boolean {
  return nameMatches(requested, name) || withoutInstance(requested) === name;
}

/** Is the player on the ignore list (--ignore-player, config players.ignore)? Matched as --player matches. */
export function isIgnored(p: Named, ignore: readonly string[]): boolean {
  return ignore.some((i) => playerMatches(i, p));
}

/** The error for a player that is asked for by name but ignored. */
export function ignoredPlayer(requested: string): NoPlayerError {
  return new NoPlayerError(`player '${requested}' is ignored`,
    'it is named by --ignore-player or config players.ignore (`mediagate config get players.ignore`)', 'player.ignored');
}

const RANK: Record<PlaybackStatus, number> = { playing: 0, paused: 1, stopped: 2 };

/**
 * Pick the player a bare command should act on: the most recently active one.
 * Playing beats paused beats stopped; among equals, the one mediagate last saw
 * become active (`lastActive`), then the order the sources listed them in.
 */
export function pickActive(states: PlayerState[], lastActive?: string): PlayerState | undefined {
  return states
    .map((s, i) => ({ s, i }))
    .sort((a, b) => {
      const byStatus = RANK[a.s.status] - RANK[b.s.status];
      if (byStatus !== 0) return byStatus;
      const aLast = a.s.player === lastActive ? 0 : 1;
      const bLast = b.s.player === lastActive ? 0 : 1;
      return aLast - bLast || a.i - b.i;
    })[0]?.s;
}

/** The error for a requested name that matches none of the available players. */
export function unknownPlayer(requested: string, available: string[]): NoPlayerError {
  return new NoPlayerError(
    `no player named '${requested}'`,
    available.length ? `available players: ${available.join(', ')}` : 'no players are running',
    'player.not_found',
  );
}
