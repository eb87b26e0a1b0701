import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UNIT_NAME, type ServiceMode } from './unit.js';

type Env = NodeJS.ProcessEnv;

/**
 * Where the service's files go. MEDIAGATE_SYSTEMD_ROOT=DIR works on the tree
 * under DIR instead of `/`, offline, as `systemctl --root` does (image
 * building, and the tests): files are written there, the system service is
 * enabled with `systemctl --root`, and no service manager is asked.
 */
export interface ServiceLocation {
  mode: ServiceMode;
  /** The offline root, or undefined for the live system. */
  root: string | undefined;
  /** Absolute path of the unit file (under the root, when there is one). */
  unitPath: string;
  /** The sysusers.d file that creates the system service's account. */
  sysusersPath: string | undefined;
}

export function offlineRoot(env: Env): string | undefined {
  return env.MEDIAGATE_SYSTEMD_ROOT || undefined;
}

const under = (root: string | undefined, p: string) => (root ? join(root, p) : p);

/** The user unit directory: $XDG_CONFIG_HOME/systemd/user (~/.config/systemd/user). */
export function userUnitDir(env: Env): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'systemd', 'user');
}

export function serviceLocation(mode: ServiceMode, env: Env): ServiceLocation {
  const root = offlineRoot(env);
  if (mode === 'system') {
    return { mode, root, unitPath: under(root, join('/etc/systemd/system', UNIT_NAME)), sysusersPath: under(root, '/etc/sysusers.d/mediagate.conf') };
  }
  return { mode, root, unitPath: under(root, join(userUnitDir(env), UNIT_NAME)), sysusersPath: undefined };
}

/**
 * Whether systemd is the init. On the live system as sd_booted() decides:
 * /run/systemd/system exists. Under an offline root: whether that tree has
 * systemd installed (its /usr/lib/systemd/systemd), or is a booted one. Else
 * what PID 1 is, for the message.
 */
export function initSystem(env: Env): { systemd: boolean; pid1: string } {
  const root = offlineRoot(env);
  const marks = root ? ['/run/systemd/system', '/usr/lib/systemd/systemd', '/lib/systemd/systemd'] : ['/run/systemd/system'];
  if (marks.some((m) => existsSync(under(root, m)))) return { systemd: true, pid1: 'systemd' };
  if (root) return { systemd: false, pid1: `no systemd under ${root}` };
  let pid1 = 'unknown';
  try { pid1 = readFileSync('/proc/1/comm', 'utf8').trim() || pid1; } catch { /* not Linux, or no /proc */ }
  return { systemd: false, pid1 };
}
