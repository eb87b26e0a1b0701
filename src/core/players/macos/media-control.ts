/**
 * Running `media-control` (Homebrew): one-shot calls (`get`, `test`, the
 * controls) and the long-lived `stream`, supervised.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { MediagateError, ExitCode, NoPlayerError, TimeoutError } from '../../errors.js';
import { findProgram, MACOS_EXTRA_DIRS } from '../../tools/find-program.js';
import { LineSplitter } from '../../tools/lines.js';
import { RunError, runProgram } from '../../tools/run.js';
import { toolEnv } from '../../volume/exec.js';
import { applyStreamLine, parseGet, type NowPlaying } from './now-playing.js';

/** The stream without artwork (it is reported to leak memory with artwork on), times in microseconds. */
export const STREAM_ARGS = ['stream', '--no-artwork', '--micros'] as const;
/** One reading with the artwork, for a track whose picture is not cached yet. */
export const GET_WITH_ARTWORK = ['get', '--micros'] as const;
export const GET_ARGS = ['get', '--no-artwork', '--micros'] as const;

export function findMediaControl(env: NodeJS.ProcessEnv): string | undefined {
  return findProgram('media-control', env, MACOS_EXTRA_DIRS);
}

const INSTALL_HINT = 'install it with `brew install ungive/media-control/media-control` (Homebrew), or allow AppleScript control of Music and Spotify';

/** One-shot media-control calls under the backend time limit. */
export class MediaControl {
  constructor(readonly path: string, private readonly env: NodeJS.ProcessEnv, private readonly timeoutMs: number) {}

  private async run(args: readonly string[]): Promise<string> {
    let r;
    try {
      r = await runProgram(this.path, args, { env: this.env, timeoutMs: this.timeoutMs });
    } catch (e) {
      if (e instanceof RunError && e.failure.kind === 'timeout') throw new TimeoutError(`media-control ${args[0]}`, this.timeoutMs);
      if (e instanceof RunError && e.failure.kind === 'missing') throw new NoPlayerError(`media-control is no longer at ${this.path}`, INSTALL_HINT, 'macos.no_media_control');
      throw new NoPlayerError(`cannot run media-control: ${(e as Error).message}`, INSTALL_HINT, 'macos.media_control_failed');
    }
    if (r.code !== 0) {
      const detail = (r.stderr || r.stdout).trim().split('\n')[0] || `exit code ${r.code}`;
      throw new MediagateError('macos.media_control_failed', `media-control ${args[0]} failed: ${detail}`, ExitCode.noPlayer,
        'run `media-control test`: a non-zero exit means it cannot work on this macOS version; `mediagate doctor` says more');
    }
    return r.stdout;
  }

  /** The now playing item (null: nothing plays). */
  async get(withArtwork: boolean): Promise<NowPlaying | null> {
    return parseGet(await this.run(withArtwork ? GET_WITH_ARTWORK : GET_ARGS));
  }

  /** A control command: play, pause, seek 12.5, shuffle tracks… */
  async command(...args: string[]): Promise<void> {
    await this.run(args);
  }

  /** `media-control test`: exit 0 where it works on this macOS. Never rejects. */
  async test(): Promise<{ ok: boolean; detail: string }> {
    try {
      const r = await runProgram(this.path, ['test'], { env: this.env, timeoutMs: Math.max(this.timeoutMs, 5000) });
      const detail = (r.stderr || r.stdout).trim().split('\n')[0] ?? '';
      return { ok: r.code === 0, detail: r.code === 0 ? detail : `exit code ${r.code}${detail ? `: ${detail}` : ''}` };
    } catch (e) {
      return { ok: false, detail: e instanceof RunError && e.failure.kind === 'timeout' ? 'did not finish in time' : (e as Error).message };
    }
  }
}

export interface StreamOptions {
  path: string;
  env: NodeJS.ProcessEnv;
  /** Replace the stream by a fresh one this often (the tool is reported to grow over days). */
  restartEveryMs?: number;
  /** First wait before a restart after the stream ended; doubled each time it ends again soon. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A stream that ran this long counts as healthy: the next restart waits minBackoffMs again. */
  healthyAfterMs?: number;
  /** Told after every line that changed what is known (null: the stream is not running now). */
  onChange(current: NowPlaying | null): void;
}

