/**
 * A small MPD client over TCP or a unix socket (node:net).
 *
 * Protocol (https://mpd.readthedocs.io/en/latest/protocol.html): the server
 * greets with `OK MPD x.y.z`; each command is one line, arguments in double
 * quotes with `"` and `\` backslash-escaped; an answer is `key: value` lines
 * ending in `OK`, or one `ACK [error@index] {command} message` line.
 *
 * Every call here has a time limit. A call that runs out of time destroys the
 * socket (the protocol state is unknown after that), so a hung server can
 * never hang the caller. The socket is ref'd only while a call is in flight:
 * an idle, forgotten connection does not keep the process alive.
 *
 * Commands are pipelined: lines asked for in one turn of the event loop
 * (many callers at once, a command after the answer it depended on) go out
 * in one write, and their answers are matched in order.
 */
import net from 'node:net';
import { MediagateError, ExitCode, NoPlayerError, UsageError, TimeoutError } from '../errors.js';
import { withTimeout } from '../timeout.js';

/** Where an MPD server listens. `path` starting with NUL is a Linux abstract socket. */
export type MpdEndpoint =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string };

export interface MpdConnectOptions {
  /** Time limit for connecting (greeting + password) and for each command, ms. */
  timeoutMs: number;
  /** Sent with `password` right after the greeting. Never appears in an error. */
  password?: string | undefined;
  /** How to name the server in messages (no password), e.g. `127.0.0.1:6600`. */
  display: string;
  /** Enable TCP keep-alive probes (for long-lived idle connections). */
  keepAlive?: boolean;
}

/** Answer lines as ordered key/value pairs (keys repeat, e.g. `changed` or `Artist`). */
export type MpdPairs = Array<[key: string, value: string]>;

/** MPD's ACK error numbers (src/protocol/Ack.hxx). */
export const Ack = {
  notList: 1,
  arg: 2,
  password: 3,
  permission: 4,
  unknown: 5,
  noExist: 50,
  playlistMax: 51,
  system: 52,
  playlistLoad: 53,
  updateAlready: 54,
  playerSync: 55,
  exist: 56,
} as const;

/** MPD answered a command with `ACK`. Carries MPD's own message. */
export class MpdAckError extends MediagateError {
  /** MPD's error number (see `Ack`). */
  readonly ack: number;
  /** Index of the failing command inside a command list (0 otherwise). */
  readonly listIndex: number;
  /** The command MPD names in the ACK line. */
  readonly command: string;
  /** MPD's message text. */
  readonly mpdMessage: string;

  constructor(ack: number, listIndex: number, command: string, mpdMessage: string, display: string) {
    super('mpd.ack', `MPD at ${display}: ${command ? `${command}: ` : ''}${mpdMessage}`, ExitCode.failure);
    this.ack = ack;
    this.listIndex = listIndex;
    this.command = command;
    this.mpdMessage = mpdMessage;
  }
}

/** Error code of a connection that MPD (or the network) ended after the greeting. */
export const DROPPED = 'player.disconnected';

const ACK_LINE = /^ACK \[(\d+)@(\d+)\] \{([^}]*)\} ?(.*)$/;
const COMMAND_NAME = /^[a-z][a-z_]*$/;
/** One answer line longer than this is not MPD talking. */
const MAX_LINE_BYTES = 1024 * 1024;
/** Nor is an answer larger than this. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
/**
 * Largest binary chunk accepted in one answer (`binary: N`). MPD sends 8 KiB
 * by default (its `binarylimit`); anything far beyond is not MPD talking.
 */
export const MAX_BINARY_CHUNK = 4 * 1024 * 1024;

/** Quote one argument: `"…"` with `"` and `\` escaped. Refuses line breaks and NUL. */
export function quoteArg(value: string | number): string {
  const s = typeof value === 'number' ? formatNumber(value) : value;
  if (/[\r\n\0]/.test(s)) {
    throw new UsageError('an MPD argument cannot contain a line break or NUL character');
  }
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Numbers as MPD reads them: plain decimal, at most 3 decimals, never exponent notation. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new UsageError(`not a finite number: ${n}`);
  const fixed = n.toFixed(3).replace(/\.?0+$/, '');
  return fixed === '-0' ? '0' : fixed;
}

