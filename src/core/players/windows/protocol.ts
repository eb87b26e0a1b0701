/**
 * The JSON-lines protocol between mediagate and its PowerShell helper
 * (helpers/windows/helper.ps1), and the pure functions that read it.
 *
 * mediagate → helper, one object per line: `{"id":N,"type":T,…}` with T one of
 * REQUEST_TYPES. helper → mediagate, one object per line: first
 * `{"type":"ready","version":1,"powershell":"5.1…","winrt":true|false,"error":…}`,
 * then answers `{"id":N,"ok":true,"result":…}` / `{"id":N,"ok":false,"error":{code,message}}`
 * and, after a `watch` request, change events `{"type":"event","event":"sessions"|"session"|"volume","session":…}`.
 * UTF-8 both ways. Times on the wire are .NET ticks (100 ns) and ISO 8601 texts.
 */
import { positionAt } from '../position.js';
import type { Capabilities, Metadata, PlayerState, RepeatMode } from '../types.js';

export const PROTOCOL_VERSION = 1;

/** Every request type mediagate sends; the helper handles each (a test checks helper.ps1 for them). */
export const REQUEST_TYPES = ['sessions', 'control', 'seek', 'shuffle', 'repeat', 'artwork', 'volume.get', 'volume.set', 'volume.mute', 'watch', 'probe'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export const TICKS_PER_SECOND = 10_000_000;

export interface Ready { type: 'ready'; version: number; powershell: string | null; winrt: boolean; error: string | null }
export interface Answer { id: number; ok: boolean; result?: unknown; error?: { code: string; message: string } }
export interface HelperEvent { type: 'event'; event: 'sessions' | 'session' | 'volume'; session?: string }
export type HelperLine = Ready | Answer | HelperEvent;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One line from the helper, checked; null for a line that is not one of ours (noise is ignored, not fatal). */
export function parseHelperLine(line: string): HelperLine | null {
  let v: unknown;
  try { v = JSON.parse(line.replace(/^\uFEFF/, '')); } catch { return null; }
  if (!isObject(v)) return null;
  if (v.type === 'ready' && typeof v.version === 'number') {
    return { type: 'ready', version: v.version, powershell: typeof v.powershell === 'string' ? v.powershell : null, winrt: v.winrt === true, error: typeof v.error === 'string' ? v.error : null };
  }
  if (v.type === 'event' && (v.event === 'sessions' || v.event === 'session' || v.event === 'volume')) {
    return { type: 'event', event: v.event, ...(typeof v.session === 'string' ? { session: v.session } : {}) };
  }
  if (typeof v.id === 'number' && typeof v.ok === 'boolean') {
    const err = isObject(v.error) && typeof v.error.code === 'string' && typeof v.error.message === 'string' ? { code: v.error.code, message: v.error.message } : undefined;
    if (!v.ok && !err) return { id: v.id, ok: false, error: { code: 'helper.bad_answer', message: 'the helper gave no reason' } };
    return { id: v.id, ok: v.ok, ...(v.ok ? { result: v.result } : { error: err }) };
  }
  return null;
}

/** One media session as the helper reports it (`sessions` answer). */
export interface RawSession {
  id: string;
  app: string;
  current?: boolean;
  title?: string | null;
  artist?: string | null;
  albumTitle?: string | null;
  albumArtist?: string | null;
  trackNumber?: number | null;
  genres?: string[] | null;
  playbackType?: string | null;
  subtitle?: string | null;
  hasThumbnail?: boolean;
  playback?: {
    status?: string;
    autoRepeat?: string | null;
    shuffle?: boolean | null;
    rate?: number | null;
    controls?: Partial<Record<'play' | 'pause' | 'stop' | 'toggle' | 'next' | 'previous' | 'seek' | 'shuffle' | 'repeat', boolean>>;
  } | null;
  timeline?: {
    startTicks?: number; endTicks?: number; positionTicks?: number; minSeekTicks?: number; maxSeekTicks?: number; lastUpdated?: string | null;
  } | null;
}

/** The sessions in a `sessions` answer; malformed entries are left out. */
export function sessionsOf(result: unknown): RawSession[] {
  if (!isObject(result) || !Array.isArray(result.sessions)) throw new Error('the helper answered sessions without a sessions list');
  return result.sessions.filter((s): s is RawSession => isObject(s) && typeof s.id === 'string' && typeof s.app === 'string');
}

const ALIAS: Record<string, string> = { zunemusic: 'media-player', zunevideo: 'films-tv', msedge: 'edge' };

/**
 * A player name from an app user model id: `Spotify.exe` → spotify,
 * `chrome` → chrome, `Microsoft.ZuneMusic_8wekyb3d8bbwe!Microsoft.ZuneMusic`
 * → media-player. Firefox reports an opaque hash (`308046B0AF4A39CB`): such
 * ids become `app-` and their first 8 characters.
 */
export function playerNameForApp(aumid: string): string {
  if (/^[0-9A-F]{16}$/i.test(aumid)) return `app-${aumid.slice(0, 8).toLowerCase()}`;
  let s = aumid.includes('!') ? aumid.slice(aumid.lastIndexOf('!') + 1) : aumid;
  s = s.replace(/\.exe$/i, '');
  if (s.includes('_')) s = s.slice(0, s.indexOf('_'));
  if (s.includes('\\')) s = s.slice(s.lastIndexOf('\\') + 1).replace(/\.exe$/i, '');
  const last = s.split('.').filter(Boolean).pop() ?? s;
  const name = last.toLowerCase().replace(/[^a-z0-9_-]/g, '');
  return ALIAS[name] ?? (name || 'app');
}

/** Names for the sessions, in order: the app's name, `.instance2`, `.instance3`… for more sessions of one app. */
export function sessionNames(sessions: RawSession[]): string[] {
  const seen = new Map<string, number>();
  return sessions.map((s) => {
    const base = playerNameForApp(s.app);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}.instance${n}`;
  });
}

const STATUS: Record<string, PlayerState['status']> = { Playing: 'playing', Paused: 'paused', Stopped: 'stopped', Changing: 'paused', Opened: 'stopped', Closed: 'stopped' };
const REPEAT: Record<string, RepeatMode> = { None: 'off', Track: 'track', List: 'playlist' };
export const REPEAT_TO_WINDOWS: Record<RepeatMode, string> = { off: 'None', track: 'Track', playlist: 'List' };

const YEAR_2000 = Date.UTC(2000, 0, 1);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The track length in seconds from the timeline (EndTime − StartTime), null when unknown. */
export function durationOf(s: RawSession): number | null {
  const end = num(s.timeline?.endTicks);
  const start = num(s.timeline?.startTicks) ?? 0;
  if (end === null || end <= start) return null;
  return Math.round(((end - start) / TICKS_PER_SECOND) * 1000) / 1000;
}

/**
 * A session as a PlayerState. The timeline's Position is only as fresh as
 * the app's last update (LastUpdatedTime): while playing it is carried
 * forward to `nowMs`.
 */
export function sessionState(s: RawSession, name: string, nowMs: number, artUrl: string | null = null): PlayerState {
  const pb = s.playback ?? {};
  const status = STATUS[pb.status ?? ''] ?? 'stopped';
  const c = pb.controls ?? {};
  const duration = durationOf(s);
  const posTicks = num(s.timeline?.positionTicks);
  const startTicks = num(s.timeline?.startTicks) ?? 0;
  const updated = str(s.timeline?.lastUpdated);
  const at = updated ? Date.parse(updated) : NaN;
  const position = posTicks === null ? null
    // An app that never set its timeline reports LastUpdatedTime as year 1: carry nothing forward then.
    : positionAt({ position: (posTicks - startTicks) / TICKS_PER_SECOND, at: Number.isFinite(at) && at > YEAR_2000 ? at : nowMs, playing: status === 'playing', rate: num(pb.rate), duration }, nowMs);
  const capabilities: Capabilities = {
    canPlay: c.play === true,
    canPause: c.pause === true,
    canSeek: c.seek === true,
    canGoNext: c.next === true,
    canGoPrevious: c.previous === true,
    canSetVolume: false,
    canControl: Object.values(c).some((v) => v === true),
    canShuffle: c.shuffle === true,
    canRepeat: c.repeat === true,
    canOpenUri: false,
  };
  return {
    player: name,
    status,
    title: str(s.title),
    artist: str(s.artist) ?? str(s.albumArtist),
    album: str(s.albumTitle),
    duration,
    position,
    positionUpdatedAt: position === null ? null : new Date(nowMs).toISOString(),
    volume: null,
    shuffle: typeof pb.shuffle === 'boolean' ? pb.shuffle : null,
    repeat: REPEAT[pb.autoRepeat ?? ''] ?? null,
    artUrl,
    capabilities,
  };
}

/** A session's media properties under xesam/mpris names, and every one as `windows:<name>`. */
export function sessionMetadata(s: RawSession): Metadata {
  const out: Metadata = {};
  if (str(s.title)) out['xesam:title'] = s.title!;
  if (str(s.artist)) out['xesam:artist'] = [s.artist!];
  if (str(s.albumTitle)) out['xesam:album'] = s.albumTitle!;
  if (str(s.albumArtist)) out['xesam:albumArtist'] = [s.albumArtist!];
  if (num(s.trackNumber)) out['xesam:trackNumber'] = s.trackNumber!;
  if (Array.isArray(s.genres) && s.genres.length) out['xesam:genre'] = s.genres.filter((g) => typeof g === 'string');
  const d = durationOf(s);
  if (d !== null) out['mpris:length'] = Math.round(d * 1e6);
  out['windows:sourceAppUserModelId'] = s.app;
  for (const k of ['subtitle', 'playbackType'] as const) if (str(s[k])) out[`windows:${k}`] = s[k]!;
  return out;
}

/** Seconds to the ticks TryChangePlaybackPositionAsync takes (relative to the timeline's StartTime). */
export function secondsToTicks(seconds: number, s?: RawSession): number {
  return Math.round(seconds * TICKS_PER_SECOND) + (num(s?.timeline?.startTicks) ?? 0);
}
