/**
 * The MQTT bridge of `serve` (when `mqtt.url` is set): LiveState's events
 * → retained topics, commands → the controller. See core/mqtt/topics.ts for
 * the layout, payloads.ts for what is sent, commands.ts for what is taken.
 *
 * Never flood: every publish comes from a LiveState event, a command's
 * answer, a (re)connect or Home Assistant's birth message; a topic is sent
 * only when its payload changed (retained.ts); the position is not ticked
 * (a re-read that only moved it along the clock is no change). Never stale:
 * `availability` is the last will (`offline` when serve dies), everything
 * is sent again after a reconnect and after `<prefix>/status` = `online`
 * (after a short random delay), and topics and discovery of players that
 * are gone are cleared — also those left by an earlier run, read from this
 * node's own retained `state` when the bridge connects.
 *
 * Commands: only with `mqtt.commands control` is anything subscribed; each
 * is checked (a retained one is refused), runs with at most the control
 * scope (nothing else exists here: no token, config or audit operation is
 * reachable over MQTT), one at a time, at most MAX_QUEUED waiting, and is
 * audited as `mqtt:<broker user>`. A refusal goes to `<node>/error` and
 * into the audit log (floods of the same refusal through a DenialGate).
 */
import type { IPublishPacket } from 'mqtt';
import type { AuditActor, AuditOutcome, AuditSink } from '../../core/audit/types.js';
import type { Controller } from '../../core/control.js';
import { MediagateError, NoPlayerError } from '../../core/errors.js';
import type { LiveSnapshot, LiveState } from '../../core/live.js';
import { assignPlayerIds, commandTarget, NodeTopics, type CommandTarget } from '../../core/mqtt/topics.js';
import { mqttActorId, type BrokerSettings } from '../../core/mqtt/settings.js';
import { writeLastActive } from '../../core/players/last-active.js';
import type { PlayerState } from '../../core/players/types.js';
import { artworkKey, type ArtworkSigner } from '../artwork.js';
import { DenialGate } from '../audit-gate.js';
import { sanitizeMessage } from '../http-error.js';
import { newRequestId } from '../request-id.js';
import { runCommand } from '../run-command.js';
import { auditActionOf, commandDetailOf, MqttRefusal, parseMqttCommand, type MqttCommand, type ParsedCommand } from './commands.js';
import { BrokerConnection, type ConnectionStatus } from './connection.js';
import { deviceTopic, machineDevice, playerDevice, withRemovals, type DevicePayload } from './discovery.js';
import { machineState, playerState, samePlayback, type ArtworkInfo } from './payloads.js';
import { RetainedTopics } from './retained.js';

export interface BridgeDeps {
  settings: BrokerSettings;
  live: LiveState;
  controller: Controller;
  audit: AuditSink;
  artwork: ArtworkSigner;
  env: NodeJS.ProcessEnv;
  deviceId: string;
  /** One line of serve's log (stderr). */
  log: (line: string) => void;
  /** Home Assistant birth → republish after a random delay up to this (ms). */
  birthDelayMs?: number;
  minRetryMs?: number;
}

export interface BridgeStatus extends ConnectionStatus {
  url: string;
  node: string;
  commands: 'off' | 'control';
  discovery: boolean;
  /** Messages published since start (state, artwork, discovery, clears; not keep-alives). */
  published: number;
  /** Commands since start: arrived, refused before running, ran, failed while running. */
  commandCounts: { received: number; refused: number; ran: number; failed: number };
}

const MAX_QUEUED = 16;
/** What goes with a picture on the wire besides its bytes (topic, header): kept below the broker's limit. */
const PACKET_OVERHEAD = 512;

interface PlayerArt { key: string | null; info: ArtworkInfo; data: Buffer | null; type: string | undefined }

const NO_PLAYER = { id: null, player: null, status: 'idle', title: null, artist: null, album: null, artwork: null };

