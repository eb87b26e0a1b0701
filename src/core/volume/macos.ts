import { NoPlayerError, UsageError } from '../errors.js';
import { findOsascript, Osascript } from '../players/macos/osascript.js';
import type { Mixer, VolumeReading } from './types.js';

/**
 * What `get volume settings` prints: `output volume:50, input volume:75,
 * alert volume:100, output muted:false`. An output without a volume control
 * (some HDMI and USB devices) says `missing value` instead of a number.
 */
export function parseVolumeSettings(text: string): { level: number | null; muted: boolean | null } {
  const field = (name: string) => new RegExp(`${name}:\\s*([^,]+)`).exec(text)?.[1]?.trim();
  const level = field('output volume');
  const muted = field('output muted');
  if (level === undefined || muted === undefined) {
    throw new NoPlayerError(`could not read the volume from osascript: unexpected output '${text.trim().slice(0, 80)}'`, undefined, 'volume.backend_failed');
  }
  return {
    level: /^\d+$/.test(level) ? Number(level) : null,
    muted: muted === 'true' ? true : muted === 'false' ? false : null,
  };
}

/** The macOS system output volume through osascript's Standard Additions. */
export class MacosMixer implements Mixer {
  readonly backend = 'macos' as const;
  readonly target = 'system' as const;
  private readonly osa: Osascript;

  constructor(o: { env: NodeJS.ProcessEnv; timeoutMs: number }) {
    const path = findOsascript(o.env);
    if (!path) throw new NoPlayerError('osascript is not there', 'it is part of macOS: /usr/bin/osascript', 'volume.tool_missing');
    this.osa = new Osascript(path, o.env, o.timeoutMs);
  }

  async get(): Promise<VolumeReading> {
    const r = parseVolumeSettings(await this.osa.run(['get volume settings'], [], 'the system volume'));
    if (r.level === null) {
      throw new NoPlayerError('the current sound output has no volume control (macOS reports "missing value")',
        'choose another output in System Settings → Sound, or use the device\'s own volume (--target player)', 'volume.no_control');
    }
    return { level: r.level, muted: r.muted ?? false };
  }

  async set(level: number): Promise<void> {
    if (!Number.isInteger(level) || level < 0 || level > 100) throw new UsageError(`volume ${level} is out of range: use 0–100`, undefined, 'usage.out_of_range');
    await this.osa.run(['on run argv', 'set volume output volume ((item 1 of argv) as integer)', 'end run'], [String(level)], 'the system volume');
  }

  async setMuted(muted: boolean): Promise<void> {
    await this.osa.run([muted ? 'set volume with output muted' : 'set volume without output muted'], [], 'the system volume');
  }
}
