/**
 * The MPD backend: one MPD server is one player, named `mpd`.
 *
 * Commands are pipelined over the source's connection pool (mpd-pool.ts:
 * one connection unless an answer is slow to come; opened on first use,
 * reopened after an error, unref'd between calls so a forgotten source never
 * keeps a CLI alive). `watch` keeps another connection in `idle` and
 * reconnects with backoff when it drops.
 */
import { ConfigError, NoPlayerError, UsageError } from '../errors.js';
import { DEFAULT_BACKEND_TIMEOUT_MS } from '../timeout.js';
import { realpathSync } from 'node:fs';
import { isAbsolute, relative as relativePath, sep } from 'node:path';
import { MPD_POOL_MAX, MPD_STUCK_MS, MpdPool } from './mpd-pool.js';
import { Ack, MpdAckError, MpdConnection, type MpdEndpoint, type MpdPairs, pairsToRecord, pairValue, DROPPED } from './mpd-protocol.js';
import { fileTitle, mpdMetadata, mpdQueue } from './mpd-metadata.js';
import { schemeOf, unsupportedScheme } from './uri.js';
import type {
  Capabilities, Metadata, Player, PlayerAction, PlayerSource, PlayerState, PlaybackStatus, PlayFileOptions, QueueEntry, RepeatMode, SourceOptions,
} from './types.js';

export const MPD_PLAYER_NAME = 'mpd';
export const MPD_DEFAULT_HOST = 'localhost';
export const MPD_DEFAULT_PORT = 6600;
/** What `watch` listens for. */
export const MPD_IDLE_SUBSYSTEMS = ['player', 'mixer', 'options', 'playlist'] as const;

/**
 * Where to reach MPD. `display` names it for messages and never contains the
 * password. `password` is a non-enumerable property: JSON.stringify and
 * console.log of an address do not show it.
 */
export type MpdAddress =
  | { kind: 'tcp'; host: string; port: number; password?: string; display: string }
  | { kind: 'unix'; path: string; password?: string; display: string };

export interface ResolveMpdAddressInput {
  env: NodeJS.ProcessEnv;
  /** Config `mpd.host`: host name, IP, `[IPv6]`, socket path or `@abstract`. */
  configHost?: string | undefined;
  /** Config `mpd.port`. */
  configPort?: number | undefined;
  /** Config `mpd.password`, already unsealed. Sent only to the configured host. */
  configPassword?: string | undefined;
}

interface ParsedHost { kind: 'tcp' | 'unix'; host: string; port?: number }

/** Parse the host part of MPD_HOST / mpd.host (no password here). */
function parseHost(text: string, source: string, fail: (msg: string) => Error): ParsedHost {
  if (/[\0\r\n\t ]/.test(text)) throw fail(`${source} must not contain spaces, tabs, line breaks or NUL`);
  if (text.startsWith('/')) return { kind: 'unix', host: text };
  if (text.startsWith('@')) {
    if (text.length === 1) throw fail(`${source} names an abstract socket without a name ("@")`);
    return { kind: 'unix', host: text };
  }
  if (text.startsWith('[')) {
    const m = /^\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\](?::(.*))?$/.exec(text);
    if (!m || !m[1]!.includes(':')) throw fail(`${source} has a malformed [IPv6] address`);
    return m[2] === undefined ? { kind: 'tcp', host: m[1]! } : { kind: 'tcp', host: m[1]!, port: parsePort(m[2], source, fail) };
  }
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    // host:port (a convenience mpc lacks; a bare IPv6 address has several colons).
    const [h, p] = text.split(':') as [string, string];
    if (h === '') throw fail(`${source} has a port but no host`);
    checkHostName(h, source, fail);
    return { kind: 'tcp', host: h, port: parsePort(p, source, fail) };
  }
  if (colons === 0) checkHostName(text, source, fail);
  else if (!/^[0-9A-Fa-f:.]+(?:%[\w.-]+)?$/.test(text)) throw fail(`${source} is not a valid host name or address`);
  return { kind: 'tcp', host: text };
}

function checkHostName(h: string, source: string, fail: (msg: string) => Error): void {
  if (!/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/.test(h) || h.length > 253) {
    throw fail(`${source} is not a valid host name or address`);
  }
}

