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
  /** Shuffle can be read and set (MPRIS Shuffle, MPD random). */
  canShuffle: boolean;
  /** The repeat mode can be read and set (MPRIS LoopStatus, MPD repeat + single). */
  canRepeat: boolean;
  /** The player opens URIs of at least one scheme (MPRIS SupportedUriSchemes not empty; MPD always). */
  canOpenUri: boolean;
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
  /**
   * The other names this same player answers to (MPRIS: further bus names of
   * its connection, e.g. `vlc.instance4242` beside `vlc`). Absent when none.
   * Not part of the status JSON; `play players --json` lists it.
   */
  aliases?: string[];
}

export type PlayerAction = 'play' | 'pause' | 'toggle' | 'stop' | 'next' | 'previous';

/**
 * Where a player comes from: MPD (every platform), MPRIS (Linux and other
 * Unix desktops), macOS Now Playing (media-control, or AppleScript for Music
 * and Spotify), Windows media sessions (the PowerShell helper).
 */
export type BackendName = 'mpd' | 'mpris' | 'macos' | 'windows';

/** One controllable player. Every method answers within the backend timeout or rejects. */
export interface Player {
  /** Stable name: `mpd`, or the MPRIS bus name after `org.mpris.MediaPlayer2.` (e.g. `mpv`). */
  readonly name: string;
  /** Which backend it came from. */
  readonly backend: BackendName;
  /** Other names of this same player (see PlayerState.aliases); empty for most. */
  readonly aliases?: readonly string[];
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

  // --- Added for the playerctl/mpc parity and the desktop backends. Optional:
  // a backend without one cannot do it, and callers say so (`player.unsupported`,
  // exit 3) rather than pretending. Each setter only sends the request; the
  // controller re-reads (or waits for the change signal, within the backend
  // time limit) and reports what the player now has, or that it ignored it.

  /** Shuffle on/off (MPRIS Shuffle, MPD random). */
  setShuffle?(on: boolean): Promise<void>;
  /** Repeat mode (MPRIS LoopStatus None/Track/Playlist; MPD repeat + single). */
  setRepeat?(mode: RepeatMode): Promise<void>;
  /**
   * Open a URI (a URL, or a path the player knows) and play it. A scheme the
   * player does not accept is a NoPlayerError `player.unsupported_scheme`
   * (exit 3) whose message names the schemes it does accept.
   */
  openUri?(uri: string): Promise<void>;
  /** The URI schemes the player accepts (MPRIS SupportedUriSchemes; MPD its url handlers + file). */
  uriSchemes?(): Promise<string[]>;
  /**
   * Every metadata key the player reports for the current track, raw:
   * MPRIS keys as they are (`xesam:title`, `xesam:artist` as a string array,
   * `mpris:length` in microseconds, player-specific keys); other backends map
   * theirs onto the same xesam/mpris names where one exists, and keep the
   * rest under a prefix of their own (`mpd:…`). {} when nothing is loaded.
   */
  metadata?(): Promise<Metadata>;
  /** The upcoming tracks (MPD queue, MPRIS TrackList); `player.unsupported` where the player has none. */
  queue?(): Promise<QueueEntry[]>;
}

/** A raw metadata value as D-Bus gives it, made JSON-safe (64-bit integers as numbers). */
export type MetadataValue = string | number | boolean | null | MetadataValue[] | { [key: string]: MetadataValue };
export type Metadata = Record<string, MetadataValue>;

/** One entry of a player's queue. */
export interface QueueEntry {
  /** Position in the queue, 0-based, as the player counts it. */
  position: number;
  /** The player's own id for it (MPD song id, MPRIS track id), when it has one. */
  id: string | null;
  title: string | null;
  artist: string | null;
  album: string | null;
  /** Seconds. */
  duration: number | null;
  uri: string | null;
  /** This is the current track. */
  current: boolean;
}

export interface PlayFileOptions {
  /** MPD's music_directory as configured in mediagate (`mpd.musicDirectory`), for TCP connections. */
  mpdMusicDirectory?: string | undefined;
}

/** Something that finds players: one MPD server, one D-Bus session bus, the macOS or Windows media sessions. */
export interface PlayerSource {
  readonly backend: BackendName;
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

/**
 * A source of several named players (MPRIS, macOS, Windows), each asked
 * without asking the others.
 */
export interface NamedPlayerSource extends PlayerSource {
  /** The players `requested` names: that exact one, else its instances (`vlc` → `vlc.instance42`); [] when none. */
  find(requested: string): Promise<Player[]>;
  /** The player of that exact name; NoPlayerError `player.not_found` when there is none. */
  player(name: string): Promise<Player>;
}

export interface SourceOptions {
  env: NodeJS.ProcessEnv;
  /** Time limit for every call, ms. */
  timeoutMs: number;
  /**
   * A one-shot command (not --follow, not serve): MPRIS calls go over the
   * small wire client instead of dbus-next, which takes longer to load than
   * the whole command takes otherwise.
   */
  oneShot?: boolean;
}