/** `cmd "arg1" "arg2"` — the line sent for one command (without the newline). */
export function formatCommand(command: string, args: ReadonlyArray<string | number> = []): string {
  if (!COMMAND_NAME.test(command)) throw new UsageError(`not an MPD command name: ${JSON.stringify(command)}`);
  return args.length === 0 ? command : `${command} ${args.map(quoteArg).join(' ')}`;
}

/** Split `key: value` lines. Lines without `: ` (e.g. `list_OK`) are kept with an empty value. */
export function parsePairs(lines: readonly string[]): MpdPairs {
  const out: MpdPairs = [];
  for (const line of lines) {
    const i = line.indexOf(': ');
    if (i < 0) out.push([line, '']);
    else out.push([line.slice(0, i), line.slice(i + 2)]);
  }
  return out;
}

/** First value of `key` in pairs, or undefined. */
export function pairValue(pairs: MpdPairs, key: string): string | undefined {
  for (const [k, v] of pairs) if (k === key) return v;
  return undefined;
}

/** Pairs as a record; the first value of each key wins. */
export function pairsToRecord(pairs: MpdPairs): Record<string, string> {
  const rec: Record<string, string> = {};
  for (const [k, v] of pairs) if (!(k in rec)) rec[k] = v;
  return rec;
}

function startHint(display: string): string {
  return `start mpd, or set MPD_HOST/MPD_PORT or \`mediagate config set mpd.host …\` to where it listens (now ${display})`;
}

const PASSWORD_HINT = 'set the password with MPD_HOST=password@host or `mediagate config set-secret mpd.password`';

/** Turn a socket error into a NoPlayerError that says what to do. */
function connectError(err: NodeJS.ErrnoException, display: string): NoPlayerError {
  const why: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOENT: 'no such socket',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'connection timed out',
    ENOTSOCK: 'not a socket',
    ECONNABORTED: 'connection aborted',
  };
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return new NoPlayerError(`cannot open MPD socket ${display}: permission denied`,
      'check the permissions of the socket, or use TCP (MPD_HOST=127.0.0.1)');
  }
  const reason = (err.code && why[err.code]) ?? err.code ?? err.message;
  return new NoPlayerError(`no MPD at ${display}: ${reason}`, startHint(display));
}

interface Pending {
  lines: string[];
  bytes: number;
  resolve(lines: string[]): void;
  reject(err: Error): void;
  /** The greeting: one line, no `OK` terminator. */
  greeting?: boolean;
  idle?: boolean;
  /** The command, for messages. */
  what: string;
  /** This command may answer with one `binary: N` chunk (albumart, readpicture). */
  binary?: boolean;
  /** The chunk, once read. */
  data?: Buffer;
  /** When it was asked for (performance.now()). */
  at: number;
  /** Its answer is due within the connection's time limit (commands; not the greeting or idle). */
  limited?: boolean;
}

/** An answer with its binary chunk (null when MPD sent none, e.g. readpicture of a file without a picture). */
export interface MpdBinaryAnswer {
  pairs: MpdPairs;
  data: Buffer | null;
}

/**
 * One connection to MPD. Answers come back in the order commands were sent,
 * so several commands may be in flight at once.
 */
export class MpdConnection {
  /** Protocol version from the greeting, e.g. `0.23.5`. */
  serverVersion = '';
  private readonly socket: net.Socket;
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  /** Bytes of a binary chunk still to come (its trailing newline not counted); -1 outside one. */
  private binaryLeft = -1;
  private dead: Error | null = null;
  private readonly closeListeners = new Set<(err: Error) => void>();
  /** Lines waiting for the write at the end of this turn of the event loop. */
  private outgoing: string[] = [];
  /** The one timer that enforces the time limit of every command in flight (see watch). */
  private watchdog: NodeJS.Timeout | null = null;

