/**
 * Remote profiles: named servers for `--remote NAME`, kept in config as
 *
 *   remotes.<name>.url     http(s) URL of the server
 *   remotes.<name>.token   its token, sealed (nacl:v1:…) like every secret
 *   remotes.<name>.ca      optional CA certificate file (PEM) for its TLS
 *   remote.default         the profile used when no --remote is given
 *   remote.timeoutMs       time limit of one request (default 10 s)
 *
 * Which server a command talks to, first match wins:
 *   1. --remote NAME           (`--remote local` = this machine)
 *   2. MEDIAGATE_REMOTE=NAME   (set but empty, or `local` = this machine)
 *   3. config remote.default
 *   4. this machine
 *
 * This file is cheap to import (the hot commands ask it on every run); the
 * secret store is loaded only when a profile is actually used.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../core/config/store.js';
import { ConfigError, UsageError } from '../core/errors.js';
import type { ServerTarget } from './http.js';

/** The name that always means this machine. */
export const LOCAL = 'local';
export const PROFILE_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface ResolvedRemote {
  name: string;
  /** Where the name came from, for messages. */
  from: '--remote' | 'MEDIAGATE_REMOTE' | 'remote.default';
}

/**
 * The remote profile a command should use, or undefined for this machine.
 * `flag` is the --remote value (Ctx.remote, which already falls back to a
 * non-empty MEDIAGATE_REMOTE).
 */
export function resolveRemote(flag: string | undefined, env: NodeJS.ProcessEnv, config: Config): ResolvedRemote | undefined {
  const fromEnv = env.MEDIAGATE_REMOTE;
  if (flag !== undefined && flag !== '') {
    if (flag === LOCAL) return undefined;
    return { name: flag, from: fromEnv !== undefined && fromEnv === flag ? 'MEDIAGATE_REMOTE' : '--remote' };
  }
  if (fromEnv !== undefined) return fromEnv === '' || fromEnv === LOCAL ? undefined : { name: fromEnv, from: 'MEDIAGATE_REMOTE' };
  const dflt = config.get<string>('remote.default');
  if (typeof dflt === 'string' && dflt !== '') return { name: dflt, from: 'remote.default' };
  return undefined;
}

/** Profile names in config, sorted. */
export function profileNames(config: Config): string[] {
  const names = new Set<string>();
  for (const [k] of config.childrenOf('remotes')) names.add(k.split('.')[0]!);
  return [...names].sort();
}

export function checkProfileName(name: string, what = 'remote profile name'): string {
  if (name === LOCAL) throw new UsageError(`'${LOCAL}' is reserved: it means this machine (--remote local)`, 'pick another name', 'usage.invalid_profile');
  if (!PROFILE_NAME_RE.test(name)) {
    throw new UsageError(`invalid ${what} '${name.slice(0, 80)}': use 1–64 letters, digits, _ or -`, undefined, 'usage.invalid_profile');
  }
  return name;
}

/** A base URL for a server: http(s), no credentials, query or fragment; trailing slashes dropped. */
export function parseBaseUrl(text: string, what = 'URL'): URL {
  let u: URL;
  try { u = new URL(text); } catch {
    throw new UsageError(`invalid ${what} '${text.slice(0, 200)}': expected something like https://media.example.org or http://127.0.0.1:8420`, undefined, 'usage.invalid_url');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`invalid ${what}: must start with http:// or https://`, undefined, 'usage.invalid_url');
  if (u.username || u.password) throw new UsageError(`the ${what} must not contain a user name or password (the token is given separately)`, undefined, 'usage.invalid_url');
  if (u.search || u.hash) throw new UsageError(`the ${what} must not have a query or fragment`, undefined, 'usage.invalid_url');
  u.pathname = u.pathname.replace(/\/+$/, '') || '/';
  return u;
}

/** Loopback host (127.0.0.0/8, ::1, localhost): plain http there never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/** Read a CA file (PEM); a ConfigError naming the file when it is missing or not PEM. */
export function readCa(path: string, key: string): string {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    throw new ConfigError(`cannot read the CA certificate ${path} (${key}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      `fix the path with: mediagate config set ${key} /path/to/ca.pem`, 'config.ca_unreadable');
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`${path} (${key}) is not a PEM certificate`, 'give the CA certificate in PEM form (-----BEGIN CERTIFICATE-----)', 'config.ca_invalid');
  }
  return text;
}

export function timeoutFrom(config: Config): number {
  const ms = config.get<number>('remote.timeoutMs');
  return typeof ms === 'number' && ms > 0 ? ms : DEFAULT_TIMEOUT_MS;
}

/**
 * The server and token of profile `r`. An unknown name is a usage error
 * (exit 2) when typed, a config error (exit 5) when it came from config.
 */
export async function loadProfile(config: Config, r: ResolvedRemote, env: NodeJS.ProcessEnv): Promise<ServerTarget> {
  const { name } = r;
  const urlKey = `remotes.${name}.url`;
  if (!PROFILE_NAME_RE.test(name) || !config.has(urlKey)) {
    const known = profileNames(config);
    const list = known.length ? `known profiles: ${known.join(', ')}` : 'there are none yet';
    const msg = `no remote profile '${name.slice(0, 80)}' (from ${r.from}); ${list}`;
    const hint = `add it with: mediagate remote add ${PROFILE_NAME_RE.test(name) ? name : 'NAME'} URL — or use --remote local for this machine`;
    if (r.from === 'remote.default') throw new ConfigError(msg, `${hint}; or change the default with: mediagate remote use NAME|--none`, 'config.unknown_remote');
    throw new UsageError(msg, hint, 'usage.unknown_remote');
  }
  const url = parseBaseUrl(String(config.get(urlKey)), urlKey);
  const tokenKey = `remotes.${name}.token`;
  if (!config.has(tokenKey)) {
    throw new ConfigError(`remote profile '${name}' has no token`, `store one with: mediagate remote add ${name} ${url.origin} --force (the token is read from a prompt or stdin)`, 'config.remote_no_token');
  }
  const { readSecret } = await import('../core/secrets.js');
  const token = readSecret(config, tokenKey, env)!;
  const caKey = `remotes.${name}.ca`;
  const caPath = config.get<string>(caKey);
  return {
    url,
    token,
    ...(typeof caPath === 'string' ? { ca: readCa(caPath, caKey) } : {}),
    timeoutMs: timeoutFrom(config),
    profile: name,
  };
}
