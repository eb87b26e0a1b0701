/** What every player backend (MPRIS, MPD, later macOS/Windows) offers. */

export type PlaybackStatus = 'playing' | 'paused' | 'stopped';
export type RepeatMode = 'off' | 'track' | 'playlist';

export interface Capabilities {
  canPlay: boolean;
  canPause: boolean;
  canSeek: boolean;
  canGoNext: boolean;
  canGoPrevious: boolean;
  /** The player's own volume can be read and set. */
  canSetVolume: boolean;
  /** The player accepts control at all (MPRIS CanControl). */
  canControl: boolean;
}

/** A snapshot of one player. Seconds as numbers; unknown values are null. */
export interface PlayerState {
  player: string;
  status: PlaybackStatus;
  title: string | null;
  artist: string | null;
  album: string | null;
  /** Seconds. */
  duration: number | null;
  /** Seconds, as of positionUpdatedAt. */
  position: number | null;
  /** ISO 8601 time at which `position` was read; clients extrapolate while playing. */
  positionUpdatedAt: string | null;
  /** The player's own volume, 0–100. */
  volume: number | null;
  shuffle: boolean | null;
  repeat: RepeatMode | null;
  /** Artwork location as the player reports it (file:// or http(s)://), if any. */
  artUrl: string | null;
  capabilities: Capabilities;
}

export type PlayerAction = 'play' | 'pause' | 'toggle' | 'stop' | 'next' | 'previous';

/** One controllable player. Every method answers within the backend timeout or rejects. */
export interface Player {
  /** Stable name: `mpd`, or the MPRIS bus name after `org.mpris.MediaPlayer2.` (e.g. `mpv`). */
  readonly name: string;
  /** Which backend it came from. */
  readonly backend: 'mpd' | 'mpris';
  state(): Promise<PlayerState>;
  /** Checks the capability first: a command the player cannot do is a NoPlayerError (`player.unsupported`), not a no-op. */
  act(action: PlayerAction): Promise<void>;
  /** Absolute position in seconds. */
  seekTo(seconds: number): Promise<void>;
  /** Relative move in seconds (negative goes back). */
  seekBy(offsetSeconds: number): Promise<void>;
  /** The player's own volume, 0–100. */
  setVolume(level: number): Promise<void>;
  /**
   * Play a local file now (absolute real path, already checked by SafeJoin).
   * MPD: added to the queue and played; MPRIS: OpenUri with a file:// URI.
   * Optional: a backend without it cannot play files.
   */
  playFile?(file: string, opts?: PlayFileOptions): Promise<void>;
}

export interface PlayFileOptions {
  /** MPD's music_directory as configured in mediagate (`mpd.musicDirectory`), for TCP connections. */
  mpdMusicDirectory?: string | undefined;
}

/** Something that finds players: one MPD server, one D-Bus session bus. */
export interface PlayerSource {
  readonly backend: 'mpd' | 'mpris';
  /** Players available now. Rejects (with a NoPlayerError carrying a hint) when the source itself is unreachable. */
  list(): Promise<Player[]>;
  /**
   * Calls `onChange(playerName)` whenever a player of this source changes
   * (state, track, position jump, volume, options) or appears/disappears.
   * Event-driven (MPD idle, D-Bus signals); no polling. Returns a stop function.
   */
  watch(onChange: (playerName: string) => void): Promise<() => Promise<void>>;
  /** Release connections. Safe to call twice. */
  close(): Promise<void>;
}

export interface SourceOptions {
  env: NodeJS.ProcessEnv;
  /** Time limit for every call, ms. */
  timeoutMs: number;
}
