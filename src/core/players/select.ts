import { NoPlayerError } from '../errors.js';
import type { PlaybackStatus, PlayerState } from './types.js';

/** Does `requested` name this player? Exact, or the MPRIS instance form (`vlc` matches `vlc.instance42`). */
export function nameMatches(requested: string, name: string): boolean {
  return name === requested || name.startsWith(`${requested}.`);
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