  private constructor(socket: net.Socket, private readonly opts: MpdConnectOptions) {
    this.socket = socket;
  }

  /** Open a connection, read the greeting and send the password, all within `opts.timeoutMs`. */
  static async open(endpoint: MpdEndpoint, opts: MpdConnectOptions): Promise<MpdConnection> {
    const socket = endpoint.kind === 'tcp'
      ? net.createConnection({ host: endpoint.host, port: endpoint.port })
      : net.createConnection({ path: endpoint.path });
    const conn = new MpdConnection(socket, opts);
    conn.attach();
    const greeting = conn.expect({ greeting: true, what: 'greeting' });
    const ready = (async () => {
      const [line = ''] = await greeting;
      const m = /^OK MPD (\S+)/.exec(line);
      if (!m) {
        throw new NoPlayerError(`${opts.display} is not an MPD server (it greeted with something else)`,
          startHint(opts.display), 'player.protocol');
      }
      conn.serverVersion = m[1]!;
      if (opts.password !== undefined) await conn.sendPassword(opts.password);
      return conn;
    })();
    try {
      return await withTimeout(ready, opts.timeoutMs, `MPD at ${opts.display}`,
        () => conn.destroy(new TimeoutError(`MPD at ${opts.display}`, opts.timeoutMs)));
    } catch (err) {
      conn.destroy(err as Error);
      throw err;
    }
  }

  /** True once the socket is closed or destroyed. */
  get closed(): boolean {
    return this.dead !== null;
  }

  /** When the oldest answer still awaited was asked for (performance.now()); undefined when none is awaited. */
  get waitingSince(): number | undefined {
    return this.pending[0]?.at;
  }

  /** Called once when the connection ends (for any reason). Returns an unsubscribe function. */
  onClose(listener: (err: Error) => void): () => void {
    if (this.dead) { queueMicrotask(() => listener(this.dead!)); return () => {}; }
    this.closeListeners.add(listener);
    return () => { this.closeListeners.delete(listener); };
  }

  /** Send one command; resolves with its answer pairs, rejects with MpdAckError or TimeoutError. */
  command(command: string, ...args: Array<string | number>): Promise<MpdPairs> {
    return this.call(formatCommand(command, args), command).then(parsePairs);
  }

  /**
   * Send one command whose answer may carry a binary chunk (`albumart`,
   * `readpicture`: `key: value` lines, `binary: N`, N raw bytes, a newline,
   * `OK`). Same time limit as any command; the chunk is at most
   * MAX_BINARY_CHUNK bytes (larger: protocol error, the connection is dropped).
   */
  commandBinary(command: string, ...args: Array<string | number>): Promise<MpdBinaryAnswer> {
    let line: string;
    try { line = formatCommand(command, args); } catch (e) { return Promise.reject(e); }
    let pending: Pending | undefined;
    return this.call(line, command, { binary: true }, (p) => { pending = p; })
      .then((lines) => ({ pairs: parsePairs(lines), data: pending?.data ?? null }));
  }

  /**
   * Send several commands as one `command_list_ok_begin … command_list_end`
   * (one round trip, executed atomically by MPD). Resolves with one answer per command.
   */
  async commandList(commands: ReadonlyArray<readonly [string, ...Array<string | number>]>): Promise<MpdPairs[]> {
    if (commands.length === 0) return [];
    const lines = commands.map(([c, ...a]) => formatCommand(c, a));
    const text = ['command_list_ok_begin', ...lines, 'command_list_end'].join('\n');
    const answer = await this.call(text, commands.map((c) => c[0]).join('+'));
    const out: MpdPairs[] = [];
    let cur: string[] = [];
    for (const line of answer) {
      if (line === 'list_OK') { out.push(parsePairs(cur)); cur = []; } else cur.push(line);
    }
    if (out.length !== commands.length) {
      this.destroy(new NoPlayerError(`MPD at ${this.opts.display} answered a command list out of step`, undefined, 'player.protocol'));
      throw this.dead!;
    }
    return out;
  }

