/**
 * Home Assistant device discovery for one machine (and, with
 * `mqtt.playerDevices`, one device per player). Pure: builds the payloads;
 * the bridge publishes them retained and clears them.
 *
 * Home Assistant has no MQTT media_player platform, so the machine is shown
 * with platforms it does have over MQTT (device-based discovery:
 * `<prefix>/device/<object id>/config`, keys abbreviated as its
 * documentation lists them, checked by test/mqtt-discovery.test.js):
 *
 *   now_playing    sensor  the active player's title (≤ 255 characters), the
 *                          whole active/state as attributes
 *   status         sensor  enum: playing, paused, stopped, idle
 *   volume         number  0–100 slider → volume/set
 *   mute           switch  ON/OFF → mute/set
 *   play_pause, next, previous, stop   buttons → active/set
 *   artwork        image   raw bytes on active/artwork
 *   active_player  select  the players' ids → active/player/set
 *
 * Availability: every component follows `<node>/availability` (the bridge's
 * last will). The device's identifier is this machine's device id (state
 * dir), not its host name, so renaming the host or the node keeps the device.
 *
 * A component no longer offered (the select once no player is left) is
 * removed with a stub `{"p": platform}` in the next payload, as Home
 * Assistant's documentation says; the bridge then sends the payload without it.
 */
import { readFileSync } from 'node:fs';
import type { NodeTopics } from '../../core/mqtt/topics.js';

export type Component = Record<string, unknown> & { p: string };
export interface DevicePayload {
  dev: Record<string, unknown>;
  o: Record<string, unknown>;
  avty_t: string;
  pl_avail: string;
  pl_not_avail: string;
  cmps: Record<string, Component>;
}

let version: string | undefined;
function mediagateVersion(): string {
  if (version === undefined) {
    try {
      version = String((JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown }).version ?? '0');
    } catch { version = '0'; }
  }
  return version;
}

export interface DiscoveryInput {
  topics: NodeTopics;
  deviceId: string;
  /** The ids of the players now (the select's options). */
  playerIds: string[];
  /** The content type of the artwork last sent (Home Assistant needs one up front). */
  artworkType: string | undefined;
}

const ORIGIN = () => ({ name: 'mediagate', sw: mediagateVersion() });

/** `<prefix>/device/<object id>/config` of the machine, or of one player's device. */
export function deviceTopic(prefix: string, deviceId: string, playerId?: string): string {
  return `${prefix}/device/mediagate_${deviceId}${playerId ? `_${playerId}` : ''}/config`;
}

function base(topics: NodeTopics, dev: Record<string, unknown>): Omit<DevicePayload, 'cmps'> {
  return { dev, o: ORIGIN(), avty_t: topics.availability, pl_avail: 'online', pl_not_avail: 'offline' };
}

/** The components that show one player's state (`stateTopic`) and take its commands (`setTopic`). */
function playerComponents(uid: string, stateTopic: string, setTopic: string, artworkTopic: string, artworkType: string | undefined): Record<string, Component> {
  const button = (key: string, name: string, press: string, icon: string): Component => ({ p: 'button', uniq_id: `${uid}_${key}`, name, cmd_t: setTopic, pl_prs: press, ic: icon });
  return {
    now_playing: {
      p: 'sensor', uniq_id: `${uid}_now_playing`, name: 'Now playing', ic: 'mdi:music',
      stat_t: stateTopic, val_tpl: "{{ (value_json.title or '')[:255] }}", json_attr_t: stateTopic,
    },
    status: {
      p: 'sensor', uniq_id: `${uid}_status`, name: 'Status', ic: 'mdi:play-pause',
      dev_cla: 'enum', ops: ['playing', 'paused', 'stopped', 'idle'], stat_t: stateTopic, val_tpl: '{{ value_json.status }}',
    },
    play_pause: button('play_pause', 'Play/pause', 'toggle', 'mdi:play-pause'),
    next: button('next', 'Next', 'next', 'mdi:skip-next'),
    previous: button('previous', 'Previous', 'previous', 'mdi:skip-previous'),
    stop: button('stop', 'Stop', 'stop', 'mdi:stop'),
    artwork: { p: 'image', uniq_id: `${uid}_artwork`, name: 'Artwork', img_t: artworkTopic, cont_type: artworkType ?? 'image/jpeg' },
  };
}

/** The machine's device. */
export function machineDevice(input: DiscoveryInput): DevicePayload {
  const { topics, deviceId } = input;
  const uid = `mediagate_${deviceId}`;
  const cmps: Record<string, Component> = {
    ...playerComponents(uid, topics.activeState, topics.activeSet, topics.activeArtwork, input.artworkType),
    volume: {
      p: 'number', uniq_id: `${uid}_volume`, name: 'Volume', ic: 'mdi:volume-high',
      cmd_t: topics.volumeSet, stat_t: topics.state, val_tpl: '{{ value_json.volume }}',
      min: 0, max: 100, step: 1, mode: 'slider', unit_of_meas: '%',
    },
    mute: {
      p: 'switch', uniq_id: `${uid}_mute`, name: 'Mute', ic: 'mdi:volume-off',
      cmd_t: topics.muteSet, stat_t: topics.state, val_tpl: "{{ 'ON' if value_json.muted else 'OFF' }}", pl_on: 'ON', pl_off: 'OFF',
    },
  };
  if (input.playerIds.length > 0) {
    cmps.active_player = {
      p: 'select', uniq_id: `${uid}_active_player`, name: 'Active player', ic: 'mdi:speaker',
      cmd_t: topics.activePlayerSet, stat_t: topics.state, val_tpl: '{{ value_json.active }}', ops: [...input.playerIds],
    };
  }
  return { ...base(topics, { ids: [uid], name: topics.node, mf: 'mediagate', mdl: 'mediagate serve', sw: mediagateVersion() }), cmps };
}

/** One player's own device (mqtt.playerDevices), attached to the machine's. */
export function playerDevice(topics: NodeTopics, deviceId: string, playerId: string, playerName: string, artworkType: string | undefined): DevicePayload {
  const uid = `mediagate_${deviceId}_${playerId}`;
  const dev = { ids: [uid], name: `${topics.node} ${playerName}`, mf: 'mediagate', mdl: 'media player', via_device: `mediagate_${deviceId}` };
  return { ...base(topics, dev), cmps: playerComponents(uid, topics.playerState(playerId), topics.playerSet(playerId), topics.playerArtwork(playerId), artworkType) };
}

/** `next` with a removal stub `{"p": platform}` for each component `prev` had and `next` has not. */
export function withRemovals(prev: DevicePayload | undefined, next: DevicePayload): DevicePayload {
  if (!prev) return next;
  const gone = Object.entries(prev.cmps).filter(([k]) => !(k in next.cmps));
  if (gone.length === 0) return next;
  return { ...next, cmps: { ...next.cmps, ...Object.fromEntries(gone.map(([k, c]) => [k, { p: c.p }])) } };
}
