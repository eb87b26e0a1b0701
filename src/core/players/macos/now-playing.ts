/**
 * macOS Now Playing as `media-control` reports it (pure functions, no I/O).
 *
 * `media-control get` prints `null` (nothing plays) or one JSON object;
 * `media-control stream` prints one JSON line per change:
 * `{"type":"data","diff":false,"payload":{…}}` replaces what is known,
 * `{"type":"data","diff":true,"payload":{…}}` is merged into it, a key whose
 * value is `null` is removed, and a full payload `{}` means nothing plays.
 * Times are seconds (`duration`, `elapsedTime`, `timestamp` an ISO time) or,
 * with `--micros`, microseconds (`durationMicros`, `elapsedTimeMicros`,
 * `timestampEpochMicros`); both forms are read.
 */
import { MediagateError, ExitCode } from '../../errors.js';
import { positionAt } from '../position.js';
import type { Capabilities, Metadata, MetadataValue, PlayerState, RepeatMode } from '../types.js';

/** What is known about the now playing item: the merged payload. {} when nothing plays. */
export type NowPlaying = Record<string, unknown>;

export function badOutput(what: string, text: string): MediagateError {
  return new MediagateError('macos.bad_output', `media-control ${what} printed something that is not now playing JSON: '${text.trim().slice(0, 80)}'`,
    ExitCode.noPlayer, 'update media-control (brew upgrade media-control); if it persists, capture it with `mediagate doctor --record DIR` and report it');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Drop the keys whose value is null: a null key is a key that is not there. */
function withoutNulls(p: Record<string, unknown>): NowPlaying {
  const out: NowPlaying = {};
  for (const [k, v] of Object.entries(p)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

/** The output of `media-control get`: null (nothing plays) or the payload. */
export function parseGet(text: string): NowPlaying | null {
  const trimmed = text.trim();
  let v: unknown;
  try { v = JSON.parse(trimmed); } catch { throw badOutput('get', text); }
  if (v === null) return null;
  if (!isObject(v)) throw badOutput('get', text);
  return withoutNulls(v);
}

/**
 * Apply one line of `media-control stream` to what is known (`current`,
 * null before the first full payload). Lines of another type are ignored
 * (`current` comes back unchanged); a line that is not JSON is an error.
 */
export function applyStreamLine(current: NowPlaying | null, line: string): NowPlaying | null {
  let v: unknown;
  try { v = JSON.parse(line); } catch { throw badOutput('stream', line); }
  if (!isObject(v) || !isObject(v.payload)) throw badOutput('stream', line);
  if (v.type !== 'data') return current;
  if (v.diff !== true || current === null) return withoutNulls(v.payload);
  const next: NowPlaying = { ...current };
  for (const [k, val] of Object.entries(v.payload)) {
    if (val === null || val === undefined) delete next[k];
    else next[k] = val;
  }
  return next;
}

/** Something plays (or is paused): a payload naming an app and a title. */
export function hasItem(p: NowPlaying | null): p is NowPlaying {
  return p !== null && typeof p.bundleIdentifier === 'string' && p.bundleIdentifier !== '';
}

const GENERIC = new Set(['client', 'app', 'desktop', 'player', 'mac', 'macos', 'helper', 'gpu', 'osx']);

/**
 * A player name from an app's bundle identifier: its last word unless that
 * says nothing (`com.spotify.client` → spotify, `com.apple.Music` → music,
 * `com.google.Chrome` → chrome, `tv.plex.desktop` → plex), lower case,
 * letters, digits, `_` and `-` only.
 */
export function playerNameForBundle(bundleId: string): string {
  const parts = bundleId.split('.').map((s) => s.toLowerCase().replace(/[^a-z0-9_-]/g, '')).filter(Boolean);
  let name = parts[parts.length - 1] ?? '';
  for (let i = parts.length - 1; i >= 0 && GENERIC.has(parts[i]!); i--) name = parts[i - 1] ?? parts[i]!;
  return name || 'nowplaying';
}

/** The app behind the now playing item: a browser rather than its WebKit helper. */
export function appOf(p: NowPlaying): string {
  const parent = p.parentApplicationBundleIdentifier;
  return typeof parent === 'string' && parent !== '' ? parent : String(p.bundleIdentifier);
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Seconds from the plain key or its --micros twin. */
function seconds(p: NowPlaying, key: 'duration' | 'elapsedTime'): number | null {
  const micros = num(p[`${key}Micros`]);
  if (micros !== null) return micros / 1e6;
  return num(p[key]);
}

/** When elapsedTime was true, ms since epoch: timestampEpochMicros, or timestamp (ISO text or epoch seconds). */
function timestampMs(p: NowPlaying): number | null {
  const micros = num(p.timestampEpochMicros);
  if (micros !== null) return micros / 1000;
  if (typeof p.timestamp === 'string') {
    const ms = Date.parse(p.timestamp);
    return Number.isFinite(ms) ? ms : null;
  }
  const s = num(p.timestamp);
  return s === null ? null : s * 1000;
}

/** MediaRemote's repeat modes: 1 off, 2 one track, 3 all. */
const REPEAT: Record<number, RepeatMode> = { 1: 'off', 2: 'track', 3: 'playlist' };

/**
 * The state of the now playing item as a PlayerState, its position carried
 * forward to `nowMs` (see positionAt). `playbackRate` 0 means paused even
 * when `playing` lags behind.
 */
export function nowPlayingState(p: NowPlaying, nowMs: number, artUrl: string | null = null): PlayerState {
  const duration = seconds(p, 'duration');
  const elapsed = seconds(p, 'elapsedTime');
  const rate = num(p.playbackRate);
  const playing = p.playing === true && rate !== 0;
  const at = timestampMs(p) ?? nowMs;
  const position = elapsed === null ? null : positionAt({ position: elapsed, at, playing, rate, duration }, nowMs);
  const shuffle = num(p.shuffleMode);
  const repeat = num(p.repeatMode);
  const known = duration !== null && duration > 0;
  const skippable = p.prohibitsSkip !== true;
  const capabilities: Capabilities = {
    canPlay: true, canPause: true, canSeek: known, canGoNext: skippable, canGoPrevious: skippable, canSetVolume: false, canControl: true,
    canShuffle: shuffle !== null && shuffle !== 0, canRepeat: repeat !== null && REPEAT[repeat] !== undefined, canOpenUri: false,
  };
  return {
    player: playerNameForBundle(appOf(p)),
    status: playing ? 'playing' : elapsed !== null || text(p.title) !== null ? 'paused' : 'stopped',
    title: text(p.title),
    artist: text(p.artist),
    album: text(p.album),
    duration: known ? Math.round(duration * 1000) / 1000 : null,
    position,
    positionUpdatedAt: position === null ? null : new Date(nowMs).toISOString(),
    volume: null,
    shuffle: shuffle === null || shuffle === 0 ? null : shuffle !== 1,
    repeat: repeat === null ? null : (REPEAT[repeat] ?? null),
    artUrl,
    capabilities,
  };
}

/** The raw keys as metadata: the common ones under xesam/mpris names, every one also as `macos:<key>` (artwork bytes left out). */
export function nowPlayingMetadata(p: NowPlaying): Metadata {
  const out: Metadata = {};
  const put = (k: string, v: MetadataValue | null) => { if (v !== null) out[k] = v; };
  put('xesam:title', text(p.title));
  const artist = text(p.artist);
  if (artist) out['xesam:artist'] = [artist];
  put('xesam:album', text(p.album));
  const d = seconds(p, 'duration');
  if (d !== null && d > 0) out['mpris:length'] = Math.round(d * 1e6);
  const genre = text(p.genre);
  if (genre) out['xesam:genre'] = [genre];
  const composer = text(p.composer);
  if (composer) out['xesam:composer'] = [composer];
  put('xesam:trackNumber', num(p.trackNumber));
  for (const [k, v] of Object.entries(p)) {
    if (k === 'artworkData' || k === 'artworkDataBase64') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[`macos:${k}`] = v;
  }
  return out;
}

/** What identifies the track (for fetching its artwork once). */
export function trackIdentity(p: NowPlaying): { app: string; title: string | null; artist: string | null; album: string | null } {
  return { app: appOf(p), title: text(p.title), artist: text(p.artist), album: text(p.album) };
}
