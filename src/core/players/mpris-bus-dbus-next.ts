/**
 * The session bus over dbus-next (its low-level message API: one method
 * call per operation, no introspection), for what watches signals. dbus-next
 * is imported lazily: loading it costs ~30–70 ms, which commands that never
 * touch D-Bus must not pay.
 */
import type { Socket } from 'node:net';
import type { Message as DbusMessage, MessageBus } from 'dbus-next';
import { NoPlayerError } from '../errors.js';
import { busLost, busTarget, handshake, MprisBus, type CallSpec, type SentCall } from './mpris-bus.js';

type DbusModule = typeof import('dbus-next');
const NO_AUTO_START = 0x2;

let dbusModule: Promise<DbusModule> | undefined;
function loadDbus(): Promise<DbusModule> {
  dbusModule ??= import('dbus-next').then((m) => ((m as unknown as { default?: DbusModule }).default ?? m));
  return dbusModule;
}

export class DbusNextBus extends MprisBus {
  private constructor(
    readonly dbus: DbusModule,
    /** The dbus-next bus, for watching its 'message' events. */
    readonly bus: MessageBus,
    private readonly stream: Socket,
    timeoutMs: number,
  ) {
    super(timeoutMs);
    bus.on('error', (e: unknown) => this.die(busLost(e)));
    stream.once('close', () => this.die(busLost()));
    if (stream.destroyed) this.die(busLost());
  }

  static async open(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<DbusNextBus> {
    const { address, target, where } = busTarget(env);
    let busAddress: string;
    if (target.kind === 'tcp') {
      busAddress = `tcp:host=${target.host},port=${target.port}`;
    } else {
      if (/[,;=]/.test(target.path)) {
        throw new NoPlayerError(`the D-Bus socket path "${target.path}" contains , ; or =, which is not supported`,
          'point DBUS_SESSION_BUS_ADDRESS at a socket path without those characters', 'mpris.bad_address');
      }
      // Node connects to abstract sockets itself when the path starts with NUL.
      busAddress = `unix:socket=${target.abstract ? '\0' : ''}${target.path}`;
    }
    const dbus = await loadDbus();
    let bus: MessageBus;
    try {
      bus = dbus.sessionBus({ busAddress });
    } catch (e) {
      throw new NoPlayerError(`cannot use the D-Bus address "${address}": ${(e as Error).message}`,
        'check DBUS_SESSION_BUS_ADDRESS', 'mpris.bad_address');
    }
    const stream = (bus as unknown as { _connection: { stream: Socket } })._connection.stream;
    // Until the connection object takes over, swallow late errors (no 'error' listener = crash).
    const ignore = (): void => {};
    bus.on('error', ignore);
    const ready = new Promise<void>((resolve, reject) => {
      bus.once('connect', () => resolve());
      bus.once('error', reject);
      stream.once('close', () => reject(new Error('the bus closed the connection during the handshake')));
    });
    await handshake(ready, timeoutMs, where, () => stream.destroy());
    bus.removeListener('error', ignore);
    return new DbusNextBus(dbus, bus, stream, timeoutMs);
  }

  protected send(spec: CallSpec): SentCall {
    const msg: DbusMessage = new this.dbus.Message({ ...spec, flags: NO_AUTO_START, serial: this.bus.newSerial() } as ConstructorParameters<DbusModule['Message']>[0]);
    return {
      reply: this.bus.call(msg) as Promise<DbusMessage>,
      forget: () => {
        // Forget the reply handler so a late answer is dropped, not leaked.
        const handlers = (this.bus as unknown as { _methodReturnHandlers: Record<number, unknown> })._methodReturnHandlers;
        if (msg.serial !== null) delete handlers[msg.serial];
      },
    };
  }

  variant(signature: string, value: unknown): unknown {
    return new this.dbus.Variant(signature, value);
  }

  protected shutdown(): void {
    try { this.bus.disconnect(); } catch { /* already gone */ }
    this.stream.destroy();
  }
}
