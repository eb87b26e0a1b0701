/**
 * Running AppleScript through `osascript -e LINE … [ARG …]`: an argument
 * array, never a shell. Values reach a script only as arguments of its run
 * handler (`on run argv`), never pasted into its text.
 */
import { ExitCode, MediagateError, NoPlayerError, TimeoutError } from '../../errors.js';
import { findProgram } from '../../tools/find-program.js';
import { RunError, runProgram } from '../../tools/run.js';

export function findOsascript(env: NodeJS.ProcessEnv): string | undefined {
  return findProgram('osascript', env, ['/usr/bin']);
}

/** The fix for AppleScript's -1743 (errAEEventNotPermitted). */
export const AUTOMATION_HINT = 'allow it in System Settings → Privacy & Security → Automation: turn on the app for the program that runs mediagate (Terminal, iTerm, or node for a launchd job); `tccutil reset AppleEvents` asks again';

/** Map osascript's error text to what the user should see. */
export function appleScriptError(stderr: string, what: string): MediagateError {
  const line = stderr.trim().split('\n').pop() ?? '';
  const code = /\((-?\d+)\)\s*$/.exec(line)?.[1];
  const app = /Apple events to ([^.]+)\./.exec(line)?.[1] ?? /application "([^"]+)"/.exec(line)?.[1];
  if (code === '-1743') {
    return new MediagateError('macos.automation_denied', `macOS does not allow mediagate to control ${app ?? 'this app'} (Automation permission, error -1743)`, ExitCode.auth, AUTOMATION_HINT);
  }
  if (code === '-600') return new NoPlayerError(`${app ?? 'the app'} is not running`, undefined, 'player.not_found');
  if (code === '-1712') return new MediagateError('backend.timeout', `${app ?? 'the app'} did not answer AppleScript in time (-1712)`, ExitCode.noPlayer, 'the app may be busy or hung');
  const detail = line.replace(/^.*execution error: /, '') || 'no details';
  return new MediagateError('macos.applescript_failed', `AppleScript for ${what} failed: ${detail}`, ExitCode.noPlayer);
}

export class Osascript {
  constructor(readonly path: string, private readonly env: NodeJS.ProcessEnv, private readonly timeoutMs: number) {}

  /** Run the script made of `lines` with `args` for its run handler; its result (stdout, without the final newline). */
  async run(lines: readonly string[], args: readonly string[], what: string): Promise<string> {
    for (const a of args) {
      if (a.startsWith('-') || a.includes('\0')) throw new MediagateError('usage.invalid', `cannot pass '${a.slice(0, 40)}' to AppleScript`, ExitCode.usage);
    }
    const argv = [...lines.flatMap((l) => ['-e', l]), ...args];
    let r;
    try {
      r = await runProgram(this.path, argv, { env: this.env, timeoutMs: this.timeoutMs });
    } catch (e) {
      if (e instanceof RunError && e.failure.kind === 'timeout') throw new TimeoutError(`osascript (${what})`, this.timeoutMs);
      throw new NoPlayerError(`cannot run osascript: ${(e as Error).message}`, 'osascript is part of macOS (/usr/bin/osascript)', 'macos.no_osascript');
    }
    if (r.code !== 0) throw appleScriptError(r.stderr, what);
    return r.stdout.replace(/\r?\n$/, '');
  }
}
