export type MixerName = 'pulse' | 'pipewire' | 'alsa' | 'player';

export interface VolumeReading {
  /** 0–100 (a system mixer may report more when boosted above 100%). */
  level: number;
  muted: boolean;
}

/** One volume control: the system mixer, or a player's own volume. */
export interface Mixer {
  readonly backend: MixerName;
  readonly target: 'system' | 'player';
  get(): Promise<VolumeReading>;
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
