/**
 * Sub-path deployments: `server.publicUrl` = `https://host/mediagate` puts
 * the whole server (web remote, API, WebSocket) under `/mediagate`.
 *
 * - Links the server makes (artwork URLs, the cookie's Path) carry the path.
 * - Requests may arrive with it (a proxy that passes the path on, or a
 *   client talking to serve directly at its public path) or without it (a
 *   proxy that strips it: nginx `proxy_pass http://127.0.0.1:8420/;`); both
 *   are served. `/mediagate` alone is redirected to `/mediagate/`, where the
 *   web remote's relative links resolve.
 * - The web remote uses only relative URLs, so it works under any path.
 */

/** The path of a public URL without its trailing slash: '' at the root, '/mediagate' on a sub-path. */
export function basePathOf(publicUrl: string | undefined): string {
  if (!publicUrl) return '';
  let path: string;
  try { path = new URL(publicUrl).pathname; } catch { return ''; }
  return path.replace(/\/+$/, '');
}

export type BasePathMatch =
  | { kind: 'inside'; url: string }
  | { kind: 'bare' }
  | { kind: 'outside' };

/** Where request target `url` stands relative to `base`: inside it (the rest), exactly it (redirect), or elsewhere. */
export function matchBasePath(url: string | undefined, base: string): BasePathMatch {
  const u = url ?? '';
  if (base === '' || !u.startsWith(base)) return { kind: 'outside' };
  const next = u.charAt(base.length);
  if (next === '/') return { kind: 'inside', url: u.slice(base.length) };
  if (next === '' || next === '?') return { kind: 'bare' };
  return { kind: 'outside' };
}
