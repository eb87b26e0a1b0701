/**
 * The bridge's connection to the broker: connect (MQTT.js, loaded lazily),
 * the last will, reconnecting with a back-off while the broker is down
 * (1 s doubling to 30 s, ±20 %), and what the status route and serve's log
 * say about it. A failure is logged when it first happens and when it
 * changes — not once per attempt — and never holds the password (messages
 * come from core/mqtt/errors.ts, built from codes).
 *
 * TLS failures are retried like any other, always with verification: the
 * log names the fix (mqtt.ca); nothing ever connects unverified.
 */
import { EventEmitter } from 'node:events';
import type { IPublishPacket } from 'mqtt';
import { brokerError } from '../../core/mqtt/errors.js';
import { loadMqtt, type MqttClient } from '../../core/mqtt/load.js';
import { connectOptions, type BrokerSettings } from '../../core/mqtt/settings.js';

export interface ConnectionStatus {
  connected: boolean;
  /** When the current connection came up, or the last one went down. */
  since: string | null;
  lastError: { code: string; message: string } | null;
  /** Connections made since start (1 = the first one; more = reconnects + 1). */
  connections: number;
  /** Failed attempts since the last connection. */
  failedAttempts: number;
}

export interface ConnectionEvents {
  up: [];
  down: [];
  message: [topic: string, payload: Buffer, packet: IPublishPacket];
}

const MIN_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;

export class BrokerConnection extends EventEmitter<ConnectionEvents> {
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delayMs = MIN_DELAY_MS;
  private closing = false;
  private lastLogged = '';
  private readonly state: ConnectionStatus = { connected: false, since: null, lastError: null, connections: 0, failedAttempts: 0 };

  constructor(
    private readonly settings: BrokerSettings,
    private readonly opts: { clientId: string; will: { topic: string; payload: string }; log: (line: string) => void; minDelayMs?: number },
  ) {
    super();
    this.delayMs = opts.minDelayMs ?? MIN_DELAY_MS;
  }

  get connected(): boolean {
    return this.state.connected;
  }

  status(): ConnectionStatus {
    return { ...this.state, lastError: this.state.lastError ? { ...this.state.lastError } : null };
  }

  /** The broker's packet size limit (MQTT 5 CONNACK), if it told one. */
  maxPacketSize(): number | undefined {
    const p = (this.client as unknown as { _serverProperties?: { maximumPacketSize?: number } } | null)?._serverProperties;
    return p?.maximumPacketSize;
  }

  /** Start connecting; resolves once the first attempt is under way (serve does not wait for the broker). */
  async start(): Promise<void> {
    const mqtt = await loadMqtt();
    if (this.closing) return;
    const client = mqtt.connect(this.settings.url, {
      ...connectOptions(this.settings, { clientId: this.opts.clientId, will: { ...this.opts.will, retain: true, qos: 1 } }),
    });
    this.client = client;
    client.on('connect', () => {
      // State goes out in bursts of small packets: no Nagle wait for the ACK of the one before.
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      this.state.connected = true;
      this.state.connections++;
      this.state.failedAttempts = 0;
      this.state.lastError = null;
      this.state.since = new Date().toISOString();
      this.delayMs = this.opts.minDelayMs ?? MIN_DELAY_MS;
      this.lastLogged = '';
      this.opts.log(`mediagate: mqtt: connected to ${this.settings.url} as node ${this.settings.node}${this.state.connections > 1 ? ' (again)' : ''}`);
      this.emit('up');
    });
    client.on('error', (e) => {
      const err = brokerError(e, this.settings.url);
      this.state.lastError = { code: err.code, message: err.message };
      const line = `mediagate: mqtt: ${err.message}${err.hint ? ` (${err.hint})` : ''}`;
      if (line !== this.lastLogged) { this.lastLogged = line; this.opts.log(`${line}; retrying with back-off`); }
    });
    client.on('close', () => {
      const was = this.state.connected;
      this.state.connected = false;
      if (was) {
        this.state.since = new Date().toISOString();
        this.opts.log(`mediagate: mqtt: connection to ${this.settings.url} lost; reconnecting`);
        this.emit('down');
      } else {
        this.state.failedAttempts++;
      }
      this.retry();
    });
    client.on('message', (topic, payload, packet) => this.emit('message', topic, payload, packet));
  }

  private retry(): void {
    if (this.closing || this.timer) return;
    const jitter = 0.8 + Math.random() * 0.4;
    const wait = Math.round(this.delayMs * jitter);
    this.delayMs = Math.min(this.delayMs * 2, MAX_DELAY_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closing) this.client?.reconnect();
    }, wait);
    this.timer.unref();
  }

  /** Publish when connected (dropped otherwise: the caller keeps what must be sent again). */
  publish(topic: string, payload: string | Buffer, opts: { retain: boolean; qos: 0 | 1 }): void {
    if (!this.client || !this.state.connected) return;
    this.client.publish(topic, payload, opts, () => { /* a failure shows as a lost connection */ });
  }

  /**
   * Subscribe at QoS 1. With MQTT 5 "retain as published": a command sent with
   * the retain flag arrives with it, live or replayed, so it can be refused;
   * MQTT 3.1.1 brokers clear the flag on live delivery and keep it only for
   * a retained message replayed on subscribe — the dangerous one, still refused.
   */
  /**
   * Put what was published out on the socket now. MQTT.js corks the socket
   * per packet and uncorks on the next tick, which waits behind whatever
   * else this turn of the event loop does (a mixer re-read spawning pactl
   * after a player event): the state of a change would reach the broker
   * milliseconds after the WebSocket clients have it.
   */
  flush(): void {
    const stream = this.client?.stream as { writableCorked?: number; uncork?: () => void } | undefined;
    if (!stream?.uncork) return;
    for (let n = stream.writableCorked ?? 0; n > 0; n--) stream.uncork();
  }

  subscribe(filters: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.client) { reject(new Error('not connected')); return; }
      this.client.subscribe(filters, { qos: 1, ...(this.settings.protocolVersion === 5 ? { rap: true } : {}) }, (e) => (e ? reject(e) : resolve()));
    });
  }

  unsubscribe(filters: string[]): void {
    this.client?.unsubscribe(filters, () => {});
  }

  /** Send `last` (availability offline) when connected, then disconnect. Safe to call twice. */
  async close(last?: { topic: string; payload: string }): Promise<void> {
    this.closing = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    const client = this.client;
    if (!client) return;
    if (last && this.state.connected) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        client.publish(last.topic, last.payload, { retain: true, qos: 1 }, () => { clearTimeout(t); resolve(); });
      });
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { client.end(true); resolve(); }, 2000);
      client.end(false, {}, () => { clearTimeout(t); resolve(); });
    });
    this.state.connected = false;
  }
}
