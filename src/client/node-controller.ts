/**
 * NodeController: the Controller interface (src/core/control.ts) for one
 * mediagate node reached through the MQTT broker (`--node NAME`). Commands
 * render its results with the same code as for the local controller, so the
 * output is the same; refusals come back as the local MediagateError (same
 * code and exit code; see fleet.ts).
 *
 *   status   the node's retained active/state (or player/<id>/state)
 *   players  its retained state + player/+/state
 *   act      {"action"} on active/set (or player/<id>/set)
 *   seek     {"action": "seek", "value"}: seconds, "+N"/"-N", "N%"
 *   volume   the system volume of that machine: volume/set, mute/set; read from its state
 */
import type { Controller, PlayerRow, VolumeResult, VolumeTarget } from '../core/control.js';
import { MediagateError, NoPlayerError, UnreachableError, UsageError } from '../core/errors.js';
import { playerId } from '../core/mqtt/topics.js';
import type { SeekTarget } from '../core/players/seek.js';
import { unknownPlayer } from '../core/players/select.js';
import type { Metadata, PlayerAction, PlayerState, QueueEntry, RepeatMode } from '../core/players/types.js';
import type { VolumeRequest } from '../core/volume/types.js';
import { playerStateFrom } from './controller.js';
import { pickNode, type Fleet } from './fleet.js';

type Json = Record<string, unknown>;

function badAnswer(node: string, what: string): UnreachableError {
  return new UnreachableError(`node ${node} sent ${what} mediagate does not understand`, 'it may run a different mediagate version', 'mqtt.bad_payload');
}

function seekValue(t: SeekTarget): number | string {
  if (t.kind === 'absolute') return t.seconds;
  if (t.kind === 'percent') return `${t.percent}%`;
  return `${t.seconds >= 0 ? '+' : ''}${t.seconds}`;
}

export class NodeController implements Controller {
  private checked = false;

  constructor(private readonly fleet: Fleet, readonly node: string) {}

  /** The node exists and is online (asked once). */
  private async ensureNode(): Promise<Json> {
    const info = pickNode(await this.fleet.nodes(), this.node);
    this.checked = true;
    return info.state ?? {};
  }

  private async retainedJson(topic: string): Promise<Json | null> {
    const [m] = await this.fleet.retained([topic]);
    if (!m || m.payload.length === 0) return null;
    try { return JSON.parse(m.payload.toString('utf8')) as Json; } catch { throw badAnswer(this.node, 'a state'); }
  }

  async status(player?: string): Promise<PlayerState> {
    const state = await this.ensureNode();
    const t = this.fleet.topics(this.node);
    const j = await this.retainedJson(player === undefined ? t.activeState : t.playerState(playerId(player)));
    if (!j || j.status === 'idle') {
      if (player !== undefined) throw unknownPlayer(player, this.idsOf(state));
      throw new NoPlayerError(`no media player found on node ${this.node}`, 'start a player there (mpd, mpv, a browser…) and try again', 'player.none');
    }
    return playerStateFrom({ server: `node ${this.node}` }, j);
  }

  private idsOf(state: Json): string[] {
    return Array.isArray(state.players) ? state.players.map((p: Json) => String(p?.id)) : [];
  }

  async players(): Promise<{ players: PlayerRow[]; problems: MediagateError[] }> {
    const state = await this.ensureNode();
    const t = this.fleet.topics(this.node);
    const msgs = await this.fleet.retained([`${t.root}/player/+/state`]);
    const byId = new Map<string, PlayerState>();
    for (const m of msgs) {
      if (m.payload.length === 0) continue;
      try {
        const j = JSON.parse(m.payload.toString('utf8')) as Json;
        if (typeof j.id === 'string') byId.set(j.id, playerStateFrom({ server: `node ${this.node}` }, j));
      } catch { /* a payload we do not understand: left out */ }
    }
    const list = Array.isArray(state.players) ? state.players as Json[] : [];
    const rows: PlayerRow[] = [];
    for (const p of list) {
      const s = byId.get(String(p.id));
      if (!s) continue;
      rows.push({
        name: s.player, backend: s.player === 'mpd' ? 'mpd' : 'mpris', status: s.status, responding: true,
        title: s.title, artist: s.artist, active: state.active === p.id, capabilities: s.capabilities, aliases: [],
      });
    }
    return { players: rows, problems: [] };
  }