function parsePort(text: string, source: string, fail: (msg: string) => Error): number {
  const t = text.trim();
  if (!/^\d{1,5}$/.test(t) || Number(t) < 1 || Number(t) > 65535) {
    throw fail(`${source} must be a port number from 1 to 65535`);
  }
  return Number(t);
}

function withPassword<A extends MpdAddress>(addr: A, password: string | undefined): A {
  if (password !== undefined && password !== '') {
    Object.defineProperty(addr, 'password', { value: password, enumerable: false, writable: false, configurable: true });
  }
  return addr;
}

function display(kind: 'tcp' | 'unix', host: string, port: number): string {
  if (kind === 'unix') return socketDisplay(host);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Where MPD is, the way mpc finds it: MPD_HOST (`host`, `password@host`,
 * `/socket/path`, `password@/socket/path`, `@abstract`, `[::1]`, and also
 * `host:port`), MPD_PORT, then config `mpd.host` / `mpd.port`, then
 * localhost:6600. Each env variable overrides its config key. The config
 * password is used only when the host in effect is the configured one, so it
 * is never sent to a host named by MPD_HOST alone. Pure: no I/O.
 *
 * Bad env values throw UsageError; bad config values throw ConfigError.
 */
export function resolveMpdAddress(input: ResolveMpdAddressInput): MpdAddress {
  const { env } = input;
  const envFail = (m: string) => new UsageError(m, 'fix or unset the variable; see `mediagate config get mpd.host`', 'usage.mpd_address');
  const cfgFail = (m: string) => new ConfigError(m, 'fix it with `mediagate config set mpd.host …` / `mpd.port …`');

  let parsed: ParsedHost;
  let password: string | undefined;
  const envHost = env.MPD_HOST;
  if (envHost !== undefined && envHost !== '') {
    let hostText = envHost;
    // Like libmpdclient: a leading `/` or `@` means a socket; otherwise text
    // before the first `@` is the password.
    if (!envHost.startsWith('/') && !envHost.startsWith('@')) {
      const at = envHost.indexOf('@');
      if (at >= 0) {
        password = envHost.slice(0, at);
        hostText = envHost.slice(at + 1);
        if (hostText === '') throw envFail('MPD_HOST has a password but no host (expected password@host)');
      }
    }
    parsed = parseHost(hostText, 'MPD_HOST', envFail);
    const cfg = input.configHost !== undefined && input.configHost !== ''
      ? parseHost(input.configHost, 'config mpd.host', cfgFail) : undefined;
    if (password === undefined && cfg && cfg.kind === parsed.kind && cfg.host === parsed.host) {
      password = input.configPassword;
    }
  } else if (input.configHost !== undefined && input.configHost !== '') {
    parsed = parseHost(input.configHost, 'config mpd.host', cfgFail);
    password = input.configPassword;
  } else {
    parsed = { kind: 'tcp', host: MPD_DEFAULT_HOST };
    password = input.configPassword;
  }

  if (parsed.kind === 'unix') {
    return withPassword({ kind: 'unix', path: parsed.host, display: display('unix', parsed.host, 0) }, password);
  }
  let port: number;
  if (parsed.port !== undefined) port = parsed.port;
  else if (env.MPD_PORT !== undefined && env.MPD_PORT !== '') port = parsePort(env.MPD_PORT, 'MPD_PORT', envFail);
  else if (input.configPort !== undefined) {
    if (!Number.isInteger(input.configPort) || input.configPort < 1 || input.configPort > 65535) {
      throw cfgFail('config mpd.port must be a port number from 1 to 65535');
    }
    port = input.configPort;
  } else port = MPD_DEFAULT_PORT;
  return withPassword({ kind: 'tcp', host: parsed.host, port, display: display('tcp', parsed.host, port) }, password);
}

function endpointOf(addr: MpdAddress): MpdEndpoint {
  if (addr.kind === 'tcp') return { kind: 'tcp', host: addr.host, port: addr.port };
  // `@name` is a Linux abstract socket: node wants a leading NUL.
  return { kind: 'unix', path: addr.path.startsWith('@') ? `\0${addr.path.slice(1)}` : addr.path };
}

export interface MpdSourceOptions extends SourceOptions {
  /** Where MPD is; default: resolveMpdAddress({env}). */
  address?: MpdAddress;
}

/** Status + current song as read in one round trip. */
interface Snapshot {
  status: Record<string, string>;
  song: MpdPairs;
  /** When MPD produced the answer (midpoint of the round trip). */
  readAt: Date;
}

function num(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function allValues(pairs: MpdPairs, key: string): string[] {
  return pairs.filter(([k]) => k === key).map(([, v]) => v);
}

function joined(pairs: MpdPairs, key: string): string | null {
  const vs = allValues(pairs, key).filter((v) => v !== '');
  return vs.length ? vs.join(', ') : null;
}

function statusOf(s: Record<string, string>): PlaybackStatus {
  return s.state === 'play' ? 'playing' : s.state === 'pause' ? 'paused' : 'stopped';
}

/** Map MPD `status` + `currentsong` to a PlayerState. Exported for unit tests. */
export function mpdState(name: string, snap: Snapshot): PlayerState {
  const s = snap.status;
  const song = snap.song;
  const songRec = pairsToRecord(song);
  const status = statusOf(s);
  const playlistLength = num(s.playlistlength) ?? 0;
  const hasSong = s.song !== undefined && songRec.file !== undefined;

  let duration = num(s.duration);
  if (duration === null && s.time !== undefined) duration = num(s.time.split(':')[1]);
  if (duration === null) duration = num(songRec.duration) ?? num(songRec.Time);
  if (duration !== null && duration <= 0) duration = null;
  if (!hasSong) duration = null;

  const position = status === 'stopped' ? null : num(s.elapsed) ?? num(s.time?.split(':')[0]);
  const rawVolume = num(s.volume);
  const volume = rawVolume === null || rawVolume < 0 ? null : Math.round(rawVolume);
  const repeatOn = s.repeat === '1';
  const single = s.single === '1';
  const repeat: RepeatMode = repeatOn && single ? 'track' : repeatOn ? 'playlist' : 'off';

  const active = status !== 'stopped';
  const capabilities: Capabilities = {
    canControl: true,
    canPlay: playlistLength > 0,
    canPause: active,
    canSeek: active && hasSong && duration !== null,
    // MPD refuses next/previous while stopped ("Not playing").
    canGoNext: active && (s.nextsong !== undefined || (repeatOn && playlistLength > 0)),
    canGoPrevious: active && playlistLength > 0,
    canSetVolume: volume !== null,
    canShuffle: true,
    canRepeat: true,
    canOpenUri: true,
  };

  return {
    player: name,
    status,
    title: hasSong ? (joined(song, 'Title') ?? joined(song, 'Name') ?? fileTitle(songRec.file)) : null,
    artist: hasSong ? joined(song, 'Artist') ?? joined(song, 'AlbumArtist') : null,
    album: hasSong ? joined(song, 'Album') : null,
    duration,
    position,
    positionUpdatedAt: position === null ? null : snap.readAt.toISOString(),
    volume,
    shuffle: s.random === undefined ? null : s.random === '1',
    repeat,
    artUrl: null,
    capabilities,
  };
}

const ACTION_CAPABILITY: Record<PlayerAction, keyof Capabilities> = {
  play: 'canPlay',
  pause: 'canPause',
  toggle: 'canControl',
  stop: 'canControl',
  next: 'canGoNext',
  previous: 'canGoPrevious',
};

const WHY_NOT: Partial<Record<keyof Capabilities, string>> = {
  canPlay: 'the queue is empty',
  canPause: 'nothing is playing',
  canGoNext: 'there is no next song (end of the queue, or stopped)',
  canGoPrevious: 'nothing is playing',
  canSeek: 'nothing is playing, or the song has no known length',
  canSetVolume: 'MPD has no mixer for its output',
};

function unsupported(what: string, player: string, cap: keyof Capabilities): NoPlayerError {
  const why = WHY_NOT[cap];
  return new NoPlayerError(`player ${player} cannot ${what} now${why ? `: ${why}` : ''}`,
    'check `mediagate play status`; mpc shows the MPD queue', 'player.unsupported');
}

/** The MPD server as a Player. */
export class MpdPlayer implements Player {
  readonly name = MPD_PLAYER_NAME;
  readonly backend = 'mpd' as const;

  constructor(private readonly source: MpdSource) {}

  async state(): Promise<PlayerState> {
    return mpdState(this.name, await this.snapshot());
  }

  async act(action: PlayerAction): Promise<void> {
    const cap = ACTION_CAPABILITY[action];
    if (cap === undefined) throw new UsageError(`unknown player action: ${String(action)}`);
    // MPD can always be told to stop (canControl), and stopping twice is stopping: nothing to read first.
    if (action === 'stop') { await this.source.run(['stop']); return; }
    const st = await this.state();
    if (!st.capabilities[cap]) throw unsupported(action === 'previous' ? 'go to the previous song' : action === 'next' ? 'go to the next song' : action, this.name, cap);
    switch (action) {
      case 'play':
        // `play` when stopped; resume (a no-op when already playing) otherwise.
        await this.runNow(st.status === 'stopped' ? ['play'] : ['pause', '0'], 'play', 'canPlay');
        return;
      case 'pause':
        await this.runNow(['pause', '1'], 'pause', 'canPause');
        return;
      case 'toggle':
        // The opposite of the state just read, not MPD's own toggle (`pause` with no argument): two
        // people pausing at once leave it paused, and MPD is not asked for a real pause/resume per
        // request. At 2,000 toggles a second its own toggle made MPD stall for seconds (p50 ~100 ms,
        // p99 2–5 s, backend timeouts) against p50 ~4 ms and p99 36–87 ms this way, side by side
        // (on the tests' 30-second tracks; on ten-minute ones serve's p99 is ~12 ms, bench/control.js).
        if (st.status === 'playing') await this.source.run(['pause', '1']);
        else if (st.status === 'paused') await this.source.run(['pause', '0']);
        else if (st.capabilities.canPlay) await this.source.run(['play']);
        else throw unsupported('play', this.name, 'canPlay');
        return;
      case 'next':
        await this.runNow(['next'], 'go to the next song', 'canGoNext');
        return;
      case 'previous':
        await this.runNow(['previous'], 'go to the previous song', 'canGoPrevious');
        return;
    }
  }

  /**
   * Run a command the state allowed a moment ago. If MPD refuses it with
   * "Not playing" (ACK 55: another client stopped it in between), answer as
   * if our own check had refused it — player.unsupported, not a failure.
   */
  private async runNow(cmd: Cmd, what: string, cap: keyof Capabilities): Promise<void> {
    try {
      await this.source.run(cmd);
    } catch (e) {
      if (e instanceof MpdAckError && e.ack === Ack.playerSync) throw unsupported(what, this.name, cap);
      throw e;
    }
  }

  async seekTo(seconds: number): Promise<void> {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
      throw new UsageError(`seek position must be a number of seconds ≥ 0 (got ${String(seconds)})`);
    }
    const st = await this.state();
    if (!st.capabilities.canSeek) throw unsupported('seek', this.name, 'canSeek');
    if (st.duration !== null && seconds > st.duration) {
      throw new UsageError(`seek position ${fmt(seconds)} s is past the end of the song (${fmt(st.duration)} s)`,
        undefined, 'usage.out_of_range');
    }
    await this.runNow(['seekcur', seconds], 'seek', 'canSeek');
  }

  async seekBy(offsetSeconds: number): Promise<void> {
    if (typeof offsetSeconds !== 'number' || !Number.isFinite(offsetSeconds)) {
      throw new UsageError(`seek offset must be a number of seconds (got ${String(offsetSeconds)})`);
    }
    const st = await this.state();
    if (!st.capabilities.canSeek) throw unsupported('seek', this.name, 'canSeek');
    const at = st.position ?? 0;
    const target = at + offsetSeconds;
    if (target <= 0) { await this.runNow(['seekcur', 0], 'seek', 'canSeek'); return; }
    if (st.duration !== null && target >= st.duration) { await this.runNow(['seekcur', st.duration], 'seek', 'canSeek'); return; }
    // Relative seek: MPD applies it to its own current position, so time
    // passing between our status read and the seek does not skew it.
    const rel = offsetSeconds >= 0 ? `+${fmt(offsetSeconds)}` : `-${fmt(-offsetSeconds)}`;
    await this.runNow(['seekcur', rel], 'seek', 'canSeek');
  }

  async setVolume(level: number): Promise<void> {
    if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > 100) {
      throw new UsageError(`volume must be a whole number from 0 to 100 (got ${String(level)})`, undefined, 'usage.out_of_range');
    }
    const st = await this.state();
    if (!st.capabilities.canSetVolume) throw unsupported('set its volume', this.name, 'canSetVolume');
    await this.source.run(['setvol', level]);
  }

  /** `random`. */
  async setShuffle(on: boolean): Promise<void> {
    await this.source.run(['random', on ? 1 : 0]);
  }

  /** `repeat` + `single` in one command list: track = both on, playlist = repeat only, off = neither. */
  async setRepeat(mode: RepeatMode): Promise<void> {
    if (mode !== 'off' && mode !== 'track' && mode !== 'playlist') {
      throw new UsageError(`unknown repeat mode '${String(mode)}'`, 'use off, track or playlist', 'usage.invalid_repeat');
    }
    await this.source.runList([['repeat', mode === 'off' ? 0 : 1], ['single', mode === 'track' ? 1 : 0]]);
  }

  /** The current song's tags as MPRIS metadata (see mpd-metadata.ts); {} when nothing is queued. */
  async metadata(): Promise<Metadata> {
    return mpdMetadata(await this.source.run(['currentsong']));
  }

  /** The whole queue (`playlistinfo`), the current song marked. */
  async queue(): Promise<QueueEntry[]> {
    const [status, list] = await this.source.runList([['status'], ['playlistinfo']]);
    return mpdQueue(list!, pairValue(status!, 'songid'));
  }

  /**
   * The schemes of MPD's URL handlers (`urlhandlers`), and `file` when
   * connected over its unix socket: MPD opens local files for local clients only.
   */
  async uriSchemes(): Promise<string[]> {
    const schemes = (await this.source.run(['urlhandlers']))
      .filter(([k]) => k === 'handler')
      .map(([, v]) => v.replace(/:(\/\/)?$/, '').toLowerCase());
    if (this.source.address.kind === 'unix') schemes.push('file');
    return [...new Set(schemes)];
  }

  /** Add a URL (of a scheme MPD handles) or a path in MPD's database to the queue, and play it. */
  async openUri(uri: string): Promise<void> {
    const scheme = schemeOf(uri);
    if (scheme === undefined && uri.startsWith('/') && this.source.address.kind !== 'unix') {
      throw new NoPlayerError('MPD opens an absolute path only for clients on its unix socket',
        'give the path relative to MPD\'s music directory (as `mpc ls` shows it), or set mpd.host to MPD\'s socket', 'player.unsupported_scheme');
    }
    if (scheme !== undefined) {
      const schemes = await this.uriSchemes();
      if (!schemes.includes(scheme)) {
        throw unsupportedScheme(`MPD at ${this.source.address.display}`, scheme, schemes,
          'or a path in MPD\'s database (`mpc ls` lists it)');
      }
    }
    const id = await this.addId(uri).catch((e: unknown) => { throw ackOnOpen(e); });
    try {
      await this.source.run(['playid', id]);
    } catch (e) {
      // A URL MPD cannot play (unreachable, not audio) is not left behind in the queue.
      await this.source.run(['deleteid', id]).catch(() => {});
      if (e instanceof MpdAckError) {
        // MPD's own message names the URI and its fetch error: not echoed (it may carry a path or credentials).
        throw new NoPlayerError(`MPD at ${this.source.address.display} could not open it (${scheme === undefined ? 'the file' : `the ${scheme} URI`} did not decode: unreachable, or not audio)`,
          'check that the URI answers from the MPD machine and is an audio stream or file MPD decodes', 'player.open_failed');
      }
      throw e;
    }
  }

  /**
   * Add a local file to the queue and play it. Inside MPD's music directory
   * the file is added by its path relative to that directory (what MPD's
   * database uses; a file MPD has not scanned yet is scanned first). MPD
   * names its music directory only to clients on its unix socket, so over
   * TCP it comes from `opts.mpdMusicDirectory` (config mpd.musicDirectory).
   * Outside it, MPD accepts an absolute path only over the unix socket.
   */
  async playFile(file: string, opts: PlayFileOptions = {}): Promise<void> {
    if (typeof file !== 'string' || !isAbsolute(file) || file.includes('\0') || /[\r\n]/.test(file)) {
      throw new UsageError('the file to play must be an absolute path without line breaks');
    }
    const local = this.source.address.kind === 'unix';
    const musicDir = opts.mpdMusicDirectory ?? (local ? await this.source.musicDirectory() : undefined);
    const rel = musicDir === undefined ? undefined : insideDir(file, musicDir);
    let id: string | undefined;
    if (rel !== undefined) {
      try {
        id = await this.addId(rel);
      } catch (e) {
        if (!(e instanceof MpdAckError) || e.ack !== Ack.noExist) throw ackOnAdd(e);
        await this.source.updateAndWait(rel); // not in MPD's database yet
        id = await this.addId(rel).catch((e2: unknown) => { throw ackOnAdd(e2); });
      }
    }
    if (id === undefined) {
      if (!local) {
        if (musicDir === undefined) {
          throw new ConfigError("MPD's music directory is not known, so the file cannot be named to MPD",
            'MPD tells it only over its unix socket: set it with `mediagate config set mpd.musicDirectory /path/of/music_directory`, or connect to MPD over its socket (mpd.host /run/mpd/socket)',
            'mpd.music_directory_unknown');
        }
        throw new NoPlayerError("MPD can play this file only over its unix socket: it is outside MPD's music directory",
          'put the media folder inside MPD\'s music_directory, or connect to MPD over its socket (mpd.host /run/mpd/socket)',
          'player.unsupported');
      }
      // An absolute path: MPD allows it for local (socket) clients.
      id = await this.addId(file).catch((e: unknown) => { throw ackOnAdd(e); });
    }
    await this.source.run(['playid', id]);
  }

  private async addId(uri: string): Promise<string> {
    const id = pairValue(await this.source.run(['addid', uri]), 'Id');
    if (id === undefined) throw new NoPlayerError('MPD did not say which queue entry it added', undefined, 'mpd.protocol');
    return id;
  }

  private async snapshot(): Promise<Snapshot> {
    const t0 = Date.now();
    const [status, song] = await this.source.runList([['status'], ['currentsong']]);
    const t1 = Date.now();
    return { status: pairsToRecord(status!), song: song!, readAt: new Date(Math.round((t0 + t1) / 2)) };
  }
}

