export type MixerName = 'pulse' | 'pipewire' | 'alsa' | 'macos' | 'windows' | 'player';

export interface VolumeReading {
  /** 0–100 (a system mixer may report more when boosted above 100%). */
  level: number;
  muted: boolean;
}

/** A reading whose mute state may still be on its way (rejections are the caller's to handle). */
export interface SplitReading {
  level: number;
  /** Read when first awaited: a mixer may start that read only then (after the set it overlaps). */
  muted: PromiseLike<boolean>;
}

/** One volume control: the system mixer, or a player's own volume. */
export interface Mixer {
  readonly backend: MixerName;
  readonly target: 'system' | 'player';
  get(): Promise<VolumeReading>;
  /**
   * Optional: start reading and give the level as soon as it is known, the
   * mute state when it comes. PulseAudio reads them with two pactl calls;
   * a change (+5) can be sent while the second one is still running.
   */
  readSplit?(): Promise<SplitReading>;
  /** Absolute level, 0–100. */
  set(level: number): Promise<void>;
  setMuted(muted: boolean): Promise<void>;
}

/** What `mediagate volume ARG` asks for. */
export type VolumeRequest =
  | { kind: 'get' }
  | { kind: 'set'; level: number }
  | { kind: 'change'; delta: number }
  | { kind: 'mute' }
  | { kind: 'unmute' }
  | { kind: 'toggle-mute' };
