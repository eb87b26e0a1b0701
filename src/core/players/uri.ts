/** What `play open URI` accepts, and the refusal of a scheme a player (or the server) does not take. Pure. */
import { NoPlayerError, UsageError } from '../errors.js';

export const MAX_URI_LENGTH = 4096;

/** The URI's scheme, lower case (`https`), or undefined for a plain path (`Albums/a.ogg`). */
export function schemeOf(uri: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(uri);
  return m ? m[1]!.toLowerCase() : undefined;
}

/** A URI or path fit to hand to a player: one line, no NUL, not empty, at most MAX_URI_LENGTH characters. */
export function checkUri(uri: unknown): string {
  if (typeof uri !== 'string' || uri.trim() === '') throw new UsageError('the URI to open is empty', undefined, 'usage.invalid_uri');
  if (uri.length > MAX_URI_LENGTH) throw new UsageError(`the URI is longer than ${MAX_URI_LENGTH} characters`, undefined, 'usage.invalid_uri');
  if (/[\0\r\n]/.test(uri)) throw new UsageError('the URI must be one line without NUL characters', undefined, 'usage.invalid_uri');
  return uri;
}

/** `player.unsupported_scheme` (exit 3): the message names the schemes that are accepted. */
export function unsupportedScheme(who: string, scheme: string | undefined, supported: readonly string[], orElse?: string): NoPlayerError {
  const what = scheme === undefined ? 'a plain path (no URI scheme)' : `'${scheme}:' URIs`;
  const list = supported.length ? `it opens: ${supported.join(', ')}` : 'it opens no URIs at all';
  const use = supported.length ? `use a URI starting with ${supported.map((s) => `${s}:`).join(' or ')}` : 'use another player';
  return new NoPlayerError(`${who} does not open ${what}; ${list}`, orElse ? `${use}, ${orElse}` : use, 'player.unsupported_scheme');
}

/**
 * The URI as the audit log records it: never credentials or a query (either
 * may hold a secret, e.g. a token in a stream URL): `https://host/path?…`;
 * a plain path as it is. At most 300 characters.
 */
export function auditUri(uri: string): string {
  let shown = uri;
  try {
    const u = new URL(uri);
    if (u.protocol !== 'file:' || u.host) shown = `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
    else shown = `file://${u.pathname}`;
  } catch { /* a plain path */ }
  return shown.replace(/[\0-\x1f\x7f]/g, '?').slice(0, 300);
}
