/**
 * A player as the playerctl mode drives it: its state in playerctl's terms
 * (src/core/template/playerctl-dialect.ts's PlayerctlSnapshot, plus what
 * playerctl checks before acting) and the MPRIS-shaped operations playerctl
 * sends. Two kinds stand behind it: an MPRIS player on this machine's bus,
 * read with its D-Bus types (mpris-player.ts), and any player mediagate's
 * controller reaches — MPD, a remote server's players (controller-player.ts).
 */
import type { PlayerctlLoop, PlayerctlSnapshot } from '../../core/format.js';

export interface PlayerctlCaps {
  canPlay: boolean;
  canPause: boolean;
  canSeek: boolean;
  canGoNext: boolean;
  canGoPrevious: boolean;
  canControl: boolean;
}

export interface PlayerctlState extends PlayerctlSnapshot {
  caps: PlayerctlCaps;
  /** When it was read (Date.now()): a playing player's position moves on from there. */
  readAt: number;
}

export interface PlayerctlPlayer {
  readonly instance: string;
  read(): Promise<PlayerctlState>;
  play(): Promise<void>;
  pause(): Promise<void>;
  playPause(): Promise<void>;
  stop(): Promise<void>;
  next(): Promise<void>;
  previous(): Promise<void>;
  /** Relative, microseconds. */
  seek(offset: bigint): Promise<void>;
  /** Absolute, microseconds, in the track `state` shows. */
  setPosition(position: bigint, state: PlayerctlState): Promise<void>;
  /** 0–1. */
  setVolume(level: number): Promise<void>;
  setLoop(loop: PlayerctlLoop): Promise<void>;
  setShuffle(on: boolean): Promise<void>;
  open(uri: string): Promise<void>;
}

/** The player is not there after all (MPD configured but not running): it counts as absent, not as a failure. */
export class PlayerAbsent extends Error {
  override name = 'PlayerAbsent';
}

/** `mpv` for `mpv.instance1234`: playerctl's player name, the part before the first dot. */
export function playerName(instance: string): string {
  const at = instance.indexOf('.');
  return at < 0 ? instance : instance.slice(0, at);
}

/** The position now: a playing player's moves on from when it was read (as playerctl computes it). */
export function positionNow(s: PlayerctlState, now = Date.now()): bigint | undefined {
  if (s.position === undefined) return undefined;
  if (s.status !== 'Playing') return s.position;
  return s.position + BigInt(Math.max(0, Math.round((now - s.readAt) * 1000)));
}