/**
 * A unix socket as messages name it: `@name` for an abstract one, else its
 * file name only (`socket (unix socket)`): error messages, which the API
 * passes on, never hold an absolute path.
 */
export function socketDisplay(path: string): string {
  if (path.startsWith('@')) return path;
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base ? `${base} (unix socket)` : 'MPD (unix socket)';
}

/**
 * MPD refused to add a file to the queue (ACK on addid): it found no song it
 * can play in it (not decodable, not a format it knows, not readable by MPD).
 * A media.not_playable usage error (exit 2, API 422); MPD's message is kept
 * unless it names a path.
 */
function ackOnAdd(e: unknown): unknown {
  return e instanceof MpdAckError && e.command === 'addid' ? notPlayable(e) : e;
}

/** MPD refused `addid` of a URI or path given to `play open`: unknown to it, or not allowed, or not playable. */
function ackOnOpen(e: unknown): unknown {
  if (!(e instanceof MpdAckError) || e.command !== 'addid') return e;
  if (e.ack === Ack.noExist) {
    return new UsageError('MPD has no song at that path', 'give a path in MPD\'s database as `mpc ls` shows it, or a URL', 'media.not_found');
  }
  return notPlayable(e);
}

function notPlayable(e: MpdAckError): UsageError {
  const why = e.mpdMessage && !e.mpdMessage.includes('/') ? ` (MPD: ${e.mpdMessage})` : '';
  return new UsageError(`MPD cannot play this file${why}`,
    'check that the file is a complete audio or video file in a format MPD decodes', 'media.not_playable');
}