export class MqttBridge {
  readonly topics: NodeTopics;
  private readonly conn: BrokerConnection;
  private readonly retained: RetainedTopics;
  private readonly actor: AuditActor;
  private readonly gate: DenialGate<{ action: string; code: string; topic: string }>;
  private ids = new Map<string, string>();
  private names = new Map<string, string>();
  /** The state last published per player id (position compared with samePlayback). */
  private readonly shown = new Map<string, PlayerState>();
  private readonly art = new Map<string, PlayerArt>();
  private devices = new Map<string, DevicePayload>();
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private birthTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Subscribed after (re)connecting: only then is state sent (so this node's old `state` is read first). */
  private ready = false;
  private readonly onStatus = (): void => this.sync();
  private readonly counts = { received: 0, refused: 0, ran: 0, failed: 0 };

  constructor(private readonly deps: BridgeDeps) {
    const s = deps.settings;
    this.topics = new NodeTopics(s.baseTopic, s.node);
    this.actor = { id: mqttActorId(s), label: `mqtt ${s.username ?? 'anonymous'}` };
    this.conn = new BrokerConnection(s, {
      clientId: `mediagate-${s.node}`.slice(0, 64),
      will: { topic: this.topics.availability, payload: 'offline' },
      log: deps.log,
      ...(deps.minRetryMs !== undefined ? { minDelayMs: deps.minRetryMs } : {}),
    });
    this.retained = new RetainedTopics((t, p) => this.conn.publish(t, p, { retain: true, qos: 1 }), () => this.conn.connected && this.ready);
    this.gate = new DenialGate({
      onSummary: (x) => this.deps.audit.append({ actor: this.actor, action: x.context.action, target: x.context.topic, outcome: 'denied', detail: `+${x.count} similar MQTT refusal(s) (${x.context.code}) within ${Math.round(x.windowMs / 1000)} s, not recorded one by one` }),
    });
    this.conn.on('up', () => { void this.connected(); });
    this.conn.on('down', () => { this.ready = false; });
    this.conn.on('message', (topic, payload, packet) => this.message(topic, payload, packet));
  }

  status(): BridgeStatus {
    const s = this.deps.settings;
    return { url: s.url, node: s.node, commands: s.commands, discovery: s.discovery, published: this.retained.sent, commandCounts: { ...this.counts }, ...this.conn.status() };
  }

  async start(): Promise<void> {
    this.deps.live.on('status', this.onStatus);
    this.deps.live.on('volume', this.onStatus);
    this.sync();
    await this.conn.start();
  }

  /** Connected (first time or again): subscribe, say online, send everything once. */
  private async connected(): Promise<void> {
    const s = this.deps.settings;
    const filters = [this.topics.state];
    if (s.commands === 'control') filters.push(...this.topics.commandFilters);
    if (s.discovery) filters.push(`${s.discoveryPrefix}/status`);
    try {
      await this.conn.subscribe(filters);
    } catch (e) {
      this.deps.log(`mediagate: mqtt: the broker refused a subscription (${sanitizeMessage((e as Error).message)}); commands may not arrive — check the broker's ACL for this user`);
    }
    if (!this.conn.connected) return;
    this.ready = true;
    this.conn.publish(this.topics.availability, 'online', { retain: true, qos: 1 });
    if (!s.discovery) this.retained.clear(deviceTopic(s.discoveryPrefix, this.deps.deviceId), true);
    this.sync();
    this.retained.republishAll();
  }

  private message(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.stopped) return;
    const s = this.deps.settings;
    if (topic === this.topics.state) {
      if (packet.retain) this.clearLeftovers(payload);
      this.conn.unsubscribe([this.topics.state]);
      return;
    }
    if (s.discovery && topic === `${s.discoveryPrefix}/status`) {
      if (!packet.retain && payload.toString('utf8').trim() === 'online') this.birth();
      return;
    }
    const target = s.commands === 'control' ? commandTarget(this.topics, topic) : null;
    if (target) this.command(target, topic, payload, packet.retain);
  }

  /** Home Assistant (re)started: send everything again, after a random delay so many nodes do not answer at once. */
  private birth(): void {
    if (this.birthTimer) return;
    const max = this.deps.birthDelayMs ?? 3000;
    this.birthTimer = setTimeout(() => {
      this.birthTimer = null;
      this.sync();
      this.retained.republishAll();
    }, Math.round(max / 5 + Math.random() * max * 0.8));
    this.birthTimer.unref();
  }

  /** The players an earlier run left retained (this node's old `state`) that are not here now: cleared. */
  private clearLeftovers(payload: Buffer): void {
    let old: unknown;
    try { old = JSON.parse(payload.toString('utf8')); } catch { return; }
    const list = (old as { players?: unknown })?.players;
    if (!Array.isArray(list)) return;
    for (const p of list) {
      const id = (p as { id?: unknown })?.id;
      if (typeof id !== 'string' || !/^[a-z0-9_-]{1,64}$/.test(id) || this.names.has(id)) continue;
      this.retained.clear(this.topics.playerState(id), true);
      this.retained.clear(this.topics.playerArtwork(id), true);
      this.retained.clear(deviceTopic(this.deps.settings.discoveryPrefix, this.deps.deviceId, id), true);
    }
  }

  // ------------------------------------------------------------------ state

