import { execFile } from 'node:child_process';
import { toolEnv } from '../volume/exec.js';

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when killed. */
  code: number | null;
}

export type RunFailure =
  | { kind: 'missing' }
  | { kind: 'timeout' }
  | { kind: 'spawn'; message: string };

/** A run that did not produce an exit code: the program is missing, hung, or could not start. */
export class RunError extends Error {
  constructor(readonly failure: RunFailure, readonly program: string) {
    super(failure.kind === 'spawn' ? failure.message : `${program}: ${failure.kind}`);
  }
}

/**
 * Run `program` once with an argument array (never a shell), in the tool
 * environment (no MEDIAGATE_* variable, C locale), under a time limit after
 * which it is killed. Resolves with its output and exit code, whatever the
 * code; rejects with a RunError only when there was no exit code.
 */
export function runProgram(program: string, args: readonly string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number; maxBuffer?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(program, [...args], {
      env: toolEnv(opts.env), timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: opts.maxBuffer ?? 32 << 20, encoding: 'utf8', windowsHide: true,
    }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr, code: 0 });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
      if (e.code === 'ENOENT') return reject(new RunError({ kind: 'missing' }, program));
      if (e.killed) return reject(new RunError({ kind: 'timeout' }, program));
      if (typeof e.code === 'number') return resolve({ stdout, stderr, code: e.code });
      if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(new RunError({ kind: 'spawn', message: `${program} printed too much` }, program));
      reject(new RunError({ kind: 'spawn', message: `${program}: ${e.message}` }, program));
    });
  });
}
