/**
 * The page's calls to the API: same origin, the session cookie (HttpOnly,
 * never seen here), and the X-Mediagate-CSRF header every cookie-authenticated
 * request must carry. Errors come back as ApiFailure with the server's code.
 *
 * Every URL is relative to the page (`/api/status` is asked as `api/status`),
 * so the remote works wherever it is served: at the root, or under a reverse
 * proxy's sub-path (server.publicUrl https://host/mediagate).
 */

/** `path` (`/api/…`) under the directory this page is served from. */
export function here(path: string): string {
  return new URL(`./${path.replace(/^\/+/, '')}`, document.baseURI).href;
}
export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly hint?: string, readonly retryAfter?: number) {
    super(message);
  }
}

/**
 * How far this device's clock is ahead of the server's, in ms, from the
 * Date header (1 s resolution: differences under 2 s are taken as none).
 * Positions are stamped with the server's clock.
 */
export let clockSkewMs = 0;

function noteServerDate(date: string | null): void {
  const server = date ? Date.parse(date) : NaN;
  if (!Number.isFinite(server)) return;
  const skew = Date.now() - server;
  clockSkewMs = Math.abs(skew) < 2000 ? 0 : skew;
}

export async function api<T = unknown>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'x-mediagate-csrf': '1', accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(here(path), {
      method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiFailure(0, 'network', 'Cannot reach the server.');
  }
  noteServerDate(res.headers.get('date'));
  const text = await res.text().catch(() => '');
  let json: unknown = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; hint?: string } } | null)?.error;
    const retry = Number(res.headers.get('retry-after'));
    throw new ApiFailure(res.status, e?.code ?? `http.${res.status}`, e?.message ?? `The server answered ${res.status}.`, e?.hint, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  }
  return json as T;
}

/** Shapes the API answers (the subset the page reads). */
export interface Status {
  player: string;
  status: 'playing' | 'paused' | 'stopped';
  title: string | null;
  artist: string | null;
  album: string | null;
  duration: number | null;
  position: number | null;
  positionUpdatedAt: string | null;
  volume: number | null;
  capabilities: { canPlay: boolean; canPause: boolean; canSeek: boolean; canGoNext: boolean; canGoPrevious: boolean; canSetVolume: boolean; canControl: boolean };
  artwork: string | null;
}

export interface Volume { level: number; muted: boolean; target: string; backend: string }
export interface PlayerRow { name: string; status: string; title: string | null; active: boolean }
export interface WhoAmI { id: string; label: string; scope: 'read' | 'control' | 'admin'; expiresAt: string | null }
export interface Folder { name: string; available: boolean }
export interface Entry { name: string; path: string; type: string; playable: boolean }
export interface Listing { folder: string; path: string; entries: Entry[]; total: number; nextOffset: number | null }

/** "Try again in 12 minutes" from a Retry-After in seconds. */
export function waitText(seconds: number | undefined): string {
  if (seconds === undefined) return 'Try again later.';
  if (seconds < 90) return `Try again in ${Math.ceil(seconds)} seconds.`;
  return `Try again in ${Math.ceil(seconds / 60)} minutes.`;
}
