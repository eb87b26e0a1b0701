/**
 * A player reached through mediagate's Controller — MPD on this machine, or
 * any player of a remote `mediagate serve` — in the playerctl mode's terms:
 * its state translated to playerctl's units (microseconds, volume 0–1,
 * `Playing`, `None`/`Track`/`Playlist`), its metadata typed by the MPRIS key
 * types, and playerctl's operations mapped onto the controller's.
 */
import type { Controller } from '../../core/control.js';
import type { PlayerctlLoop, PlayerctlStatus } from '../../core/format.js';
import type { Metadata, PlayerState, RepeatMode } from '../../core/players/types.js';
import { fromJson, METADATA_SIGNATURES, type Value } from '../../core/template/value.js';
import { playerName, type PlayerctlPlayer, type PlayerctlState } from './player.js';

const STATUS: Record<PlayerState['status'], PlayerctlStatus> = { playing: 'Playing', paused: 'Paused', stopped: 'Stopped' };
const LOOP: Record<RepeatMode, PlayerctlLoop> = { off: 'None', track: 'Track', playlist: 'Playlist' };
const REPEAT: Record<PlayerctlLoop, RepeatMode> = { None: 'off', Track: 'track', Playlist: 'playlist' };

/** Metadata from the state alone, for a player that reports no raw metadata. */
function metadataOfState(s: PlayerState): Metadata {
  const m: Metadata = {};
  if (s.title !== null) m['xesam:title'] = s.title;
  if (s.artist !== null) m['xesam:artist'] = [s.artist];
  if (s.album !== null) m['xesam:album'] = s.album;
  if (s.duration !== null) m['mpris:length'] = Math.round(s.duration * 1e6);
  if (s.artUrl !== null) m['mpris:artUrl'] = s.artUrl;
  return m;
}

function typed(m: Metadata): Array<[string, Value]> {
  return Object.entries(m).flatMap(([k, v]) => {
    const x = fromJson(v, METADATA_SIGNATURES[k]);
    return x ? [[k, x] as [string, Value]] : [];
  });
}

export class ControllerPlayerctlPlayer implements PlayerctlPlayer {
  constructor(private readonly ctl: Controller, readonly instance: string) {}

  async read(): Promise<PlayerctlState> {
    const [s, meta] = await Promise.all([
      this.ctl.status(this.instance),
      this.ctl.metadata(this.instance).then((m) => m.metadata, () => undefined),
    ]);
    return {
      name: playerName(this.instance),
      instance: this.instance,
      status: STATUS[s.status],
      loop: s.repeat === null ? undefined : LOOP[s.repeat],
      shuffle: s.shuffle ?? undefined,
      volume: s.volume === null ? undefined : s.volume / 100,
      position: s.position === null ? undefined : BigInt(Math.round(s.position * 1e6)),
      metadata: typed(meta ?? metadataOfState(s)),
      caps: {
        canPlay: s.capabilities.canPlay,
        canPause: s.capabilities.canPause,
        canSeek: s.capabilities.canSeek,
        canGoNext: s.capabilities.canGoNext,
        canGoPrevious: s.capabilities.canGoPrevious,
        canControl: s.capabilities.canControl,
      },
      readAt: s.positionUpdatedAt ? Date.parse(s.positionUpdatedAt) : Date.now(),
    };
  }

  private async act(action: Parameters<Controller['act']>[0]): Promise<void> {
    await this.ctl.act(action, this.instance);
  }

  play(): Promise<void> { return this.act('play'); }
  pause(): Promise<void> { return this.act('pause'); }
  playPause(): Promise<void> { return this.act('toggle'); }
  stop(): Promise<void> { return this.act('stop'); }
  next(): Promise<void> { return this.act('next'); }
  previous(): Promise<void> { return this.act('previous'); }

  async seek(offset: bigint): Promise<void> {
    await this.ctl.seek({ kind: 'relative', seconds: Number(offset) / 1e6 }, this.instance);
  }

  async setPosition(position: bigint): Promise<void> {
    await this.ctl.seek({ kind: 'absolute', seconds: Math.max(0, Number(position) / 1e6) }, this.instance);
  }

  /** MPRIS players clamp a level outside 0–1 themselves; mediagate's mixers refuse it, so clamp here. */
  async setVolume(level: number): Promise<void> {
    const percent = Math.round(Math.min(1, Math.max(0, Number.isFinite(level) ? level : 0)) * 100);
    await this.ctl.volume({ kind: 'set', level: percent }, 'player', this.instance);
  }

  async setLoop(loop: PlayerctlLoop): Promise<void> {
    await this.ctl.setRepeat(REPEAT[loop], this.instance);
  }

  async setShuffle(on: boolean): Promise<void> {
    await this.ctl.setShuffle(on, this.instance);
  }

  async open(uri: string): Promise<void> {
    await this.ctl.open(uri, this.instance);
  }
}
