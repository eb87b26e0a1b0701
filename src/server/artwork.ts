/**
 * Artwork through short-lived signed URLs.
 *
 * `GET /api/status` answers an `artwork` field: a relative URL
 *
 *   /api/artwork?player=mpv&a=<artwork id>&exp=<unix s>&sig=<HMAC>
 *
 * that an <img> tag can load without a bearer token (browsers cannot set
 * headers on images) — and without ANY durable secret in the URL: `sig` is
 * HMAC-SHA256 over (player, artwork id, expiry) with a key drawn at random
 * when the server starts, so a URL works for ~5 minutes, for that one piece
 * of artwork, on this server run only. The artwork id is a hash of the
 * player's artUrl: once the track (and its art) changes, old URLs answer 404.
 *
 * Only LOCAL artwork is served: a `file://` artUrl (MPRIS players put
 * extracted cover art there), or MPD's cover art for the current song, read
 * from MPD itself (its embedded picture, else cover.* in the song's folder:
 * `readpicture` / `albumart`). http(s) artwork is never fetched by the server
 * — that would let whoever controls a player's metadata make the server
 * request arbitrary URLs on its network (SSRF); clients get that URL in
 * `artUrl` and load it themselves, and `artwork` is null.
 *
 * MPD: whether a song has cover art is known only by asking MPD. When a
 * status answer is made for a new MPD song (its id derived from the song's
 * metadata), the signer asks MPD once in the background (setMpdReader) and
 * gives no link meanwhile; when the answer is a picture, `onKnown` is called
 * (the server then renews status answers and pushes status to WebSocket
 * clients again) and later answers carry the link. So no link is handed out
 * that would answer 404 for a song without a cover. The picture of the
 * latest song is kept in memory (at most ARTWORK_MAX_BYTES) and served from
 * there; what was learned about a few hundred songs is remembered.
 *
 * What is served must be a regular file of at most 10 MiB whose first bytes
 * are PNG, JPEG, WebP or GIF (415 otherwise): a player's metadata cannot turn
 * this into a reader of arbitrary files. The answer has a content-derived
 * ETag (SHA-256) and If-None-Match gets a 304.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { PlayerState } from '../core/players/types.js';
import { ApiError } from './respond.js';

export const ARTWORK_TTL_MS = 5 * 60_000;
export const ARTWORK_MAX_BYTES = 10 * 1024 * 1024;
const MINUTE = 60_000;

export interface SignedUrl {
  url: string | null;
  /** The same URL may be handed out until then (ms since epoch). */
  reuseUntil: number;
}

interface Cached {
  path: string;
  ino: number;
  size: number;
  mtimeMs: number;
  etag: string;
  type: string;
  data: Buffer;
}

/** Content type from the first bytes, or null. */
export function sniffImage(b: Buffer): string | null {
  if (b.length >= 8 && b[0] === 0x89 && b.toString('latin1', 1, 8) === 'PNG\r\n\x1a\n') return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 6 && (b.toString('latin1', 0, 6) === 'GIF87a' || b.toString('latin1', 0, 6) === 'GIF89a')) return 'image/gif';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return null;
}

function artworkId(artUrl: string): string {
  return createHash('sha256').update(artUrl).digest('hex').slice(0, 24);
}

/** The name MPD's player has (core/players/mpd.ts). */
const MPD_PLAYER = 'mpd';

/** What the artwork of `state` is keyed by: its file:// artUrl, MPD's current song, or null (none we serve). */
export function artworkKey(state: PlayerState | undefined): string | null {
  if (!state) return null;
  if (state.artUrl?.startsWith('file://')) return state.artUrl;
  if (state.player === MPD_PLAYER && !state.artUrl && state.status !== 'stopped' && state.title !== null) {
    return `mpd:${JSON.stringify([state.title, state.artist, state.album, state.duration])}`;
  }
  return null;
}

/** An image as served: content type, content-derived ETag, bytes. */
export interface ArtworkImage { etag: string; type: string; data: Buffer }

