import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NoPlayerError } from '../errors.js';

const FIX_HINT =
  'from cron or ssh set DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$(id -u)/bus ' +
  '(the bus of the desktop session that runs the player)';

/**
 * The D-Bus session bus address, found the way desktop tools find it:
 * DBUS_SESSION_BUS_ADDRESS if set, else `$XDG_RUNTIME_DIR/bus` when that socket exists.
 * Throws NoPlayerError (`mpris.no_bus`) with a hint when neither is there.
 */
export function sessionBusAddress(env: NodeJS.ProcessEnv): string {
  const fromEnv = env.DBUS_SESSION_BUS_ADDRESS?.trim();
  if (fromEnv) return fromEnv;
  const runtimeDir = env.XDG_RUNTIME_DIR?.trim();
  if (runtimeDir) {
    const socket = join(runtimeDir, 'bus');
    if (existsSync(socket)) return `unix:path=${socket}`;
    throw new NoPlayerError(
      `no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus (${socket}) does not exist`,
      FIX_HINT, 'mpris.no_bus');
  }
  throw new NoPlayerError(
    'no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR are both unset',
    FIX_HINT, 'mpris.no_bus');
}

/** Where a bus address says to connect. */
export type BusTarget =
  | { kind: 'unix'; path: string; abstract: boolean }
  | { kind: 'tcp'; host: string; port: number };

/**
 * Parse a D-Bus server address (`unix:path=/run/user/1000/bus,guid=…;tcp:…`) into
 * the first entry a client can connect to. Values are percent-unescaped as the
 * D-Bus specification says. Listen-only or unsupported transports are skipped;
 * when nothing is left, throws NoPlayerError (`mpris.bad_address`).
 */
export function parseBusAddress(address: string): BusTarget {
  for (const entry of address.split(';')) {
    const colon = entry.indexOf(':');
    if (colon <= 0) continue;
    const transport = entry.slice(0, colon);
    const params = new Map<string, string>();
    let ok = true;
    for (const pair of entry.slice(colon + 1).split(',')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) { ok = false; break; }
      try {
        params.set(pair.slice(0, eq), decodeURIComponent(pair.slice(eq + 1)));
      } catch {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (transport === 'unix') {
      const path = params.get('path');
      if (path) return { kind: 'unix', path, abstract: false };
      const abstract = params.get('abstract');
      if (abstract) return { kind: 'unix', path: abstract, abstract: true };
    } else if (transport === 'tcp') {
      const port = Number(params.get('port'));
      if (Number.isInteger(port) && port > 0 && port < 65536) {
        return { kind: 'tcp', host: params.get('host') || 'localhost', port };
      }
    }
  }
  throw new NoPlayerError(
    `the D-Bus address "${address}" names no transport mediagate can connect to`,
    'use a unix:path=… (or unix:abstract=…, tcp:host=…,port=…) address in DBUS_SESSION_BUS_ADDRESS',
    'mpris.bad_address');
}
