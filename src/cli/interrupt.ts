/**
 * Turn SIGINT, SIGTERM and SIGHUP into an AbortSignal while a long action
 * runs (`script run`): the action ends what it started (a script's process
 * group, which Ctrl-C does not reach: it runs in its own group), audits it,
 * and the command exits with 128 + the signal number. Without this, Node's
 * default handling ends mediagate at once — no 'exit' event, nothing killed,
 * nothing audited.
 *
 *   const intr = abortOnSignals();
 *   try { await run(intr.signal); } finally { intr.dispose(); }
 *   if (intr.received) … exit intr.exitCode
 */
const SIGNALS = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
export type CaughtSignal = keyof typeof SIGNALS;

export interface Interrupt {
  /** Aborted (with the signal's name as the reason) on the first signal. */
  signal: AbortSignal;
  /** The first signal received, if any. */
  readonly received: CaughtSignal | null;
  /** 128 + the signal number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP). */
  readonly exitCode: number;
  /** Remove the handlers (Node's default handling is back). */
  dispose(): void;
}

export function abortOnSignals(): Interrupt {
  const ac = new AbortController();
  let received: CaughtSignal | null = null;
  const handlers = (Object.keys(SIGNALS) as CaughtSignal[]).map((sig) => {
    const fn = () => {
      if (received === null) received = sig;
      ac.abort(sig); // a second signal changes nothing: the run is already being ended
    };
    process.on(sig, fn);
    return [sig, fn] as const;
  });
  return {
    signal: ac.signal,
    get received() { return received; },
    get exitCode() { return received ? SIGNALS[received] : 0; },
    dispose() { for (const [sig, fn] of handlers) process.off(sig, fn); },
  };
}
