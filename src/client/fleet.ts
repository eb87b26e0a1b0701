/**
 * The broker side of `mediagate nodes` and `--node NAME|all`: one MQTT
 * connection from the same `mqtt.*` config as the bridge, reading the nodes'
 * retained topics and sending commands to a node's `…/set` topics, with an
 * "id" the node's bridge answers on `<node>/result` or `<node>/error`.
 *
 *   broker unreachable, TLS not accepted   exit 6 (UnreachableError)
 *   broker refuses the login, a publish or a subscription (ACL)   exit 4
 *   (a refused publish is seen with MQTT 5, the default: 3.1.1 brokers drop it silently)
 *   no such node, or no such player there   exit 3
 *
 * Reading retained messages: after subscribing, a second subscription (to a
 * topic nobody publishes) is answered only after the broker has queued the
 * retained messages of the first, so its SUBACK marks the end of them — no
 * waiting for "quiet".
 */
import { nodeCrypto } from '../core/lazy-builtins.js';
import type { Config } from '../core/config/store.js';
import { MediagateError, NoPlayerError, UnreachableError } from '../core/errors.js';
import { brokerDenied, brokerError } from '../core/mqtt/errors.js';
import { loadMqtt, type MqttClient } from '../core/mqtt/load.js';
import { brokerSettings, connectOptions, type BrokerSettings } from '../core/mqtt/settings.js';
import { NodeTopics } from '../core/mqtt/topics.js';
import { exitCodeFor } from './errors.js';

export interface NodeInfo {
  node: string;
  online: boolean;
  /** The node's `state` (see src/server/mqtt/payloads.ts), null when it never sent one. */
  state: Record<string, unknown> | null;
}

type Msg = { topic: string; payload: Buffer };

const CONNECT_TIMEOUT_MS = 5000;

export class Fleet {
  private readonly listeners = new Set<(m: Msg) => void>();
  private seq = 0;

  private constructor(private readonly client: MqttClient, readonly settings: BrokerSettings, private readonly timeoutMs: number, private readonly clientId: string) {
    client.on('message', (topic, payload) => { for (const l of [...this.listeners]) l({ topic, payload }); });
  }

  static async open(config: Config, env: NodeJS.ProcessEnv): Promise<Fleet> {
    const settings = await brokerSettings(config, env);
    const mqtt = await loadMqtt();
    const clientId = `mediagate-cli-${nodeCrypto().randomBytes(6).toString('hex')}`;
    const timeoutMs = config.get<number>('remote.timeoutMs') ?? 10000;
    let client: MqttClient;
    try {
      client = await mqtt.connectAsync(settings.url, connectOptions(settings, { clientId, connectTimeoutMs: Math.min(CONNECT_TIMEOUT_MS, timeoutMs) }), false);
    } catch (e) {
      throw brokerError(e, settings.url);
    }
    client.on('error', () => { /* reported through the operation that fails */ });
    return new Fleet(client, settings, timeoutMs, clientId);
  }

  topics(node: string): NodeTopics {
    return new NodeTopics(this.settings.baseTopic, node);
  }

  private subscribe(filters: string[], qos: 0 | 1 = 0): Promise<void> {
    return this.client.subscribeAsync(filters, { qos }).then((granted) => {
      if (granted.some((g) => (g.qos & 0x80) !== 0)) throw brokerDenied(`read ${filters.join(', ')}`, this.settings.url);
    }, (e: unknown) => {
      if (e instanceof MediagateError) throw e;
      if (/subscribe error/i.test(String((e as Error)?.message))) throw brokerDenied(`read ${filters.join(', ')}`, this.settings.url);
      throw brokerError(e, this.settings.url);
    });
  }

  /** Every retained message on `filters`, complete (see the barrier above). */
  async retained(filters: string[]): Promise<Msg[]> {
    const got: Msg[] = [];
    const on = (m: Msg) => { if (filters.some((f) => matches(f, m.topic))) got.push(m); };
    this.listeners.add(on);
    try {
      await this.subscribe(filters);
      await this.client.subscribeAsync(`${this.settings.baseTopic}/_sync/${this.clientId}/${this.seq++}`, { qos: 0 }).catch(() => {});
      return got;
    } finally {
      this.listeners.delete(on);
      await this.client.unsubscribeAsync(filters).catch(() => {});
    }
  }

  /** The nodes the broker knows (retained availability), each with its retained state. */
  async nodes(): Promise<NodeInfo[]> {
    const base = this.settings.baseTopic;
    const msgs = await this.retained([`${base}/+/availability`, `${base}/+/state`]);
    return nodesFrom(base, msgs);
  }

  /** Every change of the nodes (availability, state), as the whole list, until `stop` resolves. */
  async follow(onNodes: (nodes: NodeInfo[]) => void, stop: Promise<void>): Promise<void> {
    const base = this.settings.baseTopic;
    const filters = [`${base}/+/availability`, `${base}/+/state`];
    const latest = new Map<string, Msg>();
    let primed = false;
    const on = (m: Msg) => {
      if (!filters.some((f) => matches(f, m.topic))) return;
      if (m.payload.length === 0) latest.delete(m.topic); else latest.set(m.topic, m);
      if (primed) onNodes(nodesFrom(base, [...latest.values()]));
    };
    this.listeners.add(on);
    try {
      await this.subscribe(filters);
      await this.client.subscribeAsync(`${base}/_sync/${this.clientId}/${this.seq++}`, { qos: 0 }).catch(() => {});
      primed = true;
      onNodes(nodesFrom(base, [...latest.values()]));
      await Promise.race([stop, new Promise<void>((_, reject) => this.client.once('close', () => reject(new UnreachableError(`lost the connection to the MQTT broker ${this.settings.url}`, undefined, 'mqtt.unreachable'))))]);
    } finally {
      this.listeners.delete(on);
    }
  }

