/**
 * What `mediagate doctor` reports: one Check per thing it looked at, with
 * what it found, why not, and the fix; and, with --record DIR, the raw
 * outputs of each backend's probes as fixture files tests can load.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { release, type as osType } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../errors.js';
import type { RunResult } from '../tools/run.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';
export type CheckArea = 'players' | 'volume' | 'state' | 'serve' | 'mqtt';

export interface Check {
  id: string;
  area: CheckArea;
  name: string;
  status: CheckStatus;
  /** What was found (or what was looked for). */
  found: string;
  /** Why it does not work, when it does not. */
  why?: string;
  /** What to do about it. */
  fix?: string;
  /** This check is what makes the main job possible (a player backend that works). */
  enables?: 'players';
}

export interface DoctorReport {
  ok: boolean;
  platform: string;
  os: string;
  checks: Check[];
  /** Files written by --record. */
  recorded: string[];
}

/** One raw probe output, in the shape the test fixtures have (test/fixtures/desktop). */
export interface Capture {
  source: string;
  tool: string;
  argv: readonly string[];
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Writes captures into DIR (created 0700, files 0600); a no-op without --record. */
export class Recorder {
  readonly files: string[] = [];
  constructor(private readonly dir: string | undefined, private readonly where: string) {}

  get on(): boolean {
    return this.dir !== undefined;
  }

  record(name: string, tool: string, argv: readonly string[], r: Pick<RunResult, 'stdout' | 'stderr' | 'code'> | { error: string }): void {
    if (!this.dir) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const capture: Capture = 'error' in r
      ? { source: this.source(), tool, argv, exitCode: null, stdout: '', stderr: r.error }
      : { source: this.source(), tool, argv, exitCode: r.code, stdout: r.stdout, stderr: r.stderr };
    const file = join(this.dir, `${name.replace(/[^a-z0-9_.-]/gi, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(capture, null, 2)}\n`, { mode: 0o600 });
    this.files.push(file);
  }

  private source(): string {
    return `mediagate doctor --record on ${this.where}, ${new Date().toISOString().slice(0, 10)}`;
  }
}

/** The OS this really runs on, as a person names it (`macOS (Darwin 24.5.0)`, `Windows 10.0.22631`, `Linux 6.1.0`), whatever backends were chosen. */
export function osName(): string {
  const kind = process.platform === 'darwin' ? 'macOS (Darwin' : process.platform === 'win32' ? 'Windows' : osType();
  return process.platform === 'darwin' ? `${kind} ${release()})` : `${kind} ${release()}`;
}

/**
 * Exit 0 when the main job can run (at least one player backend works and
 * the state is usable); 5 when config or state is unsafe; 3 when no player
 * backend works.
 */
export function exitCodeOf(checks: Check[]): number {
  if (checks.some((c) => c.area === 'state' && c.status === 'fail')) return ExitCode.config;
  if (!checks.some((c) => c.enables === 'players' && c.status === 'ok')) return ExitCode.noPlayer;
  return ExitCode.ok;
}
