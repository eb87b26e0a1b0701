import { spawn, type ChildProcess } from 'node:child_process';
import { toolEnv } from './exec.js';
import type { MixerName } from './types.js';

/** Windows reports volume changes through its helper (loaded only there). */
function watchWindows(env: NodeJS.ProcessEnv, timeoutMs: number, onChange: () => void): () => void {
  let stop: (() => void) | undefined;
  let stopped = false;
  void import('./windows.js').then((m) => { if (!stopped) stop = m.watchWindowsVolume(env, timeoutMs, onChange); });
  return () => { stopped = true; stop?.(); };
}

/**
 * Calls `onChange` when the system mixer may have changed, without polling:
 * `pactl subscribe` for PulseAudio (and PipeWire's pulse server). Other
 * mixers have no cheap event source; for them this returns a no-op and the
 * caller re-reads after its own changes and on player events. When the
 * sound server goes away (pactl subscribe exits), `onChange` is called too,
 * and again after a reconnect, until the new subscription is listening.
 * The child is killed by the returned stop function.
 */
export function watchMixer(backend: MixerName, env: NodeJS.ProcessEnv, onChange: () => void, timeoutMs = 3000): () => void {
  if (backend === 'windows') return watchWindows(env, timeoutMs, onChange);
  if (backend !== 'pulse') return () => {};
  let child: ChildProcess | undefined;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let backoff = 1000;
  let settleTimer: NodeJS.Timeout | undefined;
  const start = () => {
    child = spawn('pactl', ['subscribe'], { env: toolEnv(env), stdio: ['ignore', 'pipe', 'ignore'] });
    // A change made before the subscription is active raises no event (pactl says nothing when it
    // is ready), so re-read until it shows it is listening: each re-read connects a client to the
    // sound server, which an active subscription reports. The first line it prints proves it is
    // active; one more re-read then covers anything between the last one and that moment.
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
      // The server went away: re-read now (so nobody is served the volume of a mixer that is gone),
      // and try again later, backing off to at most once a minute.
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