function imageOf(data: Buffer): ArtworkImage {
  const type = sniffImage(data);
  if (!type) throw new ApiError(415, 'artwork.unsupported_type', 'the artwork is not a PNG, JPEG, WebP or GIF image');
  return { type, data, etag: `"${createHash('sha256').update(data).digest('base64url').slice(0, 32)}"` };
}

export class ArtworkSigner {
  private readonly key = randomBytes(32);
  private cached: Cached | null = null;
  /** The picture of the latest MPD song found to have one. */
  private mpdImage: { id: string; img: ArtworkImage } | null = null;
  /** What MPD said about a song id: it has a picture (true) or none (false). */
  private readonly mpdKnown = new Map<string, boolean>();
  private mpdProbing: string | null = null;
  private mpdReader: ((maxBytes: number) => Promise<{ data: Buffer } | null>) | null = null;
  private onKnown: () => void = () => {};

  constructor(private readonly ttlMs = ARTWORK_TTL_MS) {}

  private sign(player: string, id: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${player}\n${id}\n${exp}`).digest('base64url');
  }

  /**
   * The signed URL for a player's current artwork, or null (no artwork, or
   * not a local file). Expiry is rounded to the minute so the status answer
   * can be reused for up to a minute.
   */
  urlFor(state: PlayerState, nowMs: number): SignedUrl {
    const art = artworkKey(state);
    if (art === null) return { url: null, reuseUntil: Infinity };
    const id = artworkId(art);
    if (!art.startsWith('file://')) {
      const known = this.mpdKnown.get(id);
      if (known === false) return { url: null, reuseUntil: Infinity };
      if (known === undefined) { this.probeMpd(id); return { url: null, reuseUntil: 0 }; }
    }
    const minute = Math.floor(nowMs / MINUTE) * MINUTE;
    const exp = Math.floor((minute + MINUTE + this.ttlMs) / 1000);
    const url = `/api/artwork?player=${encodeURIComponent(state.player)}&a=${id}&exp=${exp}&sig=${this.sign(state.player, id, exp)}`;
    return { url, reuseUntil: minute + MINUTE };
  }

  /** Check a URL's signature and expiry; returns the player and artwork id it names. 403 otherwise. */
  verify(query: URLSearchParams, nowMs: number): { player: string; id: string } {
    const player = query.get('player') ?? '';
    const id = query.get('a') ?? '';
    const expText = query.get('exp') ?? '';
    const sig = query.get('sig') ?? '';
    const bad = (why: string) => new ApiError(403, 'artwork.bad_signature', `this artwork link is ${why}`,
      { hint: 'artwork links are valid for a few minutes: get a fresh one from GET /api/status' });
    if (!/^\d{1,12}$/.test(expText) || !/^[0-9a-f]{24}$/.test(id) || !/^[A-Za-z0-9_-]{43}$/.test(sig) || player.length === 0 || player.length > 256) {
      throw bad('not valid');
    }
    const exp = Number(expText);
    const want = Buffer.from(this.sign(player, id, exp));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) throw bad('not valid');
    if (exp * 1000 <= nowMs) throw bad('expired');
    return { player, id };
  }

  /** Does `state`'s current artwork have this id? */
  isCurrent(state: PlayerState | undefined, id: string): state is PlayerState {
    const key = artworkKey(state);
    return key !== null && artworkId(key) === id;
  }

  /** Is `state`'s artwork MPD's (to be read from MPD), rather than a file? */
  static fromMpd(state: PlayerState): boolean {
    return !state.artUrl?.startsWith('file://');
  }

  /**
   * How MPD's cover art of the current song is read (MpdSource.currentArtwork), and
   * what to call when a song turns out to have one (renew status answers).
   */
  setMpdReader(read: (maxBytes: number) => Promise<{ data: Buffer } | null>, onKnown: () => void): void {
    this.mpdReader = read;
    this.onKnown = onKnown;
  }

  private remember(id: string, has: boolean): void {
    if (this.mpdKnown.size >= 512) this.mpdKnown.clear();
    this.mpdKnown.set(id, has);
  }

  /** Read the current song's picture; null when it has none (or it cannot be served). */
  private async readMpd(): Promise<ArtworkImage | null> {
    if (!this.mpdReader) return null;
    let got: { data: Buffer } | null;
    try {
      got = await this.mpdReader(ARTWORK_MAX_BYTES);
    } catch (e) {
      if ((e as { code?: string })?.code === 'player.artwork_too_large') return null;
      throw e;
    }
    if (got === null) return null;
    try { return imageOf(got.data); } catch { return null; } // not an image we serve
  }

  /** Ask MPD in the background whether song `id` has a picture (one question at a time). */
  private probeMpd(id: string): void {
    if (this.mpdProbing !== null || !this.mpdReader) return;
    this.mpdProbing = id;
    this.readMpd().then((img) => {
      this.remember(id, img !== null);
      if (img) {
        this.mpdImage = { id, img };
        try { this.onKnown(); } catch { /* renewing answers must not break us */ }
      }
    }, () => { /* MPD unreachable: ask again with the next status answer */ }).finally(() => {
      this.mpdProbing = null;
    });
  }

  /** MPD's picture for song `id` (current, checked by the caller): from memory, else read again. 404 without one. */
  async loadMpd(id: string): Promise<ArtworkImage> {
    if (this.mpdImage?.id === id) return this.mpdImage.img;
    const img = await this.readMpd();
    this.remember(id, img !== null);
    if (!img) throw new ApiError(404, 'artwork.not_found', 'this song has no cover art in MPD');
    this.mpdImage = { id, img };
    return img;
  }

  /** Read (or reuse) the image behind a file:// artUrl. */
  async load(artUrl: string): Promise<Cached> {
    const notFound = () => new ApiError(404, 'artwork.not_found', 'the artwork is not available');
    let path: string;
    try { path = fileURLToPath(artUrl); } catch { throw notFound(); }
    let fh;
    try { fh = await open(path, 'r'); } catch { throw notFound(); }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw notFound();
      const c = this.cached;
      if (c && c.path === path && c.ino === st.ino && c.size === st.size && c.mtimeMs === st.mtimeMs) return c;
      if (st.size > ARTWORK_MAX_BYTES) throw new ApiError(404, 'artwork.too_large', 'the artwork file is too large to serve');
      const data = await fh.readFile();
      const { type, etag } = imageOf(data);
      this.cached = { path, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, etag, type, data };
      return this.cached;
    } finally {
      await fh.close().catch(() => {});
    }
  }

  /**
   * The picture of `state`'s current artwork as bytes (the MQTT bridge
   * publishes them), or null when it has none we serve: a file:// artUrl,
   * or MPD's cover art of the current song. The same checks as the HTTP
   * route (an image type, at most ARTWORK_MAX_BYTES).
   */
  async imageFor(state: PlayerState): Promise<ArtworkImage | null> {
    const key = artworkKey(state);
    if (key === null) return null;
    try {
      if (key.startsWith('file://')) {
        const c = await this.load(key);
        return { etag: c.etag, type: c.type, data: c.data };
      }
      return await this.loadMpd(artworkId(key));
    } catch {
      return null;
    }
  }

  /** Answer with the image (200) or 304 when the client has it. */
  static send(res: ServerResponse, img: { etag: string; type: string; data: Buffer }, ifNoneMatch: string | undefined): number {
    res.setHeader('etag', img.etag);
    // Private: the URL is a capability for one client; short, like the URL.
    res.setHeader('cache-control', 'private, max-age=300');
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => { const v = t.trim(); return v === img.etag || v === `W/${img.etag}` || v === '*'; })) {
      res.statusCode = 304;
      res.end();
      return 304;
    }
    res.statusCode = 200;
    res.setHeader('content-type', img.type);
    res.setHeader('content-length', img.data.length);
    res.end(img.data);
    return 200;
  }
}
