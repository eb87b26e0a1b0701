import { NoPlayerError } from '../../errors.js';
import { PactlMixer } from '../mixers.js';
import type { Mixer, SplitReading, VolumeReading } from '../types.js';
import { pulseAddress } from './address.js';
import { getDefaultSink, setSinkMute, setSinkVolume, type SinkInfo } from './commands.js';
import type { PulseConnection } from './connection.js';
import { PulseTransportError } from './errors.js';
import { beforeDeadline, openPulse } from './session.js';
import { levelOf, scaleKeepingBalance } from './volume-math.js';

interface Options { env: NodeJS.ProcessEnv; timeoutMs: number }

/** An idle connection is closed after this long (a `volume +5` reads and sets on one connection). */
const IDLE_CLOSE_MS = 1000;
/** Below this much time left, pactl is not worth starting. */
const MIN_FALLBACK_MS = 100;

/**
 * PulseAudio (or pipewire-pulse) default sink, spoken to natively over the
 * server's unix socket. pactl takes over when the server is not a unix
 * socket (TCP, a host name) or the socket fails (none, closed, not the
 * protocol), within what is left of the same time limit; a server that
 * answers with a refusal, or does not answer in time, is final. `via` says
 * which was used. Every call, connecting included, is under the backend
 * time limit.
 */
export class PulseMixer implements Mixer {
  readonly backend = 'pulse' as const;
  readonly target = 'system' as const;
  via: 'native' | 'pactl' | undefined;
  private conn: Promise<PulseConnection> | undefined;
  private sink: SinkInfo | undefined;
  private idle: NodeJS.Timeout | undefined;

  constructor(private readonly o: Options) {}

  async get(): Promise<VolumeReading> {
    return this.attempt(async (c) => this.reading(await this.readSink(c)), (p) => p.get());
  }

  async readSplit(): Promise<SplitReading> {
    return this.attempt(async (c) => {
      const r = this.reading(await this.readSink(c));
      return { level: r.level, muted: Promise.resolve(r.muted) };
    }, (p) => p.readSplit());
  }

  /** Every channel, keeping the balance between them (see scaleKeepingBalance). */
  async set(level: number): Promise<void> {
    await this.attempt(async (c) => {
      const sink = this.sink ?? (await this.readSink(c));
      const values = scaleKeepingBalance(sink.volume, level);
      await setSinkVolume(c, sink.index, values);
      this.sink = { ...sink, volume: values };
    }, (p) => p.set(level));
  }

  async setMuted(muted: boolean): Promise<void> {
    await this.attempt(async (c) => {
      const sink = this.sink ?? (await this.readSink(c));
      await setSinkMute(c, sink.index, muted);
      this.sink = { ...sink, muted };
    }, (p) => p.setMuted(muted));
  }

  private reading(sink: SinkInfo): VolumeReading {
    return { level: levelOf(sink.volume), muted: sink.muted };
  }

  private async readSink(c: PulseConnection): Promise<SinkInfo> {
    this.sink = await getDefaultSink(c);
    return this.sink;
  }

  private async attempt<T>(native: (c: PulseConnection) => Promise<T>, fallback: (p: PactlMixer) => Promise<T>): Promise<T> {
    const ms = this.o.timeoutMs;
    const deadline = Date.now() + ms;
    const address = pulseAddress(this.o.env);
    if (this.via === 'pactl' || address.kind === 'other') {
      this.via = 'pactl';
      return fallback(new PactlMixer(this.o));
    }
    clearTimeout(this.idle);
    try {
      this.conn ??= openPulse(address.paths, this.o.env, deadline, ms);
      const c = await this.conn;
      const r = await beforeDeadline(c, deadline, ms, native(c));
      this.via = 'native';
      this.idle = setTimeout(() => this.close(), IDLE_CLOSE_MS);
      this.idle.unref();
      return r;
    } catch (e) {
      this.close();
      if (!(e instanceof PulseTransportError)) throw e;
      const left = deadline - Date.now();
      if (left < MIN_FALLBACK_MS) throw e;
      try {
        const r = await fallback(new PactlMixer({ env: this.o.env, timeoutMs: left }));
        this.via = 'pactl';
        return r;
      } catch (pe) {
        const why = pe instanceof NoPlayerError ? pe.message : String(pe);
        throw new PulseTransportError(e.failure, e.message, [e.hint, `pactl, tried instead: ${why}`].filter(Boolean).join('; '));
      }
    }
  }

  /** Drop the connection (it is opened again on the next call). */
  close(): void {
    clearTimeout(this.idle);
    const c = this.conn;
    this.conn = undefined;
    this.sink = undefined;
    c?.then((x) => x.close(), () => {});
  }
}
