/**
 * RemoteController: the Controller interface (src/core/control.ts) over the
 * HTTP API of a `mediagate serve`. Commands render its results with the same
 * code as the local controller's, so output is the same; errors come back as
 * the MediagateError a local run would raise (see errors.ts).
 *
 *   status   GET  /api/status[?player=]
 *   players  GET  /api/players                → {players, problems}
 *   act      POST /api/player/{action} {player?}
 *   seek     POST /api/player/seek {position|offset|percent, player?}
 *   volume   GET  /api/volume[?target=&player=] ; PUT /api/volume {level|change|muted, target?, player?}
 *            (toggle-mute: GET, then PUT the opposite — as the local mixer code does)
 *   setShuffle POST /api/player/shuffle {shuffle: true|false|"toggle", player?}
 *   setRepeat  POST /api/player/repeat {repeat: off|track|playlist|toggle, player?}
 *   open     POST /api/player/open {uri, player?}
 *   metadata GET  /api/metadata[?player=]
 *   queue    GET  /api/queue[?player=]
 *   playFile POST /api/media/play {folder, path, player?}
 *   browse   GET  /api/media/browse[?folder=&path=&offset=&limit=&all=]
 *
 * With --ignore-player, every player request also carries `ignore`: the
 * names, comma-separated in a query, as an array in a body.
 */
import type { Controller, PlayerRow, VolumeResult, VolumeTarget } from '../core/control.js';
import { MediagateError, UnreachableError, type ExitCodeValue } from '../core/errors.js';
import type { FolderListing, MediaEntry, MediaFolderInfo, PlayFileResult } from '../core/media.js';
import type { SeekTarget } from '../core/players/seek.js';
import { jsonSafe } from '../core/players/metadata.js';
import type { BackendName, Capabilities, Metadata, PlayerAction, PlayerState, QueueEntry, RepeatMode } from '../core/players/types.js';
import type { VolumeRequest } from '../core/volume/types.js';
import { exitCodeFor } from './errors.js';
import type { ApiClient } from './http.js';

/** Backends a server may name in a player row (newer ones read as null). */
const BACKENDS: ReadonlySet<unknown> = new Set<BackendName>(['mpd', 'mpris', 'macos', 'windows']);

type Json = Record<string, unknown>;

function badAnswer(api: ApiClient, what: string): UnreachableError {
  return new UnreachableError(`${api.server} sent an answer mediagate does not understand (${what})`,
    'the server may run a different mediagate version', 'remote.bad_response');
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);

const CAPS: Array<keyof Capabilities> = ['canPlay', 'canPause', 'canSeek', 'canGoNext', 'canGoPrevious', 'canSetVolume', 'canControl', 'canShuffle', 'canRepeat', 'canOpenUri'];
const REPEAT: ReadonlySet<unknown> = new Set(['off', 'track', 'playlist']);

/** Capabilities as the server sent them (its key order, so --json prints the same), missing ones false. */
function capabilities(v: unknown): Capabilities {
  const o = (v && typeof v === 'object' ? v : {}) as Json;
  const out: Record<string, boolean> = {};
  for (const [k, val] of Object.entries(o)) if (typeof val === 'boolean') out[k] = val;
  for (const k of CAPS) if (!(k in out)) out[k] = false;
  return out as unknown as Capabilities;
}

/** The status JSON (the shape of `play status --json`) → PlayerState; extra fields (artwork) are dropped. */
export function playerStateFrom(api: ApiClient, j: Json): PlayerState {
  const status = j.status;
  if (typeof j.player !== 'string' || (status !== 'playing' && status !== 'paused' && status !== 'stopped')) throw badAnswer(api, 'status');
  const repeat = j.repeat;
  return {
    player: j.player,
    status,
    title: str(j.title),
    artist: str(j.artist),
    album: str(j.album),
    duration: num(j.duration),
    position: num(j.position),
    positionUpdatedAt: str(j.positionUpdatedAt),
    volume: num(j.volume),
    shuffle: bool(j.shuffle),
    repeat: repeat === 'off' || repeat === 'track' || repeat === 'playlist' ? repeat : null,
    artUrl: str(j.artUrl),
    capabilities: capabilities(j.capabilities),
  };
}

/** A `{code, message, hint?}` problem from the server → the MediagateError the local hub would have listed. */
function problemFrom(p: unknown): MediagateError {
  const o = (p && typeof p === 'object' ? p : {}) as Json;
  const code = typeof o.code === 'string' ? o.code : 'player.unavailable';
  const message = typeof o.message === 'string' ? o.message : code;
  return new MediagateError(code, message, exitCodeFor(503, code) as ExitCodeValue, typeof o.hint === 'string' ? o.hint : undefined);
}

