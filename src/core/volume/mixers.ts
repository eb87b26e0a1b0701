import { NoPlayerError } from '../errors.js';
import type { Player } from '../players/types.js';
import { runTool } from './exec.js';
import type { Mixer, SplitReading, VolumeReading } from './types.js';

interface ToolOptions { env: NodeJS.ProcessEnv; timeoutMs: number }

function unparseable(tool: string, output: string): NoPlayerError {
  return new NoPlayerError(`could not read the volume from ${tool}: unexpected output '${output.trim().slice(0, 80)}'`, undefined, 'volume.backend_failed');
}

/** Average of the per-channel percentages in pactl/amixer output. */
function percentages(text: string): number[] {
  return [...text.matchAll(/(\d+)%/g)].map((m) => Number(m[1]));
}

function average(values: number[]): number {
  return Math.round(values.reduce((a, b) => a + b, 0) / values.length);
}

/**
 * PulseAudio (or PipeWire's pulse server) through pactl, default sink: the
 * fallback of the native client (pulse/mixer.ts) for a server that is not a
 * unix socket or a socket it cannot use.
 */
export class PactlMixer implements Mixer {
  readonly backend = 'pulse' as const;
  readonly target = 'system' as const;
  constructor(private readonly o: ToolOptions) {}
  private pactl(...args: string[]) { return runTool('pactl', args, this.o.timeoutMs, this.o.env); }

  async get(): Promise<VolumeReading> {
    // Both at once; on failure report the volume call's error, whichever finished first.
    const [volR, muteR] = await Promise.allSettled([this.readLevel(), this.readMuted()]);
    if (volR.status === 'rejected') throw volR.reason;
    if (muteR.status === 'rejected') throw muteR.reason;
    return { level: volR.value, muted: muteR.value };
  }
  /**
   * The level alone, with the mute read started only when first awaited: a
   * relative change then runs `get-sink-volume` with no second pactl competing
   * for the CPU and the sound server, and the mute read overlaps the set.
   */
  async readSplit(): Promise<SplitReading> {
    let muted: Promise<boolean> | undefined;
    const lazy: PromiseLike<boolean> = { then: (ok, fail) => (muted ??= this.readMuted()).then(ok, fail) };
    return { level: await this.readLevel(), muted: lazy };
  }
  private readLevel(): Promise<number> {
    return this.pactl('get-sink-volume', '@DEFAULT_SINK@').then((vol) => {
      const levels = percentages(vol.split('\n')[0] ?? '');
      if (levels.length === 0) throw unparseable('pactl', vol);
      return average(levels);
    });
  }
  private readMuted(): Promise<boolean> {
    return this.pactl('get-sink-mute', '@DEFAULT_SINK@').then((mute) => {
      const m = /Mute:\s*(yes|no)/.exec(mute);
      if (!m) throw unparseable('pactl', mute);
      return m[1] === 'yes';
    });
  }
  async set(level: number): Promise<void> { await this.pactl('set-sink-volume', '@DEFAULT_SINK@', `${level}%`); }
  async setMuted(muted: boolean): Promise<void> { await this.pactl('set-sink-mute', '@DEFAULT_SINK@', muted ? '1' : '0'); }
}

/** PipeWire through WirePlumber's wpctl, default audio sink. */
export class PipewireMixer implements Mixer {
  readonly backend = 'pipewire' as const;
  readonly target = 'system' as const;
  constructor(private readonly o: ToolOptions) {}
  private wpctl(...args: string[]) { return runTool('wpctl', args, this.o.timeoutMs, this.o.env); }

  async get(): Promise<VolumeReading> {
    const text = await this.wpctl('get-volume', '@DEFAULT_AUDIO_SINK@');
    const m = /Volume:\s*([\d.]+)/.exec(text);
    if (!m) throw unparseable('wpctl', text);
    return { level: Math.round(Number(m[1]) * 100), muted: /\[MUTED\]/.test(text) };
  }
  async set(level: number): Promise<void> { await this.wpctl('set-volume', '@DEFAULT_AUDIO_SINK@', (level / 100).toFixed(2)); }
  async setMuted(muted: boolean): Promise<void> { await this.wpctl('set-mute', '@DEFAULT_AUDIO_SINK@', muted ? '1' : '0'); }
}

/** ALSA through amixer, one simple control (Master by default), mapped volume (-M) as alsamixer shows it. */
export class AlsaMixer implements Mixer {
  readonly backend = 'alsa' as const;
  readonly target = 'system' as const;
  constructor(private readonly o: ToolOptions & { control: string; card?: string | undefined; device?: string | undefined }) {}
  private amixer(...args: string[]) {
    const where = this.o.device ? ['-D', this.o.device] : this.o.card ? ['-c', this.o.card] : [];
    return runTool('amixer', [...where, '-M', ...args], this.o.timeoutMs, this.o.env);
  }

  async get(): Promise<VolumeReading> {
    const text = await this.amixer('get', this.o.control);
    const levels = percentages(text);
    if (levels.length === 0) throw unparseable('amixer', text);
    return { level: average(levels), muted: /\[off\]/.test(text) };
  }
  async set(level: number): Promise<void> { await this.amixer('-q', 'set', this.o.control, `${level}%`); }
  async setMuted(muted: boolean): Promise<void> { await this.amixer('-q', 'set', this.o.control, muted ? 'mute' : 'unmute'); }
}

/**
 * A player's own volume. Players have no mute of their own over MPRIS or MPD,
 * so mute sets 0 and remembers the level to return to (kept by the caller in
 * the state dir through `memory`).
 */
export class PlayerMixer implements Mixer {
  readonly backend = 'player' as const;
  readonly target = 'player' as const;
  constructor(
    private readonly player: Player,
    private readonly memory: { read(player: string): number | undefined; write(player: string, level: number | undefined): void },
  ) {}

  async get(): Promise<VolumeReading> {
    const state = await this.player.state();
    if (state.volume === null || !state.capabilities.canSetVolume) {
      throw new NoPlayerError(`player '${this.player.name}' has no volume of its own`, 'use --target system', 'player.unsupported');
    }
    const saved = this.memory.read(this.player.name);
    return { level: state.volume, muted: state.volume === 0 && saved !== undefined };
  }
  async set(level: number): Promise<void> {
    await this.player.setVolume(level);
    this.memory.write(this.player.name, undefined);
  }
  async setMuted(muted: boolean): Promise<void> {
    const now = await this.get();
    if (muted && !now.muted) {
      await this.player.setVolume(0);
      this.memory.write(this.player.name, now.level);
    } else if (!muted && now.muted) {
      await this.player.setVolume(this.memory.read(this.player.name) ?? 50);
      this.memory.write(this.player.name, undefined);
    }
  }
}