  /**
   * Wait for a change in one of `subsystems` (`idle player mixer …`). No time
   * limit: it resolves when MPD reports a change (with the changed subsystems),
   * when `noidle()` is called (possibly with an empty list), and rejects when
   * the connection ends.
   */
  idle(subsystems: readonly string[] = []): Promise<string[]> {
    if (this.dead) return Promise.reject(this.dead);
    let line: string;
    try { line = formatCommand('idle', subsystems); } catch (e) { return Promise.reject(e); }
    const p = this.expect({ idle: true, what: 'idle' });
    this.write(line);
    return p.then((lines) => parsePairs(lines).filter(([k]) => k === 'changed').map(([, v]) => v));
  }

  /** Cancel an outstanding `idle` (MPD then answers it). No-op when not idling. */
  noidle(): void {
    if (!this.dead && this.pending.some((p) => p.idle)) this.write('noidle');
  }

  /** Close politely (best effort) and release the socket. Safe to call twice. */
  close(): void {
    if (this.dead) return;
    this.destroy(new NoPlayerError(`connection to MPD at ${this.opts.display} closed`, undefined, 'player.closed'));
  }

  /** Tear the connection down now; every call in flight rejects with `err`. */
  destroy(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    if (this.watchdog) { clearTimeout(this.watchdog); this.watchdog = null; }
    this.socket.destroy();
    this.failAll(err);
    for (const l of this.closeListeners) { try { l(err); } catch { /* listener bug is not ours */ } }
    this.closeListeners.clear();
  }

  // --- internals -------------------------------------------------------------

