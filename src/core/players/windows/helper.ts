/**
 * The long-lived PowerShell helper: one `powershell.exe -NoLogo -NoProfile
 * -NonInteractive -ExecutionPolicy Bypass -File <package>/helpers/windows/helper.ps1`
 * per mediagate process, speaking JSON lines (see protocol.ts). Windows
 * PowerShell 5.1 (`powershell.exe`), not PowerShell 7 (`pwsh`), which lost
 * the built-in WinRT support the media sessions need.
 *
 * Starting PowerShell costs 0.2–0.5 s (more on a first start under
 * antivirus), so the helper is started once and kept: a CLI call pays for
 * it once, `serve` once for its whole run. A request that does not answer
 * within the time limit ends the helper (its loop answers one request at a
 * time, so a hung call would block all the others); the next request starts
 * a new one — never sooner than a wait that doubles while it keeps failing
 * (1 s up to 30 s), so a helper that cannot start is not started in a loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join, win32 } from 'node:path';
import { MediagateError, ExitCode, NoPlayerError, TimeoutError } from '../../errors.js';
import { packageRoot } from '../../package-root.js';
import { findProgram } from '../../tools/find-program.js';
import { LineSplitter } from '../../tools/lines.js';
import { toolEnv } from '../../volume/exec.js';
import { parseHelperLine, PROTOCOL_VERSION, type HelperEvent, type Ready, type RequestType } from './protocol.js';

export const HELPER_ARGS = ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File'] as const;

export function helperScript(): string {
  return join(packageRoot(), 'helpers', 'windows', 'helper.ps1');
}

/** Windows PowerShell 5.1: its fixed place under %SystemRoot%, else powershell.exe on PATH. */
export function findPowershell(env: NodeJS.ProcessEnv): string | undefined {
  const sys = env.SystemRoot ?? env.SYSTEMROOT;
  if (sys) {
    const fixed = win32.join(sys, 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe');
    if (existsSync(fixed)) return fixed;
  }
  return findProgram('powershell.exe', env);
}

export interface HelperOptions {
  env: NodeJS.ProcessEnv;
  /** Time limit of one request, ms. */
  timeoutMs: number;
  /** How long the helper may take to say it is ready (PowerShell and WinRT loading; antivirus). */
  startTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

interface Pending { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }

function helperError(code: string, message: string): MediagateError {
  if (code === 'session.not_found') return new NoPlayerError(message, 'it may have closed; list the players again', 'player.not_found');
  if (code === 'unsupported') return new NoPlayerError(message, undefined, 'player.unsupported');
  if (code === 'volume.no_device') return new NoPlayerError(message, 'connect or enable a playback device in Sound settings', 'volume.no_mixer');
  return new MediagateError(`windows.${code.replace(/[^a-z0-9_.]/gi, '')}`, message, ExitCode.noPlayer);
}

/**
 * One supervised helper process. Emits 'event' (HelperEvent) for change
 * events and 'restart' after a new helper took over from one that ended.
 */
export class WindowsHelper extends EventEmitter {
  private child: ChildProcess | undefined;
  private ready: Promise<Ready> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private backoff: number;
  private notBefore = 0;
  private lastFailure: MediagateError | undefined;
  private startedAt = 0;
  private watching = false;
  private closed = false;
  /** Lines that were not protocol lines, and answers to no pending request (for tests and doctor). */
  noise = 0;
  strays = 0;
  starts = 0;
  readonly stderrTail: string[] = [];
  /** What the helper said when it became ready. */
  info: Ready | undefined;

  constructor(private readonly o: HelperOptions) {
    super();
    this.backoff = o.minBackoffMs ?? 1000;
  }

  private start(): Promise<Ready> {
    if (this.closed) return Promise.reject(new MediagateError('windows.closed', 'the Windows helper was closed', ExitCode.failure));
    if (Date.now() < this.notBefore && this.lastFailure) return Promise.reject(this.lastFailure);
    const exe = findPowershell(this.o.env);
    if (!exe) {
      return Promise.reject(new NoPlayerError('Windows PowerShell (powershell.exe) was not found',
        'it is part of Windows (%SystemRoot%\\System32\\WindowsPowerShell\\v1.0); PowerShell 7 (pwsh) cannot reach the media sessions', 'windows.no_powershell'));
    }
    const script = helperScript();
    this.starts++;
    this.startedAt = Date.now();
    const child = spawn(exe, [...HELPER_ARGS, script], { env: toolEnv(this.o.env), stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    this.child = child;
    let onReady!: (r: Ready) => void;
    let onFail!: (e: Error) => void;
    const ready = new Promise<Ready>((resolve, reject) => { onReady = resolve; onFail = reject; });
    ready.catch(() => {});
    const startLimit = this.o.startTimeoutMs ?? Math.max(this.o.timeoutMs, 10_000);
    const startTimer = setTimeout(() => {
      onFail(new TimeoutError('the Windows PowerShell helper (starting)', startLimit));
      this.kill(child);
    }, startLimit);
    startTimer.unref();
    const lines = new LineSplitter((line) => {
      const msg = parseHelperLine(line);
      if (!msg) { if (line.trim() !== '') this.noise++; return; }
      if ('type' in msg && msg.type === 'ready') {
        clearTimeout(startTimer);
        this.info = msg;
        if (msg.version !== PROTOCOL_VERSION) {
          onFail(new MediagateError('windows.helper_version', `the Windows helper speaks protocol ${msg.version}, this mediagate ${PROTOCOL_VERSION}`, ExitCode.failure, 'reinstall mediagate: its helper script does not match'));
          this.kill(child);
        } else onReady(msg);
        return;
      }
      if ('type' in msg && msg.type === 'event') { this.emit('event', msg as HelperEvent); return; }
      const answer = msg as { id: number; ok: boolean; result?: unknown; error?: { code: string; message: string } };
      const p = this.pending.get(answer.id);
      if (!p) { this.strays++; return; }
      this.pending.delete(answer.id);
      clearTimeout(p.timer);
      if (answer.ok) p.resolve(answer.result ?? null);
      else p.reject(helperError(answer.error!.code, answer.error!.message));
      this.holdLoop();
    });
    child.stdout!.on('data', (d: Buffer) => lines.push(d));
    child.stdout!.on('end', () => lines.end());
    const errLines = new LineSplitter((l) => { if (l.trim()) { this.stderrTail.push(l.slice(0, 500)); if (this.stderrTail.length > 5) this.stderrTail.shift(); } }, 64 * 1024);
    child.stderr!.on('data', (d: Buffer) => errLines.push(d));
    child.stdin!.on('error', () => { /* the helper went away: reported through 'close' */ });
    child.on('error', () => { /* reported through 'close' */ });
    child.on('close', (code, signal) => {
      clearTimeout(startTimer);
      if (this.child === child) this.child = undefined;
      this.ready = undefined;
      const why = this.stderrTail.length ? `: ${this.stderrTail[this.stderrTail.length - 1]}` : '';
      const failure = new NoPlayerError(`the Windows PowerShell helper ended (${signal ?? `exit code ${code}`})${why}`,
        'run `mediagate doctor` to see why; antivirus or a policy blocking scripts can stop it', 'windows.helper_exited');
      onFail(failure);
      for (const [id, p] of this.pending) { clearTimeout(p.timer); p.reject(failure); this.pending.delete(id); }
      if (this.closed) return;
      // A helper that ran a while was healthy: the next start waits the least again.
      if (Date.now() - this.startedAt >= 30_000) this.backoff = this.o.minBackoffMs ?? 1000;
      this.lastFailure = failure;
      this.notBefore = Date.now() + this.backoff;
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 30_000);
      if (this.watching) {
        const t = setTimeout(() => { if (!this.closed && this.watching && !this.child) this.resumeWatch(); }, wait);
        t.unref();
      }
    });
    this.ready = ready;
    this.starting = true;
    const settled = () => { this.starting = false; this.holdLoop(); };
    ready.then(settled, settled);
    return ready;
  }

  /**
   * Hold the event loop only while something waits for the helper (a start,
   * a request) or while watching: an idle helper must not keep a finished
   * CLI command alive. It ends by itself when our end of its stdin closes.
   */
  private holdLoop(): void {
    const c = this.child;
    if (!c) return;
    const hold = this.watching || this.pending.size > 0 || this.starting;
    for (const h of [c, c.stdin, c.stdout, c.stderr] as Array<{ ref?(): void; unref?(): void } | null>) {
      if (hold) h?.ref?.(); else h?.unref?.();
    }
  }

  private starting = false;

  private resumeWatch(): void {
    this.request('watch').then(() => this.emit('restart'), () => { /* tried again after the next end */ });
  }

  private kill(child: ChildProcess): void {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }

  /** Send one request and wait for its answer (within the time limit). */
  async request(type: RequestType, params: Record<string, unknown> = {}): Promise<unknown> {
    if (type === 'watch') this.watching = true;
    const info = await (this.ready ?? this.start());
    if (!info.winrt && type !== 'probe' && !type.startsWith('volume')) {
      throw new NoPlayerError(`Windows media sessions are not reachable from PowerShell here${info.error ? ` (${info.error})` : ''}`,
        'mediagate needs Windows 10 1809 or later and Windows PowerShell 5.1; run `mediagate doctor`', 'windows.no_winrt');
    }
    const child = this.child;
    if (!child) throw this.lastFailure ?? new NoPlayerError('the Windows helper is not running', undefined, 'windows.helper_exited');
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(`the Windows media sessions (${type})`, this.o.timeoutMs));
        // Its loop is stuck on this request, so every other one would wait too: start afresh next time.
        this.kill(child);
      }, this.o.timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      this.holdLoop();
      child.stdin!.write(`${JSON.stringify({ id, type, ...params })}\n`, 'utf8');
    });
  }

  /** End the helper: close its stdin (it exits at end of input), SIGKILL after a second. */
  async close(): Promise<void> {
    this.closed = true;
    this.watching = false;
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.stdin!.end();
    const t = setTimeout(() => this.kill(child), 1000);
    await exited;
    clearTimeout(t);
  }
}

