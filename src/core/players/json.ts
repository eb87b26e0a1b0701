import type { PlayerAction, PlayerState } from './types.js';

/**
 * The JSON of one player's state, as `play status --json` prints it and
 * `GET /api/status` answers it (stable, additive-only). One definition for
 * the CLI, the server and the remote client.
 */
export function statusJson(s: PlayerState) {
  return {
    player: s.player,
    status: s.status,
    title: s.title,
    artist: s.artist,
    album: s.album,
    duration: s.duration,
    position: s.position,
    positionUpdatedAt: s.positionUpdatedAt,
    volume: s.volume,
    shuffle: s.shuffle,
    repeat: s.repeat,
    artUrl: s.artUrl,
    capabilities: s.capabilities,
  };
}

/** Action names as the CLI and the API print them (`previous` is `prev`). */
export const ACTION_NAME: Record<PlayerAction, string> = {
  play: 'play', pause: 'pause', toggle: 'toggle', stop: 'stop', next: 'next', previous: 'prev',
};