function playerName(api: ApiClient, j: Json): string {
  if (typeof j.player !== 'string') throw badAnswer(api, 'no player in the answer');
  return j.player;
}

export function volumeBody(request: Exclude<VolumeRequest, { kind: 'get' }>): Json {
  switch (request.kind) {
    case 'set': return { level: request.level };
    case 'change': return { change: request.delta };
    case 'mute': return { muted: true };
    case 'unmute': return { muted: false };
    case 'toggle-mute': throw new Error('toggle-mute is sent as muted: !current');
  }
}

export function seekBody(target: SeekTarget): Json {
  switch (target.kind) {
    case 'absolute': return { position: target.seconds };
    case 'relative': return { offset: target.seconds };
    case 'percent': return { percent: target.percent };
  }
}

function queueEntryFrom(api: ApiClient, e: unknown): QueueEntry {
  const o = (e && typeof e === 'object' ? e : {}) as Json;
  const position = num(o.position);
  if (position === null) throw badAnswer(api, 'queue entry');
  return {
    position, id: str(o.id), title: str(o.title), artist: str(o.artist), album: str(o.album),
    duration: num(o.duration), uri: str(o.uri), current: o.current === true,
  };
}

export class RemoteController implements Controller {
  private readonly ignore: readonly string[];

  /** `ignore`: --ignore-player names, sent with every player request (the server applies its own players.ignore too). */
  constructor(private readonly api: ApiClient, opts: { ignore?: readonly string[] | undefined } = {}) {
    this.ignore = opts.ignore ?? [];
  }

  /** `player` and `ignore` for a query string. */
  private query(player?: string): { player?: string; ignore?: string } {
    return { ...(player !== undefined ? { player } : {}), ...(this.ignore.length ? { ignore: this.ignore.join(',') } : {}) };
  }

  /** `player` and `ignore` for a JSON body. */
  private body(player?: string): Json {
    return { ...(player !== undefined ? { player } : {}), ...(this.ignore.length ? { ignore: [...this.ignore] } : {}) };
  }

  async status(player?: string): Promise<PlayerState> {
    return playerStateFrom(this.api, await this.api.get<Json>('/api/status', this.query(player)));
  }

  async players(): Promise<{ players: PlayerRow[]; problems: MediagateError[] }> {
    const j = await this.api.get<Json>('/api/players', this.query());
    if (!Array.isArray(j.players)) throw badAnswer(this.api, 'players');
    const players: PlayerRow[] = j.players.map((r: Json) => {
      if (!r || typeof r.name !== 'string') throw badAnswer(this.api, 'player row');
      const s = r.status;
      const responding = r.responding !== false;
      return {
        name: r.name,
        backend: BACKENDS.has(r.backend) ? (r.backend as BackendName) : null,
        status: s === 'playing' || s === 'paused' || s === 'stopped' ? s : responding ? 'stopped' : 'unknown',
        responding,
        ...(!responding && typeof r.error === 'string' ? { error: r.error } : {}),
        title: str(r.title),
        artist: str(r.artist),
        active: r.active === true,
        capabilities: capabilities(r.capabilities),
        aliases: Array.isArray(r.aliases) ? r.aliases.filter((a: unknown): a is string => typeof a === 'string') : [],
      };
    });
    const problems = Array.isArray(j.problems) ? j.problems.map(problemFrom) : [];
    return { players, problems };
  }

  async act(action: PlayerAction, player?: string): Promise<{ player: string }> {
    const j = await this.api.post<Json>(`/api/player/${action}`, this.body(player));
    return { player: playerName(this.api, j) };
  }

  async seek(target: SeekTarget, player?: string): Promise<{ player: string; position: number | null }> {
    const j = await this.api.post<Json>('/api/player/seek', { ...seekBody(target), ...this.body(player) });
    return { player: playerName(this.api, j), position: num(j.position) };
  }

  async setShuffle(value: boolean | 'toggle', player?: string): Promise<{ player: string; shuffle: boolean }> {
    const j = await this.api.post<Json>('/api/player/shuffle', { shuffle: value, ...this.body(player) });
    if (typeof j.shuffle !== 'boolean') throw badAnswer(this.api, 'shuffle');
    return { player: playerName(this.api, j), shuffle: j.shuffle };
  }

