/**
 * Errors that carry a stable exit code and a machine-readable code.
 * Every failure mediagate reports goes through one of these, so the CLI,
 * the fast path and (later) the server map them the same way.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  noPlayer: 3,
  auth: 4,
  config: 5,
  unreachable: 6,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class MediagateError extends Error {
  /** Dotted machine-readable code, e.g. `player.not_found`. */
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  /** One line telling the user what to do about it. */
  readonly hint: string | undefined;

  constructor(code: string, message: string, exitCode: ExitCodeValue, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

/** Bad arguments or flags (exit 2). */
export class UsageError extends MediagateError {
  constructor(message: string, hint?: string, code = 'usage.invalid') {
    super(code, message, ExitCode.usage, hint);
  }
}

/** No player or backend could be reached, or the chosen one cannot do it (exit 3). */
export class NoPlayerError extends MediagateError {
  constructor(message: string, hint?: string, code = 'player.unavailable') {
    super(code, message, ExitCode.noPlayer, hint);
  }
}

/** Not authenticated or not allowed (exit 4). */
export class AuthError extends MediagateError {
  constructor(message: string, hint?: string, code = 'auth.denied') {
    super(code, message, ExitCode.auth, hint);
  }
}

/** Config, key file or state dir problem (exit 5). */
export class ConfigError extends MediagateError {
  constructor(message: string, hint?: string, code = 'config.invalid') {
    super(code, message, ExitCode.config, hint);
  }
}

/** A remote mediagate server could not be reached (exit 6). */
export class UnreachableError extends MediagateError {
  constructor(message: string, hint?: string, code = 'remote.unreachable') {
    super(code, message, ExitCode.unreachable, hint);
  }
}

/** A backend did not answer within its time limit. Maps to exit 3: the player is not usable. */
export class TimeoutError extends MediagateError {
  constructor(what: string, ms: number) {
    super('backend.timeout', `${what} did not answer within ${ms} ms`, ExitCode.noPlayer,
      'the player or daemon accepted the connection but is not responding; check that it is not hung');
  }
}

export function isMediagateError(e: unknown): e is MediagateError {
  return e instanceof MediagateError;
}
