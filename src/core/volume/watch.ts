import { spawn, type ChildProcess } from 'node:child_process';
import { toolEnv } from './exec.js';
import type { MixerName } from './types.js';

/**
 * Calls `onChange` when the system mixer may have changed, without polling:
 * `pactl subscribe` for PulseAudio (and PipeWire's pulse server). Other
 * mixers have no cheap event source; for them this returns a no-op and the
 * caller re-reads after its own changes and on player events. When the
 * sound server goes away (pactl subscribe exits), `onChange` is called too,
 * and once more after a successful reconnect.
 * The child is killed by the returned stop function.
 */
export function watchMixer(backend: MixerName, env: NodeJS.ProcessEnv, onChange: () => void): () => void {
  if (backend !== 'pulse') return () => {};
  let child: ChildProcess | undefined;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let backoff = 1000;
  let settleTimer: NodeJS.Timeout | undefined;
  const start = (restarted = false) => {
    child = spawn('pactl', ['subscribe'], { env: toolEnv(env), stdio: ['ignore', 'pipe', 'ignore'] });
    if (restarted) {
      // Reconnected after an outage: the volume may have moved meanwhile, and no event says so.
      const c = child;
      settleTimer = setTimeout(() => { if (!stopped && c.exitCode === null && c.signalCode === null) onChange(); }, 300);
      settleTimer.unref();
    }
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
      }
      if (hit) onChange();
    });
    child.on('error', () => { /* reported through exit */ });
    child.on('exit', () => {
      if (stopped) return;
      // The server went away: re-read now (so nobody is served the volume of a mixer that is gone),
      // and try again later, backing off to at most once a minute.
      onChange();
      restartTimer = setTimeout(() => start(true), backoff);
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
