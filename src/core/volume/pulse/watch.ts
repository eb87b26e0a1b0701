import { TimeoutError } from '../../errors.js';
import type { VolumeReading } from '../types.js';
import { pulseAddress } from './address.js';
import { getDefaultSink, subscribe } from './commands.js';
import type { PulseConnection } from './connection.js';
import { PulseTransportError } from './errors.js';
import { EventFacility, SubscriptionMask } from './protocol.js';
import { beforeDeadline, openPulse } from './session.js';
import { levelOf } from './volume-math.js';

export interface PulseWatchOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /**
   * A reading of the default sink after a sink or server event (read on the
   * watching connection, so readings arrive in the server's order); or no
   * reading when the caller must find out for itself: the server went away,
   * or the default sink could not be read.
   */
  onChange: (reading?: VolumeReading) => void;
  /** The native client cannot be used here (TCP server, not the protocol): the caller watches another way. */
  onUnusable: (why: Error) => void;
}

/**
 * Watches the default sink over one native connection subscribed to sink
 * and server events (a server event covers a change of default sink). Once
 * the subscription is in force it reads once, covering any change made
 * before. Bursts of events coalesce into one read at a time plus one after
 * it. When the server goes away the caller is told (onChange without a
 * reading) and the watch reconnects, backing off from 1 s to once a minute.
 * Returns the stop function.
 */
export function watchPulse(o: PulseWatchOptions): () => void {
  let stopped = false;
  let conn: PulseConnection | undefined;
  let retry: NodeJS.Timeout | undefined;
  let backoff = 1000;
  let reading = false;
  let again = false;

  const lost = () => {
    conn = undefined;
    if (stopped) return;
    o.onChange();
    retry = setTimeout(start, backoff);
    retry.unref();
    backoff = Math.min(backoff * 2, 60000);
  };

  const read = (c: PulseConnection) => {
    if (reading) { again = true; return; }
    reading = true;
    beforeDeadline(c, Date.now() + o.timeoutMs, o.timeoutMs, getDefaultSink(c)).then(
      (sink) => { if (!stopped && conn === c) o.onChange({ level: levelOf(sink.volume), muted: sink.muted }); },
      // a timeout or transport failure has closed the connection (→ lost); anything else (no default sink): let the caller look
      (e) => { if (!stopped && conn === c && !(e instanceof TimeoutError || e instanceof PulseTransportError)) o.onChange(); },
    ).finally(() => {
      reading = false;
      if (again && conn === c && !stopped) { again = false; read(c); }
    });
  };

  const start = () => {
    const address = pulseAddress(o.env);
    if (address.kind === 'other') { o.onUnusable(new Error(address.reason)); return; }
    const deadline = Date.now() + o.timeoutMs;
    openPulse(address.paths, o.env, deadline, o.timeoutMs).then(async (c) => {
      if (stopped) { c.close(); return; }
      conn = c;
      c.onClose = () => { if (conn === c) lost(); };
      c.onEvent = (e) => {
        if (e.facility === EventFacility.SINK || e.facility === EventFacility.SERVER) read(c);
      };
      await beforeDeadline(c, deadline, o.timeoutMs, subscribe(c, SubscriptionMask.SINK | SubscriptionMask.SERVER));
      backoff = 1000;
      read(c);
    }).catch((e: unknown) => {
      if (stopped) return;
      if (e instanceof PulseTransportError && e.failure === 'protocol') { o.onUnusable(e); return; }
      if (conn) conn.destroy(e as Error); // the subscribe failed on an open connection: onClose → lost
      else lost();
    });
  };

  start();
  return () => {
    stopped = true;
    clearTimeout(retry);
    conn?.close();
  };
}
