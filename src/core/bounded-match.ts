import { createContext, Script, type Context } from 'node:vm';

/**
 * A regular expression test with a time limit. The patterns of scripts'
 * parameters are the owner's, and a backtracking one such as `(a+)+b` takes
 * time exponential in the input's length — on serve's event loop, that is every
 * request stalled. V8 cannot bound a RegExp by itself, but code run through
 * node:vm with a `timeout` is interrupted, RegExp execution included.
 * Costs about 0.1 ms a call (a watchdog thread), fine for script runs.
 */
let context: Context | undefined;
let script: Script | undefined;

export class MatchTimeout extends Error {
  constructor(readonly ms: number) {
    super(`pattern test gave up after ${ms} ms`);
  }
}

/** `regex.test(value)`, or MatchTimeout when it runs longer than `ms`. */
export function testWithin(regex: RegExp, value: string, ms: number): boolean {
  context ??= createContext(Object.create(null) as object);
  script ??= new Script('r.lastIndex = 0, r.test(v)');
  context.r = regex;
  context.v = value;
  try {
    return script.runInContext(context, { timeout: ms }) === true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new MatchTimeout(ms);
    throw e;
  } finally {
    context.r = undefined;
    context.v = undefined;
  }
}
