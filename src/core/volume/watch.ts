import type { ChildProcess } from 'node:child_process';
import { DEFAULT_BACKEND_TIMEOUT_MS } from '../timeout.js';
import { toolEnv } from './exec.js';
import { watchPulse } from './pulse/watch.js';
import type { MixerName, VolumeReading } from './types.js';

/** Windows reports volume changes through its helper (loaded only there). */
function watchWindows(env: NodeJS.ProcessEnv, timeoutMs: number, onChange: () => void): () => void {
  let stop: (() => void) | undefined;
  let stopped = false;
  void import('./windows.js').then((m) => { if (!stopped) stop = m.watchWindowsVolume(env, timeoutMs, onChange); });
  return () => { stopped = true; stop?.(); };
}

/**
 * Calls `onChange` when the system mixer may have changed, without polling.
 * PulseAudio (and PipeWire's pulse server): natively, over a subscribed
 * connection to its socket, passing the new reading; `pactl subscribe` for
 * a server the native client cannot use (TCP, a socket that does not speak
 * the protocol), passing none. Without a reading the caller re-reads. Other
 * mixers have no cheap event source; for them this returns a no-op and the
 * caller re-reads after its own changes and on player events. When the sound
 * server goes away `onChange` is called too, and again once it is back.
 */
export function watchMixer(backend: MixerName, env: NodeJS.ProcessEnv, onChange: (reading?: VolumeReading) => void, timeoutMs = DEFAULT_BACKEND_TIMEOUT_MS): () => void {
  if (backend === 'windows') return watchWindows(env, timeoutMs, () => onChange());
  if (backend !== 'pulse') return () => {};
  let stopped = false;
  let stopPactl: (() => void) | undefined;
  const stopPulse = watchPulse({
    env,
    timeoutMs,
    onChange,
    onUnusable: () => {
      if (!stopped && !stopPactl) stopPactl = watchPactl(env, () => onChange());
    },
  });
  return () => { stopped = true; stopPulse(); stopPactl?.(); };
}

/**
 * `pactl subscribe`: re-read until it shows it is listening (a change made
 * before the subscription is active raises no event, and pactl says nothing
 * when it is ready; each re-read connects a client, which an active
 * subscription reports). When pactl exits (the server went away), `onChange`
 * is called and pactl started again, backing off to once a minute. The
 * child is killed by the returned stop function. (node:child_process is
 * loaded on the first start, not with the module: `volume` never needs it.)
 */
export function watchPactl(env: NodeJS.ProcessEnv, onChange: () => void): () => void {
  let spawn: typeof import('node:child_process').spawn | undefined;
  let child: ChildProcess | undefined;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let backoff = 1000;
  let settleTimer: NodeJS.Timeout | undefined;
  const start = () => {
    if (!spawn) {
      void import('node:child_process').then((m) => { spawn = m.spawn; if (!stopped) start(); });
      return;
    }
    child = spawn('pactl', ['subscribe'], { env: toolEnv(env), stdio: ['ignore', 'pipe', 'ignore'] });
    const c = child;
    let active = false;
    let tries = 0;
    const settle = () => {
      if (stopped || active || c.exitCode !== null || c.signalCode !== null || tries++ >= 40) return;
      onChange();
      settleTimer = setTimeout(settle, 250);
      settleTimer.unref();
    };
    settleTimer = setTimeout(settle, 100);
    settleTimer.unref();
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i;
      let hit = false;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (/on (sink|server) /.test(line)) hit = true;
        backoff = 1000;
        if (!active) { active = true; clearTimeout(settleTimer); hit = true; }
      }
      if (hit) onChange();
    });
    child.on('error', () => { /* reported through exit */ });
    child.on('exit', () => {
      if (stopped) return;
      onChange();
      restartTimer = setTimeout(start, backoff);
      restartTimer.unref();
      backoff = Math.min(backoff * 2, 60000);
    });
  };
  start();
  return () => {
    stopped = true;
    clearTimeout(restartTimer);
    clearTimeout(settleTimer);
    child?.kill();
  };
}
