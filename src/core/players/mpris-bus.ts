/**
 * One connection to the session bus for the MPRIS backend, over either of
 * two clients: the small wire client (src/core/dbus-wire/) for one-shot
 * commands — it loads in a fraction of dbus-next's time — or dbus-next for
 * whatever watches signals (`--follow`, serve). Both give the same replies
 * (body as dbus-next decodes it, sender) under the same time limit and
 * error mapping; every call is sent with NO_AUTO_START (a player that is
 * not running is not started by asking it).
 */
import { ExitCode, MediagateError, NoPlayerError, UsageError } from '../errors.js';
import { withTimeout } from '../timeout.js';
import { parseBusAddress, sessionBusAddress, type BusTarget } from './dbus-address.js';

export const DBUS_NAME = 'org.freedesktop.DBus';
export const DBUS_PATH = '/org/freedesktop/DBus';

export interface CallSpec {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: unknown[];
}

export interface BusReply {
  body: unknown[];
  sender?: string | null | undefined;
}

/** Turns a failed call into the error a user should see. */
export type ErrorMapper = (e: unknown) => MediagateError;

/** One call on its way: its reply, and how to forget it when its time runs out. */
export interface SentCall {
  reply: Promise<BusReply>;
  forget(): void;
}

export function busLost(cause?: unknown): NoPlayerError {
  const detail = cause instanceof Error && cause.message ? ` (${cause.message})` : '';
  return new NoPlayerError(`lost the connection to the D-Bus session bus${detail}`,
    'the session bus went away (logout or restart?); try again', 'mpris.bus_lost');
}

interface DbusErrorLike { type: string; text: string }
/** An ERROR reply (dbus-next's DBusError, or the wire client's DbusReplyError: same shape). */
export function isDbusError(e: unknown): e is DbusErrorLike {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'DBusError'
    && typeof (e as { type?: unknown }).type === 'string';
}

/** What both clients share: death, the time limit, error mapping. */
export abstract class MprisBus {
  private readonly pending = new Set<(e: Error) => void>();
  private deadWith: MediagateError | undefined;
  private readonly deathListeners = new Set<() => void>();

  protected constructor(readonly timeoutMs: number) {}

  /** Send one call (with NO_AUTO_START). Throws for a body that does not fit its signature. */
  protected abstract send(spec: CallSpec): SentCall;
  /** A Variant value for a call body (Properties.Set). */
  abstract variant(signature: string, value: unknown): unknown;
  protected abstract shutdown(): void;

  get alive(): boolean {
    return this.deadWith === undefined;
  }

  onDeath(fn: () => void): () => void {
    this.deathListeners.add(fn);
    return () => this.deathListeners.delete(fn);
  }

  protected die(err: MediagateError): void {
    if (this.deadWith) return;
    this.deadWith = err;
    for (const reject of this.pending) reject(err);
    this.pending.clear();
    for (const fn of this.deathListeners) { try { fn(); } catch { /* ignore */ } }
    this.deathListeners.clear();
  }

  /** One method call with the time limit; failures go through `mapError`. */
  async call(spec: CallSpec, what: string, mapError: ErrorMapper): Promise<BusReply> {
    if (this.deadWith) throw this.deadWith;
    let sent: SentCall;
    try {
      sent = this.send(spec);
    } catch (e) {
      throw new UsageError(`cannot call ${spec.member} on '${spec.destination}': ${(e as Error).message}`);
    }
    let rejectDead!: (e: Error) => void;
    const dead = new Promise<never>((_, reject) => { rejectDead = reject; });
    this.pending.add(rejectDead);
    const reply = Promise.race([sent.reply, dead]).finally(() => this.pending.delete(rejectDead));
    try {
      const answer = await withTimeout(reply, this.timeoutMs, what, () => sent.forget());
      if (!answer) throw new Error(`no reply to ${spec.member}`);
      return answer;
    } catch (e) {
      if (e instanceof MediagateError) throw e;
      throw mapError(e);
    }
  }

  /** A call to the bus daemon itself. */
  callDaemon(member: string, signature = '', body: unknown[] = []): Promise<BusReply> {
    return this.call({ destination: DBUS_NAME, path: DBUS_PATH, interface: DBUS_NAME, member, signature, body },
      `the D-Bus session bus (${member})`, (e) => daemonError(member, e));
  }

  close(): void {
    this.die(new MediagateError('mpris.closed', 'the MPRIS source was closed', ExitCode.failure));
    this.shutdown();
  }
}

function daemonError(member: string, e: unknown): MediagateError {
  if (isDbusError(e)) {
    return new MediagateError('mpris.bus_error', `the D-Bus session bus refused ${member}: ${e.text || e.type}`,
      ExitCode.noPlayer, 'check that the session bus is healthy');
  }
  return busLost(e);
}

/** Where the session bus is, as both clients connect to it; `where` names it in messages. */
export function busTarget(env: NodeJS.ProcessEnv): { address: string; target: BusTarget; where: string } {
  const address = sessionBusAddress(env);
  const target = parseBusAddress(address);
  const where = target.kind === 'tcp' ? `${target.host}:${target.port}` : target.path;
  return { address, target, where };
}

/**
 * Wait for a handshake under the time limit; a failure becomes the error
 * a user should see (no bus there, nothing listening, refused).
 */
export async function handshake<T>(ready: Promise<T>, timeoutMs: number, where: string, abort: () => void): Promise<T> {
  try {
    return await withTimeout(ready, timeoutMs, `the D-Bus session bus at ${where}`, abort);
  } catch (e) {
    abort();
    if (e instanceof MediagateError) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTSOCK') {
      throw new NoPlayerError(
        `no D-Bus session bus at ${where} (${code === 'ENOENT' ? 'no such socket' : 'nothing listening'})`,
        'DBUS_SESSION_BUS_ADDRESS points to a bus that is gone; from cron or ssh set ' +
        'DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$(id -u)/bus of the running desktop session',
        'mpris.no_bus');
    }
    throw new NoPlayerError(`cannot connect to the D-Bus session bus at ${where}: ${(e as Error)?.message ?? e}`,
      'check DBUS_SESSION_BUS_ADDRESS and that the bus belongs to this user', 'mpris.bus_error');
  }
}

/**
 * Open a connection: the wire client when `oneShot` (falling back to
 * dbus-next when the bus refuses EXTERNAL authentication), else dbus-next.
 */
export async function openBus(env: NodeJS.ProcessEnv, timeoutMs: number, oneShot: boolean): Promise<MprisBus> {
  if (oneShot) {
    const { WireBus } = await import('./mpris-bus-wire.js');
    const wire = await WireBus.open(env, timeoutMs);
    if (wire) return wire;
  }
  const { DbusNextBus } = await import('./mpris-bus-dbus-next.js');
  return DbusNextBus.open(env, timeoutMs);
}
