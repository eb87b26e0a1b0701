import { NoPlayerError, TimeoutError } from '../errors.js';

/**
 * The environment a mixer tool runs with: ours, minus every MEDIAGATE_*
 * variable (MEDIAGATE_SECRET_KEY above all: a child's environment can be
 * read from /proc, and no tool needs ours), in the C locale for parsing.
 */
export function toolEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const k of Object.keys(env)) if (!/^MEDIAGATE_/i.test(k)) out[k] = env[k];
  out.LC_ALL = 'C';
  out.LANG = 'C';
  return out;
}

/**
 * Run a mixer tool with an argument array (never a shell) under a time limit.
 * node:child_process rather than execa here: this is the hot path of
 * `mediagate volume`, and importing execa alone costs ~150 ms of start-up;
 * and node:child_process itself is loaded only when a tool is run (PulseAudio
 * is spoken to natively, so `volume` on it never loads it).
 * A missing tool is a NoPlayerError (exit 3) naming it.
 */
export async function runTool(cmd: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', env: toolEnv(env), maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
      if (e.code === 'ENOENT') return reject(new NoPlayerError(`${cmd} is not installed`, undefined, 'volume.tool_missing'));
      if (e.killed) return reject(new TimeoutError(cmd, timeoutMs));
      const detail = String(stderr || stdout || e.message).trim().split('\n')[0];
      reject(new NoPlayerError(`${cmd} ${args[0] ?? ''} failed: ${detail}`, undefined, 'volume.backend_failed'));
    });
  });
}
