import { UsageError } from '../errors.js';
import { acquireHelper, borrowHelper, type HelperOptions } from '../players/windows/helper.js';
import type { Mixer, VolumeReading } from './types.js';

/** The default playback device's volume and mute (Core Audio IAudioEndpointVolume, through the PowerShell helper). */
export class WindowsMixer implements Mixer {
  readonly backend = 'windows' as const;
  readonly target = 'system' as const;
  constructor(private readonly o: HelperOptions) {}

  private get helper() {
    return borrowHelper(this.o);
  }

  async get(): Promise<VolumeReading> {
    const r = await this.helper.request('volume.get') as { level?: unknown; muted?: unknown } | null;
    if (typeof r?.level !== 'number' || typeof r.muted !== 'boolean') throw new UsageError('the Windows helper answered volume.get without a level');
    return { level: Math.round(r.level), muted: r.muted };
  }

  async set(level: number): Promise<void> {
    if (!Number.isInteger(level) || level < 0 || level > 100) throw new UsageError(`volume ${level} is out of range: use 0–100`, undefined, 'usage.out_of_range');
    await this.helper.request('volume.set', { level });
  }

  async setMuted(muted: boolean): Promise<void> {
    await this.helper.request('volume.mute', { muted });
  }
}

/** Calls `onChange` when the helper reports a volume or mute change (Core Audio's own notification). */
export function watchWindowsVolume(env: NodeJS.ProcessEnv, timeoutMs: number, onChange: () => void): () => void {
  const lease = acquireHelper({ env, timeoutMs });
  const onEvent = (e: { event: string }) => { if (e.event === 'volume') onChange(); };
  lease.helper.on('event', onEvent);
  lease.helper.on('restart', onChange);
  lease.helper.request('watch').catch(() => {});
  return () => {
    lease.helper.off('event', onEvent);
    lease.helper.off('restart', onChange);
    void lease.release();
  };
}