/**
 * The long-lived `media-control stream --no-artwork --micros`: its lines are
 * merged into what is known (see applyStreamLine). When it ends it is
 * started again after a wait that doubles while it keeps ending soon (never
 * a tight loop), and it is replaced by a fresh one on a timer. stop() ends
 * it: SIGTERM (it stops gracefully on that), SIGKILL after a second.
 */
export class NowPlayingStream {
  private child: ChildProcess | undefined;
  private payload: NowPlaying | null = null;
  private live = false;
  private stopped = false;
  private rotating = false;
  private backoff: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private rotateTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  /** Times the stream was started (for doctor and tests). */
  starts = 0;
  /** The last lines it wrote to stderr (bounded), for diagnostics. */
  readonly stderrTail: string[] = [];
  /** Lines that could not be read. */
  badLines = 0;
  private readonly firstLine: Array<() => void> = [];

  constructor(private readonly o: StreamOptions) {
    this.backoff = o.minBackoffMs ?? 1000;
  }

  /** What the stream says now; null until its first line (or while it is down). */
  current(): NowPlaying | null {
    return this.live ? this.payload : null;
  }

  get running(): boolean {
    return this.live;
  }

  start(): void {
    if (this.stopped || this.child) return;
    this.starts++;
    this.startedAt = Date.now();
    const child = spawn(this.o.path, [...STREAM_ARGS], { env: toolEnv(this.o.env), stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    this.child = child;
    const lines = new LineSplitter((line) => this.onLine(line), 16 * 1024 * 1024, () => { this.badLines++; });
    child.stdout!.on('data', (d: Buffer) => lines.push(d));
    child.stdout!.on('end', () => lines.end());
    const errLines = new LineSplitter((l) => { this.stderrTail.push(l.slice(0, 500)); if (this.stderrTail.length > 5) this.stderrTail.shift(); }, 64 * 1024);
    child.stderr!.on('data', (d: Buffer) => errLines.push(d));
    child.on('error', () => { /* ENOENT and the like: reported through 'close' */ });
    child.on('close', () => this.ended(child));
    const every = this.o.restartEveryMs ?? 6 * 3600_000;
    clearTimeout(this.rotateTimer);
    this.rotateTimer = setTimeout(() => this.rotate(), every);
    this.rotateTimer.unref();
  }

  /** Resolves at the stream's first line, or after `ms` (whichever comes first). */
  waitFirst(ms: number): Promise<void> {
    if (this.live) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      t.unref();
      this.firstLine.push(() => { clearTimeout(t); resolve(); });
    });
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    let next: NowPlaying | null;
    try {
      next = applyStreamLine(this.live ? this.payload : null, line);
    } catch {
      this.badLines++;
      return;
    }
    const wasLive = this.live;
    this.live = true;
    const changed = !wasLive || JSON.stringify(next) !== JSON.stringify(this.payload);
    this.payload = next;
    if (!wasLive) for (const f of this.firstLine.splice(0)) f();
    if (changed) this.notify();
  }

  private notify(): void {
    try { this.o.onChange(this.current()); } catch { /* a listener's bug must not stop the stream */ }
  }

  private ended(child: ChildProcess): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (this.rotating && !this.stopped) {
      // Replaced on purpose: what is known stays valid until the new stream's first (full) line replaces it.
      this.rotating = false;
      this.start();
      return;
    }
    const wasLive = this.live;
    this.live = false;
    if (this.stopped) return;
    if (wasLive) this.notify();
    const ran = Date.now() - this.startedAt;
    if (ran >= (this.o.healthyAfterMs ?? 30_000)) this.backoff = this.o.minBackoffMs ?? 1000;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 60_000);
    this.restartTimer = setTimeout(() => { this.restartTimer = undefined; this.start(); }, wait);
    this.restartTimer.unref();
  }

  private rotate(): void {
    if (this.stopped || !this.child) return;
    this.rotating = true;
    this.child.kill('SIGTERM');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.rotateTimer);
    for (const f of this.firstLine.splice(0)) f();
    const child = this.child;
    this.child = undefined;
    this.live = false;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.kill('SIGTERM');
    const kill = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 1000);
    await exited;
    clearTimeout(kill);
  }
}