  async setRepeat(mode: RepeatMode | 'toggle', player?: string): Promise<{ player: string; repeat: RepeatMode }> {
    const j = await this.api.post<Json>('/api/player/repeat', { repeat: mode, ...this.body(player) });
    if (!REPEAT.has(j.repeat)) throw badAnswer(this.api, 'repeat');
    return { player: playerName(this.api, j), repeat: j.repeat as RepeatMode };
  }

  async open(uri: string, player?: string): Promise<{ player: string; uri: string }> {
    const j = await this.api.post<Json>('/api/player/open', { uri, ...this.body(player) });
    return { player: playerName(this.api, j), uri: typeof j.uri === 'string' ? j.uri : uri };
  }

  async metadata(player?: string): Promise<{ player: string; metadata: Metadata }> {
    const j = await this.api.get<Json>('/api/metadata', this.query(player));
    const m = jsonSafe(j.metadata);
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw badAnswer(this.api, 'metadata');
    return { player: playerName(this.api, j), metadata: m };
  }

  async queue(player?: string): Promise<{ player: string; queue: QueueEntry[] }> {
    const j = await this.api.get<Json>('/api/queue', this.query(player));
    if (!Array.isArray(j.queue)) throw badAnswer(this.api, 'queue');
    return { player: playerName(this.api, j), queue: j.queue.map((e: unknown) => queueEntryFrom(this.api, e)) };
  }

  async volume(request: VolumeRequest, target: VolumeTarget, player?: string): Promise<VolumeResult> {
    if (request.kind === 'get') return this.volumeFrom(await this.api.get<Json>('/api/volume', { target, ...this.query(player) }));
    // toggle-mute reads, then sets the opposite — as the local mixer code does.
    const body = request.kind === 'toggle-mute'
      ? { muted: !(await this.volume({ kind: 'get' }, target, player)).muted }
      : volumeBody(request);
    return this.volumeFrom(await this.api.put<Json>('/api/volume', { ...body, ...(target ? { target } : {}), ...this.body(player) }));
  }

  private volumeFrom(j: Json): VolumeResult {
    const level = num(j.level);
    const backend = j.backend;
    if (level === null || typeof j.muted !== 'boolean' || (j.target !== 'system' && j.target !== 'player')
      || (backend !== 'pulse' && backend !== 'pipewire' && backend !== 'alsa' && backend !== 'player')) throw badAnswer(this.api, 'volume');
    return { level, muted: j.muted, target: j.target, backend };
  }

  /** POST /api/media/play {folder, path, player?}: the server checks the path against its own media folders. */
  async playFile(folder: string, path: string, player?: string): Promise<PlayFileResult> {
    const j = await this.api.post<Json>('/api/media/play', { folder, path, ...this.body(player) });
    if (typeof j.folder !== 'string' || typeof j.path !== 'string' || typeof j.name !== 'string') throw badAnswer(this.api, 'play file');
    return { player: playerName(this.api, j), folder: j.folder, path: j.path, name: j.name };
  }

  /** GET /api/media/browse: the server's media folders (no folder), or one page of a directory in one — as `play browse --json` prints them. */
  async browse(folder: string | undefined, path: string, opts: { offset?: number | undefined; limit?: number | undefined; all?: boolean | undefined } = {}): Promise<{ folders: MediaFolderInfo[] } | FolderListing> {
    const j = await this.api.get<Json>('/api/media/browse', folder === undefined ? {} : {
      folder, path, offset: opts.offset, limit: opts.limit, all: opts.all ? 1 : undefined,
    });
    if (folder === undefined) {
      if (!Array.isArray(j.folders)) throw badAnswer(this.api, 'media folders');
      return {
        folders: j.folders.map((f: Json) => {
          if (!f || typeof f.name !== 'string') throw badAnswer(this.api, 'media folder');
          return { name: f.name, available: f.available === true };
        }),
      };
    }
    const total = num(j.total);
    const offset = num(j.offset);
    const limit = num(j.limit);
    if (typeof j.folder !== 'string' || typeof j.path !== 'string' || !Array.isArray(j.entries) || total === null || offset === null || limit === null) {
      throw badAnswer(this.api, 'media listing');
    }
    const entries: MediaEntry[] = j.entries.map((e: Json) => {
      if (!e || typeof e.name !== 'string' || typeof e.path !== 'string' || (e.type !== 'dir' && e.type !== 'file')) throw badAnswer(this.api, 'media entry');
      return { name: e.name, path: e.path, type: e.type, size: num(e.size), playable: e.playable === true };
    });
    return { folder: j.folder, path: j.path, entries, total, offset, limit, nextOffset: num(j.nextOffset) };
  }

  async close(): Promise<void> { /* one-shot requests: nothing held open */ }
}
