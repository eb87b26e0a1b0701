import { existsSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeCrypto } from '../lazy-builtins.js';
import { ensurePrivateDir, stateDir } from '../paths.js';
import { writeFileAtomic } from '../state/atomic.js';

/** How many pictures are kept; older ones are removed. */
const KEEP = 16;
const MAX_BYTES = 10 * 1024 * 1024;
const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/jpg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };

/**
 * Artwork that a backend receives as bytes (macOS Now Playing, Windows media
 * sessions), written once per track to a private file in the state dir
 * (`artwork/`, dir 0700, files 0600) and reported as a file:// artUrl — the
 * form MPRIS players use, which `serve` already serves through its signed
 * artwork links. A track's picture is fetched only when its file is not
 * there yet: once per track, not once per status read.
 */
export class ArtworkCache {
  private readonly dir: string;

  constructor(env: NodeJS.ProcessEnv) {
    this.dir = join(stateDir(env), 'artwork');
  }

  /** A stable key for one track of one player. */
  static key(backend: string, player: string, title: string | null, artist: string | null, album: string | null): string {
    return nodeCrypto().createHash('sha256').update(JSON.stringify([backend, player, title, artist, album])).digest('hex').slice(0, 32);
  }

  /** The file:// URL of a track's cached picture, if it is there. */
  get(key: string): string | null {
    for (const ext of new Set(Object.values(EXT))) {
      const path = join(this.dir, `${key}.${ext}`);
      if (existsSync(path)) return pathToFileURL(path).href;
    }
    return null;
  }

  /**
   * Store a picture (base64 or bytes) for `key`; its file:// URL, or null when
   * it is not a picture type we keep, or too large.
   */
  put(key: string, data: Buffer | string, mimeType: string | null | undefined): string | null {
    const ext = EXT[(mimeType ?? '').toLowerCase()] ?? sniff(typeof data === 'string' ? Buffer.from(data.slice(0, 32), 'base64') : data);
    if (!ext) return null;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : data;
    if (bytes.length === 0 || bytes.length > MAX_BYTES) return null;
    ensurePrivateDir(this.dir);
    const path = join(this.dir, `${key}.${ext}`);
    if (!existsSync(path)) writeFileAtomic(path, bytes);
    this.prune();
    return pathToFileURL(path).href;
  }

  private prune(): void {
    let files: { path: string; mtime: number }[];
    try {
      files = readdirSync(this.dir).filter((n) => /^[0-9a-f]{32}\.[a-z]+$/.test(n))
        .map((n) => { const path = join(this.dir, n); return { path, mtime: statSync(path).mtimeMs }; });
    } catch { return; }
    files.sort((a, b) => b.mtime - a.mtime);
    for (const f of files.slice(KEEP)) { try { unlinkSync(f.path); } catch { /* gone */ } }
  }
}

function sniff(b: Buffer): string | undefined {
  if (b[0] === 0x89 && b[1] === 0x50) return 'png';
  if (b[0] === 0xff && b[1] === 0xd8) return 'jpg';
  if (b.toString('latin1', 0, 3) === 'GIF') return 'gif';
  if (b.toString('latin1', 0, 4) === 'RIFF') return 'webp';
  return undefined;
}