  // Shuffle, repeat, open, metadata and queue are not on the node's topics yet.
  private notOverMqtt(what: string): never {
    throw new NoPlayerError(`${what} is not supported through the MQTT broker (--node) yet`, 'run the command on that machine, or with --remote against its serve', 'player.unsupported');
  }

  async setShuffle(_value: boolean | 'toggle', _player?: string): Promise<{ player: string; shuffle: boolean }> { return this.notOverMqtt('shuffle'); }
  async setRepeat(_mode: RepeatMode | 'toggle', _player?: string): Promise<{ player: string; repeat: RepeatMode }> { return this.notOverMqtt('repeat'); }
  async open(_uri: string, _player?: string): Promise<{ player: string; uri: string }> { return this.notOverMqtt('open'); }
  async metadata(_player?: string): Promise<{ player: string; metadata: Metadata }> { return this.notOverMqtt('metadata'); }
  async queue(_player?: string): Promise<{ player: string; queue: QueueEntry[] }> { return this.notOverMqtt('queue'); }

  private async send(topic: string, body: Json): Promise<Json> {
    if (!this.checked) await this.ensureNode();
    return this.fleet.command(this.node, topic, body);
  }

  private setTopic(player?: string): string {
    const t = this.fleet.topics(this.node);
    return player === undefined ? t.activeSet : t.playerSet(playerId(player));
  }

  async act(action: PlayerAction, player?: string): Promise<{ player: string }> {
    const d = await this.send(this.setTopic(player), { action });
    if (typeof d.player !== 'string') throw badAnswer(this.node, 'an answer');
    return { player: d.player };
  }

  async seek(target: SeekTarget, player?: string): Promise<{ player: string; position: number | null }> {
    const d = await this.send(this.setTopic(player), { action: 'seek', value: seekValue(target) });
    if (typeof d.player !== 'string') throw badAnswer(this.node, 'an answer');
    return { player: d.player, position: typeof d.position === 'number' ? d.position : null };
  }

  async volume(request: VolumeRequest, target: VolumeTarget, player?: string): Promise<VolumeResult> {
    if (target === 'player' || player !== undefined) {
      throw new UsageError('with --node, volume acts on that machine\'s volume as its serve chooses it: --target player and --player are not available', undefined, 'usage.node_volume');
    }
    const t = this.fleet.topics(this.node);
    if (request.kind === 'get') {
      const s = await this.ensureNode();
      const mixer = s.mixer as Json | null | undefined;
      if (typeof s.volume !== 'number' || typeof s.muted !== 'boolean' || !mixer) throw new NoPlayerError(`node ${this.node} has no volume to report`, undefined, 'volume.unavailable');
      return { level: s.volume, muted: s.muted, target: mixer.target as VolumeResult['target'], backend: mixer.backend as VolumeResult['backend'] };
    }
    const [topic, value] = request.kind === 'set' ? [t.volumeSet, request.level]
      : request.kind === 'change' ? [t.volumeSet, `${request.delta >= 0 ? '+' : ''}${request.delta}`]
        : [t.muteSet, request.kind === 'mute' ? 'ON' : request.kind === 'unmute' ? 'OFF' : 'TOGGLE'];
    const d = await this.send(topic, { value });
    if (typeof d.level !== 'number' || typeof d.muted !== 'boolean') throw badAnswer(this.node, 'a volume');
    return { level: d.level, muted: d.muted, target: d.target as VolumeResult['target'], backend: d.backend as VolumeResult['backend'] };
  }

  async close(): Promise<void> { /* the Fleet connection is closed by its owner */ }
}
