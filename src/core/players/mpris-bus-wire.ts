/** The session bus over the small wire client (src/core/dbus-wire/): for one-shot commands. */
import { WireConnection } from '../dbus-wire/connection.js';
import { AuthRejectedError } from '../dbus-wire/errors.js';
import { Variant } from '../dbus-wire/codec.js';
import { NO_AUTO_START } from '../dbus-wire/message.js';
import { busLost, busTarget, handshake, MprisBus, type CallSpec, type SentCall } from './mpris-bus.js';

export class WireBus extends MprisBus {
  private constructor(private readonly conn: WireConnection, timeoutMs: number) {
    super(timeoutMs);
    conn.onClose((e) => this.die(busLost(e)));
  }

  /** The connection, or undefined when the bus refuses EXTERNAL authentication (the caller then uses dbus-next). */
  static async open(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<WireBus | undefined> {
    const { target, where } = busTarget(env);
    const { ready, destroy } = WireConnection.open(target);
    const authed = ready.catch((e: unknown) => {
      if (e instanceof AuthRejectedError) return undefined;
      throw e;
    });
    const conn = await handshake(authed, timeoutMs, where, destroy);
    return conn && new WireBus(conn, timeoutMs);
  }

  protected send(spec: CallSpec): SentCall {
    const serial = this.conn.nextSerial();
    const reply = this.conn.call({ ...spec, flags: NO_AUTO_START });
    return { reply, forget: () => this.conn.forget(serial) };
  }

  variant(signature: string, value: unknown): unknown {
    return new Variant(signature, value);
  }

  protected shutdown(): void {
    this.conn.close();
  }
}
