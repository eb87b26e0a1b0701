/**
 * An MPRIS player on this machine's bus, for the playerctl mode: its
 * properties read with their D-Bus types in one GetAll (so templates compute
 * and print as playerctl's do), and playerctl's operations sent as they are —
 * the same method calls and property writes playerctl makes, no more; the
 * capability checks are playerctl's (commands.ts).
 */
import type { MprisPlayer } from '../../core/players/mpris.js';
import { fromVariant, isVariant } from '../../core/players/dbus-value.js';
import type { PlayerctlLoop, PlayerctlStatus } from '../../core/format.js';
import type { Value } from '../../core/template/value.js';
import { playerName, type PlayerctlPlayer, type PlayerctlState } from './player.js';

const STATUSES = new Set(['Playing', 'Paused', 'Stopped']);
const LOOPS = new Set(['None', 'Track', 'Playlist']);

const raw = (v: unknown): unknown => (isVariant(v) ? v.value : undefined);

export class MprisPlayerctlPlayer implements PlayerctlPlayer {
  constructor(private readonly player: MprisPlayer) {}

  get instance(): string {
    return this.player.name;
  }

  async read(): Promise<PlayerctlState> {
    const { props } = await this.player.properties();
    const readAt = Date.now();
    const text = (k: string): string | undefined => { const v = raw(props[k]); return typeof v === 'string' ? v : undefined; };
    const flag = (k: string): boolean | undefined => { const v = raw(props[k]); return typeof v === 'boolean' ? v : undefined; };
    const metadata: Array<[string, Value]> = [];
    const meta = raw(props.Metadata);
    if (meta && typeof meta === 'object') {
      for (const [k, v] of Object.entries(meta)) {
        const x = fromVariant(v);
        if (x) metadata.push([k, x]);
      }
    }
    const status = text('PlaybackStatus');
    const loop = text('LoopStatus');
    const volume = raw(props.Volume);
    const position = raw(props.Position);
    return {
      name: playerName(this.instance),
      instance: this.instance,
      status: status && STATUSES.has(status) ? status as PlayerctlStatus : undefined,
      loop: loop && LOOPS.has(loop) ? loop as PlayerctlLoop : undefined,
      shuffle: flag('Shuffle'),
      volume: typeof volume === 'number' ? volume : undefined,
      position: typeof position === 'bigint' || typeof position === 'number' ? BigInt(position) : undefined,
      metadata,
      caps: {
        canPlay: flag('CanPlay') ?? false,
        canPause: flag('CanPause') ?? false,
        canSeek: flag('CanSeek') ?? false,
        canGoNext: flag('CanGoNext') ?? false,
        canGoPrevious: flag('CanGoPrevious') ?? false,
        canControl: flag('CanControl') ?? false,
      },
      readAt,
    };
  }

  play(): Promise<void> { return this.player.invoke('Play'); }
  pause(): Promise<void> { return this.player.invoke('Pause'); }
  playPause(): Promise<void> { return this.player.invoke('PlayPause'); }
  stop(): Promise<void> { return this.player.invoke('Stop'); }
  next(): Promise<void> { return this.player.invoke('Next'); }
  previous(): Promise<void> { return this.player.invoke('Previous'); }
  seek(offset: bigint): Promise<void> { return this.player.invoke('Seek', 'x', [offset]); }

  setPosition(position: bigint, state: PlayerctlState): Promise<void> {
    const id = state.metadata.find(([k]) => k === 'mpris:trackid')?.[1];
    const track = id && (id.t === 'o' || id.t === 's') ? id.v as string : '/org/mpris/MediaPlayer2/TrackList/NoTrack';
    return this.player.invoke('SetPosition', 'ox', [track, position]);
  }

  setVolume(level: number): Promise<void> { return this.player.setProperty('Volume', 'd', level); }
  setLoop(loop: PlayerctlLoop): Promise<void> { return this.player.setProperty('LoopStatus', 's', loop); }
  setShuffle(on: boolean): Promise<void> { return this.player.setProperty('Shuffle', 'b', on); }
  open(uri: string): Promise<void> { return this.player.invoke('OpenUri', 's', [uri]); }
}
