import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/store.js';
import { MediagateError, NoPlayerError } from '../errors.js';
import { ensurePrivateDir, stateDir } from '../paths.js';
import { writeFileAtomic } from '../state/atomic.js';
import type { PlayerHub } from '../players/hub.js';
import { platformOf } from '../platform.js';
import { AlsaMixer, PipewireMixer, PlayerMixer } from './mixers.js';
import { PulseMixer } from './pulse/mixer.js';
import type { Mixer, MixerName, SplitReading, VolumeReading } from './types.js';
import { tookCodePath } from '../code-paths.js';

export interface MixerChoice {
  mixer: Mixer;
  /** The reading taken while choosing (auto-detection reads anyway). */
  reading: VolumeReading;
}

export interface MixerOptions {
  env: NodeJS.ProcessEnv;
  config: Config;
  /** --target; undefined means system when a mixer is found, else player. */
  target?: 'system' | 'player' | undefined;
  /** --player, for the player target. */
  player?: string | undefined;
  hub: PlayerHub;
}

type SystemMixerName = Exclude<MixerName, 'player'>;

async function systemMixer(name: SystemMixerName, o: MixerOptions, timeoutMs: number): Promise<Mixer> {
  const tool = { env: o.env, timeoutMs };
  tookCodePath(`mixer-${name}`);
  if (name === 'pulse') return new PulseMixer(tool);
  if (name === 'pipewire') return new PipewireMixer(tool);
  if (name === 'macos') return new (await import('./macos.js')).MacosMixer(tool);
  if (name === 'windows') return new (await import('./windows.js')).WindowsMixer(tool);
  return new AlsaMixer({ ...tool, control: o.config.get<string>('volume.alsaControl') ?? 'Master', card: o.config.get<string>('volume.alsaCard'), device: o.config.get<string>('volume.alsaDevice') });
}

/** The system mixers auto-detection tries, in order, on this platform. */
export function autoMixers(env: NodeJS.ProcessEnv): SystemMixerName[] {
  const p = platformOf(env);
  if (p === 'darwin') return ['macos'];
  if (p === 'win32') return ['windows'];
  return ['pulse', 'pipewire', 'alsa'];
}

/** Remembered pre-mute levels for players (players have no mute of their own). */
function playerVolumeMemory(env: NodeJS.ProcessEnv) {
  const path = () => join(stateDir(env), 'player-volume.json');
  const readAll = (): Record<string, number> => {
    try { return JSON.parse(readFileSync(path(), 'utf8')) as Record<string, number>; } catch { return {}; }
  };
  return {
    read: (player: string) => readAll()[player],
    write(player: string, level: number | undefined) {
      const all = readAll();
      if (all[player] === level) return;
      if (level === undefined) delete all[player]; else all[player] = level;
      ensurePrivateDir(stateDir(env));
      writeFileAtomic(path(), `${JSON.stringify(all)}\n`);
    },
  };
}

/** Read a mixer while choosing it: the full reading, or the level first (see Mixer.readSplit). */
type Probe<R> = (mixer: Mixer) => Promise<R>;
const full: Probe<VolumeReading> = (m) => m.get();
const split: Probe<SplitReading> = async (m) => {
  if (m.readSplit) return m.readSplit();
  const r = await m.get();
  return { level: r.level, muted: Promise.resolve(r.muted) };
};

/**
 * Choose the volume control: `volume.backend` when set, else the first system
 * mixer that answers (Linux: PulseAudio, which PipeWire also serves; then
 * wpctl; then ALSA. macOS: osascript. Windows: the helper's Core Audio), else — unless `--target system` was asked for — the player's own volume.
 */
export async function chooseMixer(o: MixerOptions): Promise<MixerChoice> {
  const { mixer, reading } = await choose(o, full);
  return { mixer, reading };
}

/**
 * chooseMixer for a change: the level as soon as it is known and the mute
 * state still on its way, so the change can be sent meanwhile (PulseAudio:
 * one pactl call less on the critical path of `volume +5`).
 */
export async function chooseMixerForChange(o: MixerOptions): Promise<{ mixer: Mixer; reading: SplitReading }> {
  return choose(o, split);
}

async function choose<R>(o: MixerOptions, probe: Probe<R>): Promise<{ mixer: Mixer; reading: R }> {
  const configured = o.config.get<string>('volume.backend') ?? 'auto';
  const timeoutMs = o.hub.timeoutMs;
  if (o.target === 'player' || configured === 'player') {
    if (o.target === 'system') throw new MediagateError('config.conflict', "--target system conflicts with volume.backend 'player'", 2);
    const { player } = await o.hub.select(o.player);
    const mixer = new PlayerMixer(player, playerVolumeMemory(o.env));
    return { mixer, reading: await probe(mixer) };
  }
  if (configured !== 'auto') {
    const mixer = await systemMixer(configured as SystemMixerName, o, timeoutMs);
    return { mixer, reading: await probe(mixer) };
  }
  const problems: string[] = [];
  for (const name of autoMixers(o.env)) {
    try {
      const mixer = await systemMixer(name, o, timeoutMs);
      return { mixer, reading: await probe(mixer) };
    } catch (e) {
      problems.push(`${name}: ${(e as Error).message}`);
    }
  }
  if (o.target === 'system') {
    throw new NoPlayerError('no system mixer found', problems.join('; '), 'volume.no_mixer');
  }
  try {
    const { player } = await o.hub.select(o.player);
    const mixer = new PlayerMixer(player, playerVolumeMemory(o.env));
    return { mixer, reading: await probe(mixer) };
  } catch (e) {
    const why = e instanceof MediagateError ? e.message : String(e);
    throw new NoPlayerError('no volume control found: no system mixer and no player volume', `${problems.join('; ')}; player: ${why}`, 'volume.no_mixer');
  }
}
