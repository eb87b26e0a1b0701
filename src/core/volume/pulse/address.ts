import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { NoPlayerError } from '../../errors.js';
import { COOKIE_LENGTH } from './protocol.js';

/**
 * Where the PulseAudio server is, as libpulse would look for it: the
 * unix sockets we can talk to natively, in order; or `other` when the
 * first server libpulse would try is not a unix socket (TCP, a host name),
 * which is left to pactl.
 */
export type PulseAddress =
  | { kind: 'unix'; paths: string[] }
  | { kind: 'other'; reason: string };

function machineId(): string | undefined {
  for (const f of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try { return readFileSync(f, 'utf8').trim(); } catch { /* next */ }
  }
  return undefined;
}

/**
 * PULSE_SERVER is a space-separated list tried in order. An entry is
 * `unix:/path`, an absolute path, or a TCP form (`tcp:host:port`,
 * `tcp4:`, `tcp6:`, `host`, `[v6]`), optionally prefixed by
 * `{machine-id}` (skipped on other machines). The unix entries up to the
 * first other kind are ours; if that other kind comes first, pactl
 * handles the whole list. Without PULSE_SERVER: `$XDG_RUNTIME_DIR/pulse/native`.
 */
export function pulseAddress(env: NodeJS.ProcessEnv): PulseAddress {
  const list = env.PULSE_SERVER?.trim();
  if (list) {
    const paths: string[] = [];
    let local: string | undefined | null = null;
    for (const raw of list.split(/\s+/)) {
      let entry = raw;
      const m = /^\{([^}]*)\}(.*)$/.exec(entry);
      if (m) {
        if (local === null) local = machineId();
        if (m[1] !== local) continue;
        entry = m[2]!;
      }
      const path = entry.startsWith('unix:') ? entry.slice(5) : entry;
      if (isAbsolute(path)) { paths.push(path); continue; }
      if (paths.length) break;
      return { kind: 'other', reason: 'PULSE_SERVER names a server that is not a unix socket' };
    }
    if (paths.length) return { kind: 'unix', paths };
    return { kind: 'other', reason: 'PULSE_SERVER names no server for this machine' };
  }
  if (env.XDG_RUNTIME_DIR) return { kind: 'unix', paths: [join(env.XDG_RUNTIME_DIR, 'pulse', 'native')] };
  return { kind: 'other', reason: 'XDG_RUNTIME_DIR is not set' };
}

/**
 * The 256-byte authentication cookie: the file PULSE_COOKIE names, else
 * the first of $XDG_CONFIG_HOME/pulse/cookie, ~/.config/pulse/cookie,
 * ~/.pulse-cookie that exists; else zeros (a server on a same-user socket
 * accepts us by our credentials, one with auth-anonymous by anything).
 * A cookie file that is there but unreadable or not 256 bytes is an error
 * naming the file — never its content.
 */
export function pulseCookie(env: NodeJS.ProcessEnv): Buffer {
  const home = env.HOME || homedir();
  const candidates = env.PULSE_COOKIE
    ? [env.PULSE_COOKIE]
    : [env.XDG_CONFIG_HOME && join(env.XDG_CONFIG_HOME, 'pulse', 'cookie'), join(home, '.config', 'pulse', 'cookie'), join(home, '.pulse-cookie')].filter((p): p is string => !!p);
  for (const file of candidates) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !env.PULSE_COOKIE) continue;
      throw new NoPlayerError(`cannot read the PulseAudio cookie ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, 'check PULSE_COOKIE and the file\'s permissions', 'volume.cookie_unreadable');
    }
    if (data.length < COOKIE_LENGTH) {
      throw new NoPlayerError(`the PulseAudio cookie ${file} is ${data.length} bytes, not ${COOKIE_LENGTH}`, 'point PULSE_COOKIE at the server\'s cookie file', 'volume.cookie_invalid');
    }
    return data.subarray(0, COOKIE_LENGTH);
  }
  return Buffer.alloc(COOKIE_LENGTH);
}