  /** Changes of one retained topic (the payload, or null when cleared), until `stop` resolves. */
  async followTopic(topic: string, onPayload: (p: Buffer | null) => void, stop: Promise<void>): Promise<void> {
    const on = (m: Msg) => { if (m.topic === topic) onPayload(m.payload.length ? m.payload : null); };
    this.listeners.add(on);
    try {
      await this.subscribe([topic]);
      await Promise.race([stop, new Promise<void>((_, reject) => this.client.once('close', () => reject(new UnreachableError(`lost the connection to the MQTT broker ${this.settings.url}`, undefined, 'mqtt.unreachable'))))]);
    } finally {
      this.listeners.delete(on);
    }
  }

  /**
   * Send `body` (+ a fresh id) to `topic` of `node` and wait for the node's
   * answer: its `data`, or the refusal as the MediagateError the command
   * would have raised locally (same code, same exit code).
   */
  async command(node: string, topic: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const t = this.topics(node);
    const id = `${this.clientId.slice(-12)}-${this.seq++}`;
    let done!: (v: Record<string, unknown>) => void;
    let fail!: (e: unknown) => void;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => { done = resolve; fail = reject; });
    const on = (m: Msg) => {
      if (m.topic !== t.result && m.topic !== t.error) return;
      let j: Record<string, unknown>;
      try { j = JSON.parse(m.payload.toString('utf8')) as Record<string, unknown>; } catch { return; }
      if (j?.id !== id) return;
      if (m.topic === t.result) { done((j.data && typeof j.data === 'object' ? j.data : {}) as Record<string, unknown>); return; }
      const code = typeof j.code === 'string' && /^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(j.code) ? j.code : 'server.error';
      const message = typeof j.message === 'string' ? oneLine(j.message) : code;
      fail(new MediagateError(code, `${message} (node ${node})`, exitCodeFor(422, code)));
    };
    this.listeners.add(on);
    const timer = setTimeout(() => fail(new UnreachableError(`node ${node} did not answer within ${this.timeoutMs / 1000} s`,
      'check that its `mediagate serve` is running and connected to the broker (`mediagate nodes`)', 'mqtt.no_answer')), this.timeoutMs);
    try {
      await this.subscribe([t.result, t.error]);
      try {
        await this.client.publishAsync(topic, JSON.stringify({ ...body, id }), { qos: 1, retain: false });
      } catch (e) {
        const rc = (e as { code?: unknown })?.code;
        if (typeof rc === 'number' && rc >= 0x80) throw brokerDenied(`send commands to node ${node}`, this.settings.url);
        throw brokerError(e, this.settings.url);
      }
      return await answer;
    } finally {
      clearTimeout(timer);
      this.listeners.delete(on);
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(false).catch(() => this.client.end(true));
  }
}

function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return s.length > 300 ? `${s.slice(0, 299)}…` : s;
}

/** Does MQTT topic filter `f` (with + and #) match `topic`? */
export function matches(f: string, topic: string): boolean {
  const a = f.split('/');
  const b = topic.split('/');
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= b.length) return false;
    if (a[i] !== '+' && a[i] !== b[i]) return false;
  }
  return a.length === b.length;
}

function nodesFrom(base: string, msgs: Msg[]): NodeInfo[] {
  const byNode = new Map<string, NodeInfo>();
  const get = (node: string) => {
    let n = byNode.get(node);
    if (!n) { n = { node, online: false, state: null }; byNode.set(node, n); }
    return n;
  };
  for (const m of msgs) {
    const rest = m.topic.slice(base.length + 1).split('/');
    if (rest.length !== 2 || m.payload.length === 0) continue;
    const [node, what] = rest as [string, string];
    if (what === 'availability') get(node).online = m.payload.toString('utf8') === 'online';
    else if (what === 'state') {
      try {
        const j = JSON.parse(m.payload.toString('utf8')) as unknown;
        if (j && typeof j === 'object' && !Array.isArray(j)) get(node).state = j as Record<string, unknown>;
      } catch { /* not a mediagate state */ }
    }
  }
  return [...byNode.values()].sort((x, y) => x.node.localeCompare(y.node));
}

/** The node named `name`, online; exit 3 when the broker knows none of that name, exit 6 when it is offline. */
export function pickNode(nodes: NodeInfo[], name: string): NodeInfo {
  const n = nodes.find((x) => x.node === name);
  if (!n) {
    throw new NoPlayerError(`no mediagate node named '${name}' on the broker`,
      nodes.length ? `nodes: ${nodes.map((x) => x.node).join(', ')} (see mediagate nodes)` : 'no node has announced itself: is `mediagate serve` with mqtt.url running anywhere?', 'mqtt.unknown_node');
  }
  if (!n.online) throw new UnreachableError(`node ${name} is offline`, 'its `mediagate serve` is not connected to the broker', 'mqtt.node_offline');
  return n;
}
