import { createConnection, type Socket } from 'node:net';
import { PulseRefusedError, PulseTransportError } from './errors.js';
import { encodeFrame, FrameDecoder } from './frame.js';
import { Command, commandName, MIN_SERVER_VERSION, PROTOCOL_VERSION, VERSION_MASK } from './protocol.js';
import { MalformedPacket, TagReader, TagWriter } from './tagstruct.js';

type Pending = { command: number; resolve: (r: TagReader) => void; reject: (e: Error) => void };

/** A subscription event: what it is about (facility), what happened (type), and the object's index. */
export interface PulseEvent { facility: number; type: number; index: number }

/**
 * One connection to a PulseAudio (or pipewire-pulse) server over its unix
 * socket: requests with tags matched to their replies, subscription events
 * passed to `onEvent`. Knows nothing of time limits: the caller races each
 * call against one and destroys the connection when it runs out. The first
 * failure (socket error, close, malformed packet) fails every pending and
 * later request with the same error. The socket keeps the process alive
 * only while a request is waiting for its reply.
 */
export class PulseConnection {
  /** The protocol version both sides speak (set by the handshake). */
  version = 0;
  onEvent: ((e: PulseEvent) => void) | undefined;
  /** Called once when the connection fails or closes (not after close()). */
  onClose: ((error: Error) => void) | undefined;

  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextTag = 0;
  private failure: Error | undefined;
  private closing = false;
  private lastSent = 'connect';

  constructor(readonly path: string) {
    this.socket = createConnection({ path });
    this.socket.unref();
    this.socket.on('data', (chunk) => this.receive(chunk));
    this.socket.on('error', (e: NodeJS.ErrnoException) => this.fail(this.socketError(e)));
    this.socket.on('close', () => this.fail(this.closedByServer()));
  }

  /**
   * AUTH with the cookie (agreeing on the protocol version), then
   * SET_CLIENT_NAME, whose reply pipewire-pulse requires before anything
   * else. Both go out at once (servers answer a connection's commands in
   * order; its body does not depend on the version agreed): one round trip
   * instead of two. A refused AUTH is the error reported.
   */
  async handshake(cookie: Buffer, props: Record<string, string>): Promise<void> {
    const authReply = this.request(Command.AUTH, (w) => w.u32(PROTOCOL_VERSION).arbitrary(cookie));
    const named = this.request(Command.SET_CLIENT_NAME, (w) => w.proplist(props));
    named.catch(() => { /* fails with, or after, AUTH: reported there */ });
    const auth = await authReply;
    const server = auth.u32() & VERSION_MASK;
    if (server < MIN_SERVER_VERSION) {
      throw this.fail(new PulseTransportError('protocol', `PulseAudio at ${this.path} speaks protocol version ${server}; mediagate needs ${MIN_SERVER_VERSION} or newer`));
    }
    this.version = Math.min(PROTOCOL_VERSION, server);
    await named;
  }

  /** Send one command; resolves with a reader positioned after the reply's header. */
  request(command: number, body?: (w: TagWriter) => void): Promise<TagReader> {
    if (this.failure) return Promise.reject(this.failure);
    const tag = this.nextTag++;
    const w = new TagWriter().u32(command).u32(tag);
    body?.(w);
    this.lastSent = commandName(command);
    return new Promise<TagReader>((resolve, reject) => {
      this.pending.set(tag, { command, resolve, reject });
      this.socket.ref();
      this.socket.write(encodeFrame(w.toBuffer()));
    });
  }

  /** Close on purpose: pending requests fail as closed, onClose is not called. */
  close(): void {
    this.closing = true;
    this.fail(new PulseTransportError('closed', `connection to PulseAudio at ${this.path} closed`));
  }

  get closed(): boolean { return this.failure !== undefined; }

  private receive(chunk: Buffer): void {
    try {
      for (const packet of this.decoder.push(chunk)) this.dispatch(new TagReader(packet));
    } catch (e) {
      if (!(e instanceof MalformedPacket)) throw e;
      this.fail(new PulseTransportError('protocol', `PulseAudio at ${this.path} sent a malformed packet during ${this.phase} (${e.message})`, 'is this a PulseAudio native-protocol socket?'));
    }
  }

  private dispatch(r: TagReader): void {
    const command = r.u32();
    const tag = r.u32();
    if (command === Command.SUBSCRIBE_EVENT) {
      const event = r.u32();
      const index = r.u32();
      this.onEvent?.({ facility: event & 0x0f, type: event & 0x30, index });
      return;
    }
    if (command !== Command.REPLY && command !== Command.ERROR) return; // other server notices concern streams we do not have
    const p = this.pending.get(tag);
    if (!p) throw new MalformedPacket(`a reply to tag ${tag}, which was never sent`);
    this.pending.delete(tag);
    if (this.pending.size === 0) this.socket.unref();
    if (command === Command.REPLY) p.resolve(r);
    else p.reject(new PulseRefusedError(p.command, r.u32(), this.path));
  }

  /** What the exchange was at: the oldest request still unanswered (several can be out at once), else the last one sent. */
  private get phase(): string {
    for (const p of this.pending.values()) return commandName(p.command);
    return this.lastSent;
  }

  private closedByServer(): Error {
    return new PulseTransportError('closed', `PulseAudio at ${this.path} closed the connection during ${this.phase}`);
  }

  private socketError(e: NodeJS.ErrnoException): Error {
    if (e.code === 'ENOENT') return new PulseTransportError('no_server', `no PulseAudio server at ${this.path} (no such socket)`, 'is PulseAudio or pipewire-pulse running for this user? (XDG_RUNTIME_DIR, PULSE_SERVER)');
    if (e.code === 'ECONNREFUSED') return new PulseTransportError('no_server', `no PulseAudio server at ${this.path} (connection refused)`, 'the socket is left over from a server that is no longer running');
    if (e.code === 'EACCES') return new PulseTransportError('no_server', `no access to the PulseAudio socket ${this.path}`, 'run mediagate as the sound server\'s user');
    // writing a pipelined request to a server that has just closed
    if (e.code === 'EPIPE' || e.code === 'ECONNRESET') return this.closedByServer();
    return new PulseTransportError('closed', `PulseAudio at ${this.path}: ${e.code ?? e.message} during ${this.phase}`);
  }

  /** Record the first failure, fail everything waiting, drop the socket. Returns the error in force. */
  private fail(error: Error): Error {
    if (this.failure) return this.failure;
    this.failure = error;
    this.socket.destroy();
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    if (!this.closing) this.onClose?.(error);
    return error;
  }

  /** Tear down after a time limit ran out (pending requests get the caller's error, not ours). */
  destroy(reason: Error): void {
    this.fail(reason);
  }
}