/** `file` relative to `dir` ('/'-separated) when it lies strictly inside it; undefined otherwise. */
function insideDir(file: string, dir: string): string | undefined {
  if (!isAbsolute(dir)) return undefined; // a URI (nfs://…) music directory
  let real = dir;
  try { real = realpathSync(dir); } catch { /* not visible from here: compare as written */ }
  for (const base of new Set([real, dir.replace(/\/+$/, '') || '/'])) {
    const rel = relativePath(base, file);
    if (rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) return rel.split(sep).join('/');
  }
  return undefined;
}

function fmt(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

type Cmd = readonly [string, ...Array<string | number>];

/** One MPD server. */
export class MpdSource implements PlayerSource {
  readonly backend = 'mpd' as const;
  readonly address: MpdAddress;
  private readonly timeoutMs: number;
  private readonly pool: MpdPool;
  private readonly watchers = new Set<() => Promise<void>>();
  private closed = false;

  constructor(opts: MpdSourceOptions) {
    this.timeoutMs = opts.timeoutMs > 0 ? opts.timeoutMs : DEFAULT_BACKEND_TIMEOUT_MS;
    this.address = opts.address ?? resolveMpdAddress({ env: opts.env });
    this.pool = new MpdPool({
      open: () => MpdConnection.open(endpointOf(this.address), { timeoutMs: this.timeoutMs, password: this.address.password, display: this.address.display }),
      max: MPD_POOL_MAX,
      stuckMs: MPD_STUCK_MS,
    });
  }

  /** Command connections open now (the pool's size). */
  get connections(): number {
    return this.pool.size;
  }

  /** `[mpd]` when the server answers; rejects with NoPlayerError (or TimeoutError) otherwise. */
  async list(): Promise<Player[]> {
    // `status`, not `ping`: ping needs no permission, so it would hide a missing password.
    await this.run(['status']);
    return [new MpdPlayer(this)];
  }

  /** The player without a round trip (calls fail later if MPD is unreachable). */
  player(): MpdPlayer {
    return new MpdPlayer(this);
  }

  /** Run one command on the shared connection. */
  run(cmd: Cmd): Promise<MpdPairs> {
    const [name, ...args] = cmd;
    return this.withConnection((c) => c.command(name, ...args));
  }

  /** MPD's music_directory, when MPD tells it (only to clients on its unix socket); undefined otherwise. */
  async musicDirectory(): Promise<string | undefined> {
    try {
      const dir = pairValue(await this.run(['config']), 'music_directory');
      return dir === undefined || dir === '' ? undefined : dir;
    } catch (e) {
      if (e instanceof MpdAckError) return undefined;
      throw e;
    }
  }

  /** Have MPD scan `uri` (a path in its music directory) and wait until the scan is done. */
  async updateAndWait(uri: string): Promise<void> {
    const job = pairValue(await this.run(['update', uri]), 'updating_db');
    const deadline = Date.now() + Math.max(5000, this.timeoutMs * 2);
    while (Date.now() < deadline) {
      const running = pairValue(await this.run(['status']), 'updating_db');
      if (running === undefined || (job !== undefined && Number(running) > Number(job))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * The cover art of the song MPD is on now: its embedded picture
   * (`readpicture`, MPD ≥ 0.22), else an image file named cover.* next to it
   * in the music directory (`albumart`); null when there is none or nothing is
   * queued. Read in chunks (one command each, each with the backend time
   * limit); at most `maxBytes` (larger: NoPlayerError `player.artwork_too_large`).
   * The bytes are MPD's as they are: the caller checks what kind of image they are.
   * Runs on a connection of its own, closed afterwards: reading a picture
   * (MPD opens the song file) never delays status reads and commands queued
   * on the shared connection.
   */
  async currentArtwork(maxBytes: number): Promise<{ uri: string; data: Buffer } | null> {
    this.assertOpen();
    const conn = await MpdConnection.open(endpointOf(this.address), {
      timeoutMs: this.timeoutMs, password: this.address.password, display: this.address.display,
    });
    try {
      const uri = pairValue(await conn.command('currentsong'), 'file');
      if (uri === undefined || uri === '') return null;
      for (const command of ['readpicture', 'albumart'] as const) {
        try {
          const data = await this.readBinary(conn, command, uri, maxBytes);
          if (data !== null) return { uri, data };
        } catch (e) {
          // No such file / no cover, or an MPD too old for readpicture: try the next way.
          if (e instanceof MpdAckError && (e.ack === Ack.noExist || e.ack === Ack.unknown || e.ack === Ack.arg)) continue;
          throw e;
        }
      }
      return null;
    } finally {
      conn.close();
    }
  }

  private async readBinary(conn: MpdConnection, command: 'readpicture' | 'albumart', uri: string, maxBytes: number): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    let offset = 0;
    let total = -1;
    const bad = (why: string) => new NoPlayerError(`MPD at ${this.address.display}: ${command}: ${why}`, undefined, 'player.protocol');
    for (;;) {
      const r = await conn.commandBinary(command, uri, offset);
      if (r.data === null) {
        if (offset === 0) return null; // readpicture: no embedded picture
        throw bad('the picture ended early');
      }
      const size = Number(pairValue(r.pairs, 'size'));
      if (!Number.isSafeInteger(size) || size < 0) throw bad('no valid size');
      if (size > maxBytes) throw new NoPlayerError(`the cover art of ${uri} is larger than ${maxBytes} bytes`, undefined, 'player.artwork_too_large');
      if (total < 0) total = size;
      else if (size !== total) throw bad('the picture changed while it was read');
      if (r.data.length === 0 && offset < total) throw bad('an empty chunk');
      parts.push(r.data);
      offset += r.data.length;
      if (offset > total) throw bad('more bytes than announced');
      if (offset === total) return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
    }
  }

  /** Run several commands in one command list (one round trip). */
  runList(cmds: readonly Cmd[]): Promise<MpdPairs[]> {
    return this.withConnection((c) => c.commandList(cmds));
  }

  /**
   * Run `fn` on a connection of the pool. When a connection kept from an
   * earlier call turns out to have been dropped by MPD (its
   * connection_timeout, a restart), try once more on a fresh one. A kept
   * connection that drops is almost always one MPD closed while it sat
   * unused, before our command reached it; timeouts and ACKs are never retried.
   */
  private async withConnection<T>(fn: (c: MpdConnection) => Promise<T>): Promise<T> {
    this.assertOpen();
    const { conn, reused } = await this.pool.acquire();
    try {
      return await fn(conn);
    } catch (err) {
      if (reused && conn.closed && err instanceof NoPlayerError && err.code === DROPPED && !this.closed) {
        return fn((await this.pool.acquire()).conn);
      }
      throw err;
    }
  }

  async watch(onChange: (playerName: string) => void): Promise<() => Promise<void>> {
    this.assertOpen();
    const w = new IdleWatcher(this.address, this.timeoutMs, () => onChange(MPD_PLAYER_NAME));
    await w.start();
    const stop = async () => { this.watchers.delete(stop); await w.stop(); };
    this.watchers.add(stop);
    return stop;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.pool.close(), ...[...this.watchers].map((stop) => stop())]);
  }

  private assertOpen(): void {
    if (this.closed) throw new NoPlayerError('the MPD source is closed', undefined, 'player.closed');
  }
}

/**
 * One `idle` connection. Calls `changed()` once per idle answer, once when the
 * connection drops, and once after a reconnect (the state may have moved
 * meanwhile). Reconnects with exponential backoff (100 ms … 5 s).
 */
class IdleWatcher {
  private conn: MpdConnection | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private backoffMs = 100;
  private loopDone: Promise<void> = Promise.resolve();
  private reopening: Promise<void> | null = null;

  constructor(private readonly address: MpdAddress, private readonly timeoutMs: number, private readonly changed: () => void) {}

  /** First connection: failures here reject (so the caller learns MPD is not there). */
  async start(): Promise<void> {
    this.conn = await this.open();
    this.loopDone = this.loop(this.conn);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    this.conn?.close();
    this.conn = null;
    await this.reopening;
    await this.loopDone;
  }

  private open(): Promise<MpdConnection> {
    return MpdConnection.open(endpointOf(this.address), {
      timeoutMs: this.timeoutMs, password: this.address.password, display: this.address.display, keepAlive: true,
    });
  }

  private notify(): void {
    try { this.changed(); } catch { /* a listener's bug must not kill the watch */ }
  }

  private async loop(conn: MpdConnection): Promise<void> {
    try {
      for (;;) {
        const changed = await conn.idle(MPD_IDLE_SUBSYSTEMS);
        if (this.stopped) return;
        this.backoffMs = 100;
        if (changed.length > 0) this.notify();
      }
    } catch {
      if (this.stopped) return;
      this.conn = null;
      this.notify(); // the player went away
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 5000);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.stopped) return;
      this.reopening = this.open().then((c) => {
        this.reopening = null;
        if (this.stopped) { c.close(); return; }
        this.conn = c;
        this.notify(); // back: state may have changed while we were away
        this.loopDone = this.loop(c);
      }, () => { this.reopening = null; this.scheduleReconnect(); });
    }, delay);
  }
}