/** One helper per process and environment, shared by the player source and the mixer. */
const shared = new Map<string, { helper: WindowsHelper; refs: number }>();

function entryFor(o: HelperOptions): { key: string; entry: { helper: WindowsHelper; refs: number } } {
  const key = JSON.stringify([o.env.PATH ?? o.env.Path ?? '', o.env.SystemRoot ?? '', o.timeoutMs]);
  let entry = shared.get(key);
  if (!entry) { entry = { helper: new WindowsHelper(o), refs: 0 }; shared.set(key, entry); }
  return { key, entry };
}

/**
 * The shared helper for one call, without holding it: a one-shot command's
 * idle helper does not keep the process alive (and ends with it); while a
 * source or a watch holds it (acquireHelper), the last release ends it.
 */
export function borrowHelper(o: HelperOptions): WindowsHelper {
  return entryFor(o).entry.helper;
}

export function acquireHelper(o: HelperOptions): { helper: WindowsHelper; release(): Promise<void> } {
  const { key, entry } = entryFor(o);
  entry.refs++;
  let released = false;
  const e = entry;
  return {
    helper: e.helper,
    async release() {
      if (released) return;
      released = true;
      if (--e.refs > 0) return;
      if (shared.get(key) === e) shared.delete(key);
      await e.helper.close();
    },
  };
}
