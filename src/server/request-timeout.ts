/**
 * Time limits.
 *
 * `startRequestTimeout` gives one request 30 s (default) to answer; if the
 * handler has not, the client gets 503 `request.timeout` (Retry-After) and
 * the handler's `signal` aborts so it can stop its work. If the handler had
 * already started writing, the connection is cut instead (a half answer must
 * not look complete). Not for WebSocket upgrades or streaming routes — the
 * assembly simply does not start one for those.
 *
 * `configureServerTimeouts` sets node's own limits on the http(s).Server:
 * slow headers (slowloris), slow bodies, idle keep-alive connections.
 */
import type { Server, ServerResponse } from 'node:http';
import { ErrorCode, HttpError, sendError } from './http-error.js';

export const REQUEST_TIMEOUT_MS = 30_000;

export interface RequestTimer {
  /** Aborts when the time is up (created on first use). */
  readonly signal: AbortSignal;
  /** True once the limit fired. */
  readonly timedOut: boolean;
  /** Stop the clock (e.g. a handler that turns into a stream). Idempotent. */
  cancel(): void;
}

export interface RequestTimeoutOptions {
  ms?: number;
  requestId: string;
  /** Called when the limit fires (for the log line), before the answer is written. */
  onTimeout?: () => void;
}

/**
 * In-flight requests, one insertion-ordered set per time limit: with a
 * monotonic clock, each set is ordered by deadline, so its first entry is
 * the next to expire. ONE unref'd timer is armed for the earliest deadline,
 * only while requests are in flight — no timer per request, none at idle.
 */
const pending = new Map<number, Set<Entry>>();
let wakeup: NodeJS.Timeout | null = null;
let wakeupAt = Infinity;

function armWakeup(): void {
  let earliest = Infinity;
  for (const set of pending.values()) {
    const first = set.values().next().value as Entry | undefined;
    if (first && first.deadline < earliest) earliest = first.deadline;
  }
  if (earliest === Infinity) {
    if (wakeup) clearTimeout(wakeup);
    wakeup = null;
    wakeupAt = Infinity;
    return;
  }
  if (wakeup && wakeupAt <= earliest) return; // will wake in time anyway
  if (wakeup) clearTimeout(wakeup);
  wakeupAt = earliest;
  wakeup = setTimeout(onWakeup, Math.max(0, Math.ceil(earliest - performance.now())));
  wakeup.unref();
}

function onWakeup(): void {
  wakeup = null;
  wakeupAt = Infinity;
  const now = performance.now();
  const due: Entry[] = [];
  for (const [ms, set] of pending) {
    for (const e of set) {
      if (e.deadline > now) break;
      set.delete(e);
      due.push(e);
    }
  }
  for (const e of due) e.fire();
  armWakeup();
}

class Entry implements RequestTimer {
  readonly deadline: number;
  private controller: AbortController | null = null;
  private active = true;
  timedOut = false;

  constructor(private readonly res: ServerResponse, private readonly ms: number, private readonly opts: RequestTimeoutOptions) {
    this.deadline = performance.now() + ms;
    let set = pending.get(ms);
    if (!set) pending.set(ms, (set = new Set()));
    set.add(this);
    if (this.deadline < wakeupAt) armWakeup();
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.timedOut) this.controller.abort(this.reason());
    }
    return this.controller.signal;
  }

  cancel(): void {
    if (!this.active) return;
    this.active = false;
    pending.get(this.ms)?.delete(this); // an empty set stays: there are only a few distinct limits
    // The wakeup stays armed; it finds nothing due and re-arms for the next, if any.
  }

  private reason(): Error {
    return new HttpError(503, ErrorCode.timeout, 'the server did not answer in time');
  }

  fire(): void {
    this.active = false;
    const res = this.res;
    if (res.writableEnded) return; // answered without cancel(): nothing to do
    this.timedOut = true;
    try { this.opts.onTimeout?.(); } catch { /* logging must not stop the answer */ }
    this.controller?.abort(this.reason()); // the handler stops its work, client or not
    if (res.destroyed) return; // the client is gone
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, new HttpError(503, ErrorCode.timeout,
      `the request did not complete within ${Math.round(this.ms / 1000)} s; the player or backend may be busy`, { retryAfterSeconds: 5 }),
    this.opts.requestId);
  }
}

/**
 * Give this request `ms` (default 30 s) to be answered. Call `cancel()` when
 * the handler is done (in a finally); a forgotten cancel costs nothing but
 * memory until the deadline, when an answered response is left alone.
 */
export function startRequestTimeout(res: ServerResponse, opts: RequestTimeoutOptions): RequestTimer {
  const ms = opts.ms ?? REQUEST_TIMEOUT_MS;
  if (!(ms > 0) || !Number.isFinite(ms)) throw new RangeError('request timeout must be a positive number of ms');
  return new Entry(res, ms, opts);
}

/** Requests currently holding a deadline (for tests and shutdown diagnostics). */
export function pendingRequestTimeouts(): number {
  let n = 0;
  for (const set of pending.values()) n += set.size;
  return n;
}

export interface ServerTimeouts {
  /** Time to receive the complete request headers (default 10 s: slowloris). */
  headersTimeoutMs?: number;
  /** Time to receive the complete request, headers and body (default 30 s). */
  requestTimeoutMs?: number;
  /** Idle time before a keep-alive connection is closed (default 5 s). */
  keepAliveTimeoutMs?: number;
  /** Most headers accepted per request (default 100). */
  maxHeadersCount?: number;
}

/**
 * Apply node's connection-level limits. WebSocket connections are detached
 * from the HTTP server after the upgrade, so these do not cut them.
 */
export function configureServerTimeouts(server: Server, t: ServerTimeouts = {}): void {
  const requestTimeout = t.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(t.headersTimeoutMs ?? 10_000, requestTimeout);
  server.requestTimeout = requestTimeout;
  server.headersTimeout = headersTimeout;
  server.keepAliveTimeout = t.keepAliveTimeoutMs ?? 5_000;
  server.maxHeadersCount = t.maxHeadersCount ?? 100;
  // No socket idle timeout: streams and long polls are the handlers' business.
  server.timeout = 0;
}
