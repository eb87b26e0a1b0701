import { NoPlayerError } from '../../errors.js';
import type { PulseConnection } from './connection.js';
import { Command, INVALID_INDEX } from './protocol.js';
import { MalformedPacket } from './tagstruct.js';

export interface ServerInfo {
  serverName: string | null;
  serverVersion: string | null;
  /** Null when the server has no sink at all. */
  defaultSink: string | null;
}

/** What mediagate needs of a sink: where it is, its per-channel volume, mute, base volume and channel map. */
export interface SinkInfo {
  index: number;
  name: string | null;
  description: string | null;
  channelMap: number[];
  /** Raw per-channel volumes (PA_VOLUME_NORM = 0x10000 is 100%). */
  volume: number[];
  muted: boolean;
  baseVolume: number;
}

export async function getServerInfo(c: PulseConnection): Promise<ServerInfo> {
  const r = await c.request(Command.GET_SERVER_INFO);
  const serverName = r.string();
  const serverVersion = r.string();
  r.string(); // user name
  r.string(); // host name
  r.sampleSpec();
  const defaultSink = r.string();
  return { serverName, serverVersion, defaultSink };
}

/**
 * GET_SINK_INFO by name. The reply's fields come in protocol order; we
 * read up to the base volume (protocol 15) and ignore what follows (ports,
 * formats), whose layout changed between versions.
 */
export async function getSinkInfo(c: PulseConnection, name: string): Promise<SinkInfo> {
  const r = await c.request(Command.GET_SINK_INFO, (w) => w.u32(INVALID_INDEX).string(name));
  const index = r.u32();
  const sinkName = r.string();
  const description = r.string();
  r.sampleSpec();
  const channelMap = r.channelMap();
  r.u32(); // owner module
  const volume = r.cvolume();
  const muted = r.bool();
  r.u32(); // monitor source
  r.string(); // monitor source name
  r.usec(); // latency
  r.string(); // driver
  r.u32(); // flags
  r.proplist();
  r.usec(); // configured latency
  const baseVolume = r.volume();
  if (volume.length === 0 || volume.length !== channelMap.length) {
    throw new MalformedPacket(`sink volume has ${volume.length} channels, its channel map ${channelMap.length}`);
  }
  return { index, name: sinkName, description, channelMap, volume, muted, baseVolume };
}

/**
 * The default sink's info: GET_SERVER_INFO (is there a default sink?) and
 * GET_SINK_INFO of "@DEFAULT_SINK@", the name both servers resolve to it,
 * sent together: one round trip, not two.
 */
export async function getDefaultSink(c: PulseConnection): Promise<SinkInfo> {
  const sink = getSinkInfo(c, '@DEFAULT_SINK@');
  sink.catch(() => { /* without a default sink, the error below is the one to report */ });
  const { defaultSink } = await getServerInfo(c);
  if (!defaultSink) throw new NoPlayerError(`PulseAudio at ${c.path} has no default sink`, 'is a sink (output device) configured?', 'volume.no_sink');
  return sink;
}

/** Every channel's volume, by sink index (one value per channel: pipewire-pulse sets only the first of a one-value volume). */
export async function setSinkVolume(c: PulseConnection, index: number, values: readonly number[]): Promise<void> {
  await c.request(Command.SET_SINK_VOLUME, (w) => w.u32(index).string(null).cvolume(values));
}

export async function setSinkMute(c: PulseConnection, index: number, muted: boolean): Promise<void> {
  await c.request(Command.SET_SINK_MUTE, (w) => w.u32(index).string(null).bool(muted));
}

/** Ask for subscription events of the facilities in `mask` (SubscriptionMask bits). */
export async function subscribe(c: PulseConnection, mask: number): Promise<void> {
  await c.request(Command.SUBSCRIBE, (w) => w.u32(mask));
}
