/**
 * The JSON the bridge publishes, built from LiveState's snapshot. Pure.
 *
 * `<node>/state` (the machine):
 *   {node, volume, muted, mixer: {target, backend} | null, active: ID | null,
 *    nowPlaying: {id, player, status, title, artist, album} | null,
 *    players: [{id, player, status, title, artist}]}
 * `<node>/player/<id>/state` and `active/state`: `play status --json` (with
 * capabilities) plus `id` and `artwork`:
 *   artwork null                          no picture we can send
 *   {sent: true, type, bytes}             on …/artwork
 *   {sent: false, reason: "too_large", bytes, limit}
 *
 * Nothing here holds a clock: a payload changes only when the state does.
 * The position is the player's, with its positionUpdatedAt; a re-read that
 * only moved the position along the clock is not a change (samePlayback).
 */
import type { LiveSnapshot } from '../../core/live.js';
import { statusJson } from '../../core/players/json.js';
import type { PlayerState } from '../../core/players/types.js';

export type ArtworkInfo = null | { sent: true; type: string; bytes: number } | { sent: false; reason: 'too_large'; bytes: number; limit: number };

export function machineState(node: string, snap: LiveSnapshot, ids: ReadonlyMap<string, string>) {
  const v = snap.volume;
  const a = snap.active;
  return {
    node,
    volume: v ? v.level : null,
    muted: v ? v.muted : null,
    mixer: v ? { target: v.target, backend: v.backend } : null,
    active: a ? ids.get(a.player) ?? null : null,
    nowPlaying: a ? { id: ids.get(a.player) ?? null, player: a.player, status: a.status, title: a.title, artist: a.artist, album: a.album } : null,
    players: snap.players.map((s) => ({ id: ids.get(s.player) ?? null, player: s.player, status: s.status, title: s.title, artist: s.artist })),
  };
}

export type MachineState = ReturnType<typeof machineState>;

export function playerState(id: string, s: PlayerState, artwork: ArtworkInfo) {
  return { id, ...statusJson(s), artwork };
}

/** How far (s) an extrapolated position may be from a new reading and still be the same playback. */
const DRIFT_S = 1.5;

/**
 * Is `next` the same playback as `prev`, the position only having moved on
 * with the clock (or not at all)? Then it is not published again: a re-read
 * after an unrelated event must not look like a change.
 */
export function samePlayback(prev: PlayerState, next: PlayerState): boolean {
  const { position: p0, positionUpdatedAt: t0, ...a } = prev;
  const { position: p1, positionUpdatedAt: t1, ...b } = next;
  if (JSON.stringify(a) !== JSON.stringify(b)) return false;
  if (p0 === p1) return true;
  if (p0 === null || p1 === null || t0 === null || t1 === null) return false;
  if (prev.status !== 'playing') return false;
  const expected = p0 + (Date.parse(t1) - Date.parse(t0)) / 1000;
  return Math.abs(expected - p1) <= DRIFT_S;
}
