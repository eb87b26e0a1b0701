/**
 * A minimal D-Bus client connection: SASL EXTERNAL authentication, Hello,
 * and method calls matched to their replies. No introspection, no signals,
 * no file descriptors — what one short command needs from the session bus,
 * without loading a full D-Bus library. Time limits are the caller's (it
 * destroys the connection or forgets a call when one runs out).
 */
import { connect, type Socket } from 'node:net';
import { AuthRejectedError, DbusReplyError, WireError } from './errors.js';
import { decodeMessage, encodeCall, frameLength, MAX_MESSAGE_BYTES, MessageType, type MethodCall, type WireMessage } from './message.js';

export type WireTarget =
  | { kind: 'unix'; path: string; abstract: boolean }
  | { kind: 'tcp'; host: string; port: number };

interface Pending { resolve(m: WireMessage): void; reject(e: Error): void }

const MAX_AUTH_LINE = 4096;

export interface WireOptions {
  /** The uid to authenticate as (default: this process's). */
  uid?: number | undefined;
  /** Largest message accepted (default and ceiling: the spec's 128 MiB). */
  maxMessageBytes?: number | undefined;
}

export class WireConnection {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closedWith: Error | undefined;
  private readonly closeListeners = new Set<(e: Error) => void>();
  /** The unique name the bus gave us (once Hello was answered). */
  uniqueName: string | undefined;

  private constructor(private readonly socket: Socket, private readonly maxBytes: number) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('the bus closed the connection')));
  }

  /**
   * Connect and authenticate; resolves once the bus said OK (Hello is sent
   * then and calls may follow at once). Rejects with the socket's error
   * (code ENOENT, ECONNREFUSED…), AuthRejectedError, or WireError.
   */
  static open(target: WireTarget, opts: WireOptions = {}): { ready: Promise<WireConnection>; destroy(): void } {
    const socket = target.kind === 'tcp'
      ? connect({ host: target.host, port: target.port })
      : connect({ path: (target.abstract ? '\0' : '') + target.path });
    const uid = opts.uid ?? process.getuid?.();
    const maxBytes = Math.min(opts.maxMessageBytes ?? MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES);
    const ready = new Promise<WireConnection>((resolve, reject) => {
      let line = '';
      const done = (e?: Error): void => {
        socket.removeListener('data', onData);
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
        if (e) { socket.destroy(); reject(e); }
      };
      const onError = (e: Error): void => done(e);
      const onClose = (): void => done(new Error('the bus closed the connection during authentication'));
      const onData = (d: Buffer): void => {
        line += d.toString('latin1');
        const end = line.indexOf('\r\n');
        if (end < 0) {
          if (line.length > MAX_AUTH_LINE) done(new WireError('the bus sent an overlong authentication line'));
          return;
        }
        const reply = line.slice(0, end);
        const rest = line.slice(end + 2);
        if (reply.startsWith('OK ')) {
          done();
          const conn = new WireConnection(socket, maxBytes);
          socket.write('BEGIN\r\n');
          conn.hello();
          if (rest) conn.onData(Buffer.from(rest, 'latin1'));
          resolve(conn);
        } else if (reply.startsWith('REJECTED') || reply.startsWith('ERROR')) {
          done(new AuthRejectedError(`the bus refused EXTERNAL authentication (${reply.slice(0, 200)})`));
        } else {
          done(new WireError(`unexpected authentication reply "${reply.slice(0, 80)}"`));
        }
      };
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', onClose);
      if (uid === undefined) { done(new AuthRejectedError('no uid to authenticate with EXTERNAL')); return; }
      socket.write(`\0AUTH EXTERNAL ${Buffer.from(String(uid)).toString('hex')}\r\n`);
    });
    return { ready, destroy: () => socket.destroy() };
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Called once when the connection ends (with why); returns a function that removes the listener. */
  onClose(fn: (e: Error) => void): () => void {
    this.closeListeners.add(fn);
    return () => this.closeListeners.delete(fn);
  }

  private hello(): void {
    this.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'Hello' })
      .then((m) => { this.uniqueName = typeof m.body[0] === 'string' ? m.body[0] : undefined; },
        (e: Error) => this.fail(new Error(`the bus refused Hello: ${e.message}`)));
  }

  /** The serial the next call will get (so a caller can forget() it on a timeout). */
  nextSerial(): number {
    return this.serial + 1;
  }

  /**
   * One method call; its reply, or a DbusReplyError for an ERROR reply.
   * Throws WireError at once (nothing sent) when the body does not fit the signature.
   */
  call(call: MethodCall): Promise<WireMessage> {
    const serial = this.serial + 1;
    const bytes = encodeCall(call, serial);
    this.serial = serial;
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      this.pending.set(serial, { resolve, reject });
      this.socket.write(bytes);
    });
  }

  /** Drop a call's reply handler: a late answer is ignored. */
  forget(serial: number): void {
    this.pending.delete(serial);
  }

  private onData(d: Buffer): void {
    if (this.closedWith) return;
    this.chunks.push(d);
    this.buffered += d.length;
    try {
      for (;;) {
        // The fixed header is usually all in the first chunk: no copying until the whole message is here.
        const head = this.chunks[0]!.length >= 16 ? this.chunks[0]! : this.flatten();
        const total = frameLength(head, this.maxBytes);
        if (total === undefined || this.buffered < total) return;
        const all = this.flatten();
        const msg = decodeMessage(all.subarray(0, total));
        const rest = all.subarray(total);
        this.chunks = rest.length ? [rest] : [];
        this.buffered = rest.length;
        this.dispatch(msg);
        if (this.buffered === 0) return;
      }
    } catch (e) {
      this.fail(e instanceof Error ? e : new WireError(String(e)));
      this.socket.destroy();
    }
  }

  private flatten(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private dispatch(msg: WireMessage): void {
    if (msg.type !== MessageType.methodReturn && msg.type !== MessageType.error) return; // signals, calls to us: not ours to handle
    const p = this.pending.get(msg.replySerial!);
    if (!p) return;
    this.pending.delete(msg.replySerial!);
    if (msg.type === MessageType.error) p.reject(new DbusReplyError(msg.errorName!, typeof msg.body[0] === 'string' ? msg.body[0] : ''));
    else p.resolve(msg);
  }

  private fail(e: Error): void {
    if (this.closedWith) return;
    this.closedWith = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const fn of this.closeListeners) { try { fn(e); } catch { /* a listener's bug */ } }
    this.closeListeners.clear();
  }

  close(): void {
    this.fail(new Error('the connection was closed'));
    this.socket.destroy();
  }
}