  /** Bring every retained topic in line with the snapshot (sending only what changed). */
  private sync(): void {
    if (this.stopped) return;
    const snap = this.deps.live.snapshot();
    const s = this.deps.settings;
    const ids = assignPlayerIds(snap.players.map((p) => p.player));
    const gone = [...this.names.keys()].filter((id) => ![...ids.values()].includes(id));
    this.ids = ids;
    this.names = new Map([...ids].map(([name, id]) => [id, name]));
    for (const p of snap.players) this.syncPlayer(ids.get(p.player)!, p);
    for (const id of gone) this.dropPlayer(id);
    this.retained.set(this.topics.state, JSON.stringify(machineState(s.node, snap, ids)));
    this.syncActive(snap);
    if (s.discovery) this.syncDiscovery(snap);
    this.conn.flush();
  }

  private syncPlayer(id: string, p: PlayerState): void {
    const prev = this.shown.get(id);
    const state = prev && samePlayback(prev, p) ? prev : p;
    this.shown.set(id, state);
    const art = this.artFor(id, p);
    this.retained.set(this.topics.playerState(id), JSON.stringify(playerState(id, state, art.info)));
    if (art.data) this.retained.set(this.topics.playerArtwork(id), art.data);
    else if (art.info === null || !art.info.sent) this.retained.clear(this.topics.playerArtwork(id));
  }

  private syncActive(snap: LiveSnapshot): void {
    const a = snap.active;
    const id = a ? this.ids.get(a.player) : undefined;
    if (!a || !id) {
      this.retained.set(this.topics.activeState, JSON.stringify(NO_PLAYER));
      this.retained.clear(this.topics.activeArtwork);
      return;
    }
    const art = this.art.get(id);
    this.retained.set(this.topics.activeState, JSON.stringify(playerState(id, this.shown.get(id) ?? a, art?.info ?? null)));
    if (art?.data) this.retained.set(this.topics.activeArtwork, art.data);
    else this.retained.clear(this.topics.activeArtwork);
  }

  private dropPlayer(id: string): void {
    this.shown.delete(id);
    this.art.delete(id);
    this.retained.clear(this.topics.playerState(id));
    this.retained.clear(this.topics.playerArtwork(id));
    const t = deviceTopic(this.deps.settings.discoveryPrefix, this.deps.deviceId, id);
    if (this.devices.delete(t)) this.retained.clear(t);
  }

  /** The artwork of player `id` as now known; a new picture is read in the background, then synced. */
  private artFor(id: string, p: PlayerState): PlayerArt {
    const key = artworkKey(p);
    const known = this.art.get(id);
    if (known && known.key === key) return known;
    const none: PlayerArt = { key, info: null, data: null, type: known?.type };
    this.art.set(id, none);
    if (key !== null) {
      void this.deps.artwork.imageFor(p).then((img) => {
        if (this.stopped || this.art.get(id) !== none || !img) return;
        const limit = this.artworkLimit();
        const fits = img.data.length <= limit;
        this.art.set(id, {
          key,
          type: img.type,
          data: fits ? img.data : null,
          info: fits ? { sent: true, type: img.type, bytes: img.data.length } : { sent: false, reason: 'too_large', bytes: img.data.length, limit },
        });
        this.sync();
      });
    }
    return none;
  }

  /** The largest picture sent: mqtt.artworkMaxBytes, and below the broker's own packet limit when it told one. */
  private artworkLimit(): number {
    const max = this.conn.maxPacketSize();
    const cap = this.deps.settings.artworkMaxBytes;
    return max !== undefined ? Math.min(cap, Math.max(0, max - PACKET_OVERHEAD)) : cap;
  }

  private syncDiscovery(snap: LiveSnapshot): void {
    const s = this.deps.settings;
    const activeId = snap.active ? this.ids.get(snap.active.player) : undefined;
    const activeType = activeId ? this.art.get(activeId)?.type : undefined;
    this.publishDevice(deviceTopic(s.discoveryPrefix, this.deps.deviceId), machineDevice({
      topics: this.topics, deviceId: this.deps.deviceId, playerIds: [...this.names.keys()].sort(), artworkType: activeType,
    }));
    if (!s.playerDevices) return;
    for (const [id, name] of this.names) {
      this.publishDevice(deviceTopic(s.discoveryPrefix, this.deps.deviceId, id), playerDevice(this.topics, this.deps.deviceId, id, name, this.art.get(id)?.type));
    }
  }

  /** Send a device's discovery when it changed; a component it lost goes first as a removal stub, then without. */
  private publishDevice(topic: string, next: DevicePayload): void {
    const prev = this.devices.get(topic);
    const stubbed = withRemovals(prev, next);
    this.devices.set(topic, next);
    if (stubbed !== next) this.retained.set(topic, JSON.stringify(stubbed));
    this.retained.set(topic, JSON.stringify(next));
  }

  // --------------------------------------------------------------- commands

