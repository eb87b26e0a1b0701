/**
 * The web remote's files (built by scripts/web-build.js into dist/web/),
 * held in memory and answered with the right headers:
 *
 * - pages (`/`, `/connect`): `Cache-Control: no-store` and PAGE_CSP, which
 *   allows this server's own scripts, styles, images and connections and
 *   nothing else — no inline script or style, no other origin, no framing,
 *   forms only to this server, no <base>, Trusted Types for script sinks;
 * - hashed assets (`/assets/NAME.HASH.EXT`): `public, max-age=31536000,
 *   immutable` — a new build has new names, so they never need revalidating;
 * - the web app manifest: `no-cache` (its URL is fixed, its `id` too).
 *
 * Compression (BREACH): only the hashed assets (scripts, styles, icons —
 * the same bytes for everyone, no secret, no reflected input) are sent
 * gzip-compressed, when the build made a smaller variant and the client
 * accepts it. Pages and the manifest are sent as they are, and so is every
 * API answer (respond.ts never compresses): nothing that could carry a
 * token, invite code or anything a request put in is ever compressed.
 * Nothing is read from disk after start.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
  "base-uri 'none'",
  "require-trusted-types-for 'script'",
].join('; ');

export const CACHE = {
  page: 'no-store',
  immutable: 'public, max-age=31536000, immutable',
  manifest: 'no-cache',
} as const;
export type CacheClass = keyof typeof CACHE;

/** One entry of dist/web/assets.json, as scripts/web-build.js writes it. */
export interface AssetEntry {
  /** URL path: `/`, `/connect`, `/manifest.webmanifest`, `/assets/remote.1a2b3c4d5e.js`. */
  path: string;
  /** File under dist/web. */
  file: string;
  /** Its gzip variant under dist/web, when smaller. */
  gzip?: string;
  type: string;
  cache: CacheClass;
}

export interface WebAsset {
  readonly path: string;
  readonly type: string;
  readonly cache: CacheClass;
  readonly body: Buffer;
  readonly gzip: Buffer | null;
}

/** Where the build puts the web remote, next to dist/server. */
export const WEB_DIR = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'web');
export const ASSET_MANIFEST = 'assets.json';

function isEntry(e: unknown): e is AssetEntry {
  const a = e as AssetEntry;
  return !!a && typeof a.path === 'string' && a.path.startsWith('/') && typeof a.file === 'string' && !a.file.includes('..')
    && (a.gzip === undefined || (typeof a.gzip === 'string' && !a.gzip.includes('..')))
    && typeof a.type === 'string' && Object.prototype.hasOwnProperty.call(CACHE, a.cache);
}

export class WebAssets {
  private readonly byPath = new Map<string, WebAsset>();

  constructor(assets: readonly WebAsset[]) {
    for (const a of assets) this.byPath.set(a.path, a);
  }

  /** Load every file listed in `dir`/assets.json; null when the web remote was not built. */
  static load(dir = WEB_DIR): WebAssets | null {
    let list: unknown;
    try {
      list = JSON.parse(readFileSync(join(dir, ASSET_MANIFEST), 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`the web remote's ${ASSET_MANIFEST} cannot be read: ${(e as Error).message}`);
    }
    const files = (list as { files?: unknown })?.files;
    if (!Array.isArray(files) || !files.every(isEntry)) throw new Error(`the web remote's ${ASSET_MANIFEST} is malformed; rebuild with npm run build`);
    return new WebAssets(files.map((f) => ({
      path: f.path,
      type: f.type,
      cache: f.cache,
      body: readFileSync(join(dir, f.file)),
      gzip: f.gzip ? readFileSync(join(dir, f.gzip)) : null,
    })));
  }

  get(path: string): WebAsset | undefined {
    return this.byPath.get(path);
  }

  paths(): string[] {
    return [...this.byPath.keys()];
  }
}

/** Does Accept-Encoding allow gzip (present, and not q=0)? */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name !== 'gzip' && name !== 'x-gzip') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/** May `asset` be sent compressed? Only the immutable, hashed assets (see the top of this file). */
export function compressible(asset: WebAsset): boolean {
  return asset.gzip !== null && asset.cache === 'immutable';
}

/** Answer `asset` (HEAD: headers only — node leaves the body out). */
export function sendAsset(req: IncomingMessage, res: ServerResponse, asset: WebAsset): void {
  const mayGzip = compressible(asset);
  const gzip = mayGzip && acceptsGzip(req.headers['accept-encoding']);
  const body = gzip ? asset.gzip! : asset.body;
  const headers = [
    'content-type', asset.type,
    'content-length', String(body.length),
    'cache-control', CACHE[asset.cache],
    'vary', mayGzip ? 'Origin, Accept-Encoding' : 'Origin',
  ];
  if (gzip) headers.push('content-encoding', 'gzip');
  if (asset.cache === 'page') {
    headers.push('content-security-policy', PAGE_CSP, 'cross-origin-opener-policy', 'same-origin', 'cross-origin-resource-policy', 'same-origin');
  }
  res.writeHead(200, headers);
  res.end(body);
}
