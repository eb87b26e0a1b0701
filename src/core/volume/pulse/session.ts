import { TimeoutError } from '../../errors.js';
import { pulseCookie } from './address.js';
import { PulseConnection } from './connection.js';
import { PulseTransportError } from './errors.js';

/** The properties we introduce ourselves with (SET_CLIENT_NAME). */
export function clientProps(): Record<string, string> {
  return { 'application.name': 'mediagate', 'application.process.id': String(process.pid), 'application.process.binary': 'node' };
}

/**
 * Race `work` against what is left of a deadline; when time runs out the
 * connection is destroyed (its socket closed) and the call fails with a
 * TimeoutError naming the server.
 */
export function beforeDeadline<T>(c: PulseConnection, deadline: number, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new TimeoutError(`PulseAudio at ${c.path}`, ms);
      c.destroy(e);
      reject(e);
    }, Math.max(0, deadline - Date.now()));
    timer.unref();
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/**
 * Connect to the first of `paths` that has a server, authenticate and
 * introduce ourselves, all before `deadline` (a Date.now() value; `ms` is
 * the limit it stands for, for the message). A path without a server
 * (missing socket, refused) moves on to the next, as libpulse does with
 * PULSE_SERVER's list; any other failure is final.
 */
export async function openPulse(paths: readonly string[], env: NodeJS.ProcessEnv, deadline: number, ms: number): Promise<PulseConnection> {
  const cookie = pulseCookie(env);
  let last: Error | undefined;
  for (const path of paths) {
    const c = new PulseConnection(path);
    try {
      await beforeDeadline(c, deadline, ms, c.handshake(cookie, clientProps()));
      return c;
    } catch (e) {
      c.close();
      if (!(e instanceof PulseTransportError && e.failure === 'no_server')) throw e;
      last = e;
    }
  }
  throw last ?? new PulseTransportError('no_server', 'no PulseAudio server address');
}
