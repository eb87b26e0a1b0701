import type { Readable, Writable } from 'node:stream';

/**
 * Everything a command handler needs from the outside world, injected so
 * tests can call handlers directly with fake streams and a fixed clock.
 * Data goes to stdout, messages to stderr.
 */
export interface Ctx {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  /** stdin is a terminal: prompting is allowed. */
  stdinIsTTY: boolean;
  /** stdout is a terminal: progress chatter and colour are allowed. */
  stdoutIsTTY: boolean;
  /** Colour allowed (stdout is a TTY and NO_COLOR is not set). */
  color: boolean;
  /** --json given. */
  json: boolean;
  env: NodeJS.ProcessEnv;
  now(): Date;
  /** --remote NAME (or MEDIAGATE_REMOTE): send the command to that mediagate server instead. */
  remote: string | undefined;
  /** --node NAME|all: send the command to that mediagate node through the MQTT broker instead. */
  node?: string | undefined;
}

export function createContext(opts: { json?: boolean; env?: NodeJS.ProcessEnv; remote?: string | undefined; node?: string | undefined } = {}): Ctx {
  const env = opts.env ?? process.env;
  const stdoutIsTTY = Boolean(process.stdout.isTTY);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // A getter: touching process.stdin builds a stream (and, for a file or
    // /dev/null, loads fs/promises and readline: ~2 ms of cold start) that
    // only the commands reading stdin need.
    get stdin() { return process.stdin; },
    // A getter too: node:tty (~1–2 ms to load) only for the commands that prompt.
    get stdinIsTTY() { return process.getBuiltinModule('node:tty').isatty(0); },
    stdoutIsTTY,
    color: stdoutIsTTY && !('NO_COLOR' in env) && env.TERM !== 'dumb',
    json: Boolean(opts.json),
    env,
    now: () => new Date(),
    remote: opts.remote ?? (env.MEDIAGATE_REMOTE || undefined),
    node: opts.node,
  };
}

/** One line of data to stdout. */
export function out(ctx: Ctx, line: string): void {
  ctx.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
}

/** Data as pretty JSON (one document) to stdout. */
export function outJson(ctx: Ctx, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One compact JSON object per line (NDJSON, for --follow). */
export function outJsonLine(ctx: Ctx, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A message for the human to stderr. */
export function say(ctx: Ctx, line: string): void {
  ctx.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
}