  private command(target: CommandTarget, topic: string, payload: Buffer, retain: boolean): void {
    const requestId = newRequestId();
    const rel = topic.slice(this.topics.root.length + 1);
    this.counts.received++;
    let parsed: ParsedCommand;
    try {
      parsed = parseMqttCommand(target, payload, retain, target.kind === 'player' ? this.names.get(target.id) ?? '' : undefined);
      if (target.kind === 'player' && !this.names.has(target.id)) {
        throw new MqttRefusal('player.not_found', `no player with id '${target.id}' on node ${this.deps.settings.node}${this.names.size ? ` (players: ${[...this.names.keys()].join(', ')})` : ''}`, parsed.id);
      }
      if (this.queued >= MAX_QUEUED) throw new MqttRefusal('rate_limit.busy', `too many commands waiting (at most ${MAX_QUEUED}); wait for their results`, parsed.id);
    } catch (e) {
      if (!(e instanceof MqttRefusal)) throw e;
      this.refuse(target, rel, e, requestId);
      return;
    }
    this.queued++;
    this.queue = this.queue.then(() => this.run(parsed, target, rel, requestId)).finally(() => { this.queued--; });
  }

  private refuse(target: CommandTarget, rel: string, e: MqttRefusal, requestId: string, command?: MqttCommand): void {
    this.counts.refused++;
    const action = auditActionOf(command, target);
    const outcome: AuditOutcome = e.code === 'request.retained' || e.code === 'rate_limit.busy' ? 'denied' : 'error';
    if (this.gate.check(`${action}\0${e.code}`, { action, code: e.code, topic: rel }).record) {
      this.deps.audit.append({ actor: this.actor, action, target: rel, outcome, requestId, detail: `mqtt ${e.code}` });
    }
    this.conn.publish(this.topics.error, JSON.stringify({ ...(e.id !== undefined ? { id: e.id } : {}), topic: rel, code: e.code, message: sanitizeMessage(e.message) }), { retain: false, qos: 0 });
    this.conn.flush();
  }

  private async run(p: ParsedCommand, target: CommandTarget, rel: string, requestId: string): Promise<void> {
    if (this.stopped) return;
    const c = p.command;
    const action = auditActionOf(c, target);
    const detail = commandDetailOf(c);
    try {
      const data = await this.execute(c);
      const who = typeof data.player === 'string' ? data.player : typeof data.target === 'string' ? `${data.target}:${data.backend}` : rel;
      this.counts.ran++;
      this.deps.audit.append({ actor: this.actor, action, target: who, outcome: 'ok', requestId, ...(detail ? { detail } : {}) });
      if (p.id !== undefined) this.conn.publish(this.topics.result, JSON.stringify({ id: p.id, ok: true, data }), { retain: false, qos: 0 });
      this.conn.flush();
    } catch (e) {
      this.counts.failed++;
      const code = e instanceof MediagateError || e instanceof MqttRefusal ? e.code : 'server.internal';
      const message = e instanceof MediagateError || e instanceof MqttRefusal ? e.message : 'the command failed; the details are in the server log';
      if (!(e instanceof MediagateError) && !(e instanceof MqttRefusal)) this.deps.log(`mediagate: mqtt: command ${action} failed: ${sanitizeMessage((e as Error)?.message)}`);
      this.deps.audit.append({ actor: this.actor, action, target: rel, outcome: 'error', requestId, detail: `${code}${detail ? ` ${detail}` : ''}` });
      this.conn.publish(this.topics.error, JSON.stringify({ ...(p.id !== undefined ? { id: p.id } : {}), topic: rel, code, message: sanitizeMessage(message) }), { retain: false, qos: 0 });
      this.conn.flush();
    }
  }

  private async execute(c: MqttCommand): Promise<Record<string, unknown>> {
    switch (c.action) {
      case 'select': {
        const name = this.names.get(c.id);
        if (name === undefined) throw new NoPlayerError(`no player with id '${c.id}' on node ${this.deps.settings.node}`, undefined, 'player.not_found');
        writeLastActive(this.deps.env, name, new Date());
        this.deps.live.changed();
        return { player: name, id: c.id, action: 'select' };
      }
      case 'shuffle':
      case 'repeat':
        throw new NoPlayerError(`${c.action} is not supported over MQTT yet`, 'it comes with shuffle/repeat support in the players', 'player.unsupported');
      default:
        return runCommand(this.deps.controller, c);
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.birthTimer) clearTimeout(this.birthTimer);
    this.deps.live.off('status', this.onStatus);
    this.deps.live.off('volume', this.onStatus);
    await this.queue.catch(() => {});
    this.gate.clear();
    await this.conn.close({ topic: this.topics.availability, payload: 'offline' });
  }
}

/** Start the bridge for `serve`. */
export async function startBridge(deps: BridgeDeps): Promise<MqttBridge> {
  const b = new MqttBridge(deps);
  await b.start();
  return b;
}