  private attach(): void {
    const s = this.socket;
    s.setNoDelay(true);
    if (this.opts.keepAlive) s.setKeepAlive(true, 30_000);
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (err: NodeJS.ErrnoException) => {
      const greeting = this.pending[0]?.greeting === true;
      this.destroy(greeting ? connectError(err, this.opts.display)
        : new NoPlayerError(`connection to MPD at ${this.opts.display} failed: ${err.code ?? err.message}`, startHint(this.opts.display), DROPPED));
    });
    s.on('close', () => {
      const greeting = this.pending[0]?.greeting === true;
      this.destroy(greeting
        ? new NoPlayerError(`MPD at ${this.opts.display} closed the connection before greeting`, startHint(this.opts.display))
        : new NoPlayerError(`MPD at ${this.opts.display} closed the connection`, startHint(this.opts.display), DROPPED));
    });
  }

  private async sendPassword(password: string): Promise<void> {
    let line: string;
    try { line = formatCommand('password', [password]); } catch {
      // Never echo the password, not even in a quoting error.
      throw new NoPlayerError(`the MPD password for ${this.opts.display} contains a line break or NUL`, PASSWORD_HINT, 'player.auth');
    }
    try {
      await this.call(line, 'password');
    } catch (err) {
      if (err instanceof MpdAckError && err.ack === Ack.password) {
        throw new NoPlayerError(`MPD at ${this.opts.display} rejected the password`, PASSWORD_HINT, 'player.auth');
      }
      throw err;
    }
  }

  /** Write `text` and wait for its answer within the time limit. */
  private call(text: string, what: string, extra: { binary?: boolean } = {}, seen?: (p: Pending) => void): Promise<string[]> {
    if (this.dead) return Promise.reject(this.dead);
    const p = this.expect({ what, limited: true, ...extra }, seen);
    this.write(text);
    if (!this.watchdog) this.watch(this.opts.timeoutMs);
    return p;
  }

  /**
   * Answers come in the order commands were sent, so the oldest command in
   * flight is always the first to run out of time: one timer, armed for its
   * deadline, serves them all (a timer and three promises per command did
   * not). When it runs out, the connection is torn down: that command and
   * every one behind it reject with its TimeoutError, as they would have.
   */
  private watch(ms: number): void {
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      if (this.dead) return;
      const oldest = this.pending.find((q) => q.limited);
      if (!oldest) return;
      const left = oldest.at + this.opts.timeoutMs - performance.now();
      if (left > 0) { this.watch(left); return; }
      this.destroy(new TimeoutError(`MPD at ${this.opts.display} (${oldest.what})`, this.opts.timeoutMs));
    }, Math.max(1, Math.ceil(ms)));
    this.watchdog.unref();
  }

  private expect(fields: { greeting?: boolean; idle?: boolean; binary?: boolean; limited?: boolean; what: string }, seen?: (p: Pending) => void): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      const p: Pending = { ...fields, lines: [], bytes: 0, resolve, reject, at: performance.now() };
      if (this.pending.push(p) === 1 && !this.dead) this.socket.ref();
      seen?.(p);
    });
  }

  /** Queue `line`; everything queued in this turn of the event loop is written at once, in order. */
  private write(line: string): void {
    if (this.outgoing.push(line) === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const lines = this.outgoing;
    this.outgoing = [];
    if (!this.dead && lines.length > 0) this.socket.write(`${lines.join('\n')}\n`);
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let start = 0;
    for (;;) {
      if (this.binaryLeft >= 0) {
        // Inside a binary chunk: wait for all of it and its newline, then hand it over as is.
        const n = this.binaryLeft;
        if (this.buffer.length - start < n + 1) break;
        if (this.buffer[start + n] !== 10) { this.protocolError('a binary chunk is not followed by a newline'); return; }
        this.pending[0]!.data = Buffer.from(this.buffer.subarray(start, start + n));
        start += n + 1;
        this.binaryLeft = -1;
        continue;
      }
      const nl = this.buffer.indexOf(10, start);
      if (nl < 0) break;
      const line = this.buffer.toString('utf8', start, nl);
      start = nl + 1;
      this.onLine(line);
      if (this.dead) return;
    }
    this.buffer = start === 0 ? this.buffer : this.buffer.subarray(start);
    if (this.binaryLeft < 0 && this.buffer.length > MAX_LINE_BYTES) this.protocolError('an answer line is too long');
  }

  private onLine(line: string): void {
    const p = this.pending[0];
    if (!p) { this.protocolError('MPD sent data nobody asked for'); return; }
    if (p.greeting) { this.settle(p, null, [line]); return; }
    if (line === 'OK') { this.settle(p, null, p.lines); return; }
    const ack = ACK_LINE.exec(line);
    if (ack) {
      const [, code, index, command, message] = ack;
      const n = Number(code);
      const err = n === Ack.permission
        ? new NoPlayerError(`MPD at ${this.opts.display} refused "${command}": permission denied`, PASSWORD_HINT, 'player.auth')
        : new MpdAckError(n, Number(index), command ?? '', message ?? '', this.opts.display);
      this.settle(p, err, []);
      return;
    }
    if (line.startsWith('binary: ')) {
      const n = /^binary: (\d{1,10})$/.exec(line);
      const size = n ? Number(n[1]) : NaN;
      if (!p.binary) { this.protocolError('binary answers are not supported for this command'); return; }
      if (!(size <= MAX_BINARY_CHUNK)) { this.protocolError('a binary chunk is too large'); return; }
      if (p.data !== undefined) { this.protocolError('two binary chunks in one answer'); return; }
      this.binaryLeft = size;
      return;
    }
    p.bytes += line.length + 1;
    if (p.bytes > MAX_ANSWER_BYTES) { this.protocolError('an answer is too large'); return; }
    p.lines.push(line);
  }

  private settle(p: Pending, err: Error | null, lines: string[]): void {
    this.pending.shift();
    // Keep the event loop alive only while an answer is awaited.
    if (this.pending.length === 0 && !this.dead) this.socket.unref();
    if (err) p.reject(err); else p.resolve(lines);
  }

  private protocolError(what: string): void {
    this.destroy(new NoPlayerError(`MPD at ${this.opts.display}: protocol error: ${what}`, undefined, 'player.protocol'));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.splice(0)) p.reject(err);
  }
}
