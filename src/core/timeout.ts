import { TimeoutError } from './errors.js';

/** Default time limit for one backend call, in milliseconds. */
export const DEFAULT_BACKEND_TIMEOUT_MS = 3000;

/**
 * Resolve with `promise`, or reject with a TimeoutError after `ms`.
 * `onTimeout` lets the caller tear down whatever is stuck (close a socket).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try { onTimeout?.(); } catch { /* best effort */ }
      reject(new TimeoutError(what, ms));
    }, ms);
    timer.unref?.();
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}
