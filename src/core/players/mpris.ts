/**
 * MPRIS players on the D-Bus session bus, over the connection of
 * mpris-bus.ts: the small wire client for a one-shot command, dbus-next for
 * what watches (see SourceOptions.oneShot).
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Message as DbusMessage } from 'dbus-next';
import { ExitCode, MediagateError, NoPlayerError, TimeoutError, UsageError } from '../errors.js';
import { DEFAULT_BACKEND_TIMEOUT_MS } from '../timeout.js';
import { busLost, DBUS_NAME, isDbusError, openBus, type BusReply, type MprisBus } from './mpris-bus.js';
import type { DbusNextBus } from './mpris-bus-dbus-next.js';
import { metadataOf, queueEntryOf } from './metadata.js';
import { canonicalName, groupByOwner, instancePairs, mergeGroups, withoutInstance } from './mpris-names.js';
import { schemeOf, unsupportedScheme } from './uri.js';
import type {
  Capabilities, Metadata, PlaybackStatus, Player, PlayerAction, PlayerSource, PlayerState, QueueEntry, RepeatMode, SourceOptions,
} from './types.js';

/** Every MPRIS player owns a bus name with this prefix; the rest is the player name. */
export const MPRIS_PREFIX = 'org.mpris.MediaPlayer2.';
const MPRIS_PATH = '/org/mpris/MediaPlayer2';
const ROOT_IFACE = 'org.mpris.MediaPlayer2';
const PLAYER_IFACE = 'org.mpris.MediaPlayer2.Player';
const TRACKLIST_IFACE = 'org.mpris.MediaPlayer2.TrackList';
const NO_TRACK = '/org/mpris/MediaPlayer2/TrackList/NoTrack';
const PROPS_IFACE = 'org.freedesktop.DBus.Properties';
const SIGNAL = 4; // dbus-next MessageType.SIGNAL

/** Map an error from a player's method call to a MediagateError. */
function playerError(player: string, what: string, timeoutMs: number, e: unknown): MediagateError {
  if (!isDbusError(e)) return busLost(e);
  const short = e.type.replace(/^org\.freedesktop\.DBus\.Error\./, '');
  switch (short) {
    case 'ServiceUnknown':
    case 'NameHasNoOwner':
      return new NoPlayerError(`player '${player}' is no longer on the bus`,
        'it may have quit; list the players again', 'player.not_found');
    case 'NoReply':
    case 'Timeout':
    case 'TimedOut':
      return new TimeoutError(`player '${player}' (${what})`, timeoutMs);
    case 'UnknownMethod':
    case 'UnknownInterface':
    case 'UnknownObject':
    case 'UnknownProperty':
    case 'NotSupported':
    case 'PropertyReadOnly':
      return new NoPlayerError(`player '${player}' does not support ${what}`,
        `${player} does not implement this part of MPRIS; use the player's own controls`, 'player.unsupported');
    default:
      return new MediagateError('player.error', `player '${player}' refused ${what}: ${e.text || short}`,
        ExitCode.failure, `${player} reported ${e.type}`);
  }
}

// ---------------------------------------------------------------------------
// Decoding MPRIS properties

type Props = Record<string, unknown>;

function unwrap(v: unknown): unknown {
  return v !== null && typeof v === 'object' && 'signature' in v && 'value' in v ? (v as { value: unknown }).value : v;
}

function str(v: unknown): string | null {
  const x = unwrap(v);
  if (typeof x === 'string') return x === '' ? null : x;
  if (Array.isArray(x)) {
    const parts = x.filter((p): p is string => typeof p === 'string' && p !== '');
    return parts.length ? parts.join(', ') : null;
  }
  return null;
}

function num(v: unknown): number | null {
  const x = unwrap(v);
  if (typeof x === 'number') return Number.isFinite(x) ? x : null;
  if (typeof x === 'bigint') return Number(x);
  return null;
}

function bool(v: unknown): boolean | null {
  const x = unwrap(v);
  return typeof x === 'boolean' ? x : null;
}

/** Microseconds to seconds, kept to the millisecond. */
function usToSeconds(us: number | null): number | null {
  return us === null ? null : Math.round(us / 1000) / 1000;
}

const STATUS: Record<string, PlaybackStatus> = { Playing: 'playing', Paused: 'paused', Stopped: 'stopped' };
const LOOP: Record<string, RepeatMode> = { None: 'off', Track: 'track', Playlist: 'playlist' };
const LOOP_STATUS: Record<RepeatMode, string> = { off: 'None', track: 'Track', playlist: 'Playlist' };

/**
 * The schemes a player opens: its SupportedUriSchemes (lower case), and
 * `file` for any player that lists schemes at all — MPRIS expects almost
 * every player to take it, and mpv-mpris lists only network schemes while
 * opening local files. A player listing none (Chromium) opens nothing.
 */
function schemesOf(root: Props): string[] {
  const v = unwrap(root.SupportedUriSchemes);
  const listed = Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '').map((x) => x.toLowerCase()) : [];
  return listed.length && !listed.includes('file') ? ['file', ...listed] : listed;
}

/** `p`: the Player interface's properties; `root`: the root interface's (SupportedUriSchemes), {} when unknown. */
function capabilitiesOf(p: Props, root: Props = {}): Capabilities {
  const canControl = bool(p.CanControl) ?? false;
  return {
    canPlay: canControl && (bool(p.CanPlay) ?? false),
    canPause: canControl && (bool(p.CanPause) ?? false),
    canSeek: canControl && (bool(p.CanSeek) ?? false),
    canGoNext: canControl && (bool(p.CanGoNext) ?? false),
    canGoPrevious: canControl && (bool(p.CanGoPrevious) ?? false),
    canSetVolume: canControl && num(p.Volume) !== null,
    canControl,
    // Optional properties: a player that has them implements them (Chromium has neither).
    canShuffle: canControl && bool(p.Shuffle) !== null,
    canRepeat: canControl && LOOP[str(p.LoopStatus) ?? ''] !== undefined,
    canOpenUri: canControl && schemesOf(root).length > 0,
  };
}

/** Decode one GetAll answer of org.mpris.MediaPlayer2.Player (and of the root interface). Exported for tests. */
export function decodePlayerProps(player: string, p: Props, readAt: Date, root: Props = {}): PlayerState {
  const meta = (unwrap(p.Metadata) ?? {}) as Props;
  const volume = num(p.Volume);
  const loop = str(p.LoopStatus);
  const position = usToSeconds(num(p.Position));
  const length = num(meta['mpris:length']);
  return {
    player,
    status: STATUS[str(p.PlaybackStatus) ?? ''] ?? 'stopped',
    title: str(meta['xesam:title']),
    artist: str(meta['xesam:artist']),
    album: str(meta['xesam:album']),
    duration: length !== null && length > 0 ? usToSeconds(length) : null,
    position,
    positionUpdatedAt: position === null ? null : readAt.toISOString(),
    volume: volume === null ? null : Math.max(0, Math.round(volume * 100)),
    shuffle: bool(p.Shuffle),
    repeat: loop === null ? null : (LOOP[loop] ?? null),
    artUrl: str(meta['mpris:artUrl']),
    capabilities: capabilitiesOf(p, root),
  };
}

// ---------------------------------------------------------------------------

const ACTIONS: Record<PlayerAction, { method: string; needs: keyof Capabilities }> = {
  play: { method: 'Play', needs: 'canPlay' },
  pause: { method: 'Pause', needs: 'canPause' },
  // MPRIS: PlayPause has no effect (and should fail) when CanPause is false.
  toggle: { method: 'PlayPause', needs: 'canPause' },
  stop: { method: 'Stop', needs: 'canControl' },
  next: { method: 'Next', needs: 'canGoNext' },
  previous: { method: 'Previous', needs: 'canGoPrevious' },
};

function unsupported(player: string, action: string, why: string): NoPlayerError {
  return new NoPlayerError(`player '${player}' does not allow '${action}' now (${why})`,
    'the player reports it cannot do this at the moment (end of playlist, live stream, ad…); try another action or player',
    'player.unsupported');
}

/** A part of MPRIS the player does not implement at all (no Shuffle property, no TrackList). */
function notImplemented(player: string, what: string, part: string): NoPlayerError {
  return new NoPlayerError(`player '${player}' has no ${what}: it does not implement ${part}`,
    'not supported by this player; use its own controls, or another player', 'player.unsupported');
}

function asProps(v: unknown): Props {
  const x = unwrap(v);
  return x && typeof x === 'object' && !Array.isArray(x) ? x as Props : {};
}

/** One MPRIS player, addressed by its well-known bus name. */
export class MprisPlayer implements Player {
  readonly backend = 'mpris' as const;
  /** The full bus name, e.g. `org.mpris.MediaPlayer2.mpv`. */
  readonly busName: string;

  constructor(
    private readonly source: MprisSource,
    readonly name: string,
    /** Further names its connection owns (`vlc.instance4242` beside `vlc`). */
    readonly aliases: readonly string[] = [],
  ) {
    this.busName = MPRIS_PREFIX + name;
  }

  private async call(member: string, iface: string, signature = '', body: unknown[] = []): Promise<BusReply> {
    this.early = undefined; // answers asked before this call are no longer the state after it
    const conn = await this.source.connection();
    const what = member === 'GetAll' ? 'reading its state' : member;
    return conn.call({ destination: this.busName, path: MPRIS_PATH, interface: iface, member, signature, body },
      `player '${this.name}' (${member})`, (e) => playerError(this.name, what, conn.timeoutMs, e));
  }

  /** State calls already on their way (prefetch), for the next state() to use. */
  private early: { props: ReturnType<MprisPlayer['props']>; root: Promise<Props> | undefined } | undefined;

  /**
   * Send state()'s calls now, before the caller knows the name is on the bus
   * (saves a one-shot command a round trip); the next state() takes their
   * answers — unless another call to the player comes first (it clears
   * them: they would be the state before it). A name that is not there fails them (ServiceUnknown: calls are
   * never auto-started), which nobody then waits for.
   */
  prefetch(): void {
    const props = this.props();
    props.catch(() => {});
    const root = this.source.knownRoot(this.busName) ? undefined : this.rootProps().catch(() => ({}) as Props);
    this.early = { props, root };
  }

  /** The raw properties of the Player interface (one GetAll), and the connection that answered. */
  private async props(): Promise<{ props: Props; readAt: Date; owner: string | undefined }> {
    const reply = await this.call('GetAll', PROPS_IFACE, 's', [PLAYER_IFACE]);
    return { props: asProps(reply.body[0]), readAt: new Date(), owner: reply.sender ?? undefined };
  }

  /** The root interface's properties (SupportedUriSchemes, HasTrackList…), remembered per owning connection. */
  private async rootProps(): Promise<Props> {
    const reply = await this.call('GetAll', PROPS_IFACE, 's', [ROOT_IFACE]);
    const props = asProps(reply.body[0]);
    if (reply.sender) this.source.rememberRoot(this.busName, reply.sender, props);
    return props;
  }

  /**
   * One GetAll of the Player interface. The root interface's properties
   * (for canOpenUri) change only with the player itself, so they are asked
   * once per connection: alongside that first GetAll, not after it, and
   * never again while the same connection owns the name.
   */
  async state(): Promise<PlayerState> {
    const early = this.early;
    this.early = undefined;
    const known = this.source.knownRoot(this.busName);
    const asking = early?.root ?? (known ? undefined : this.rootProps().catch(() => ({}) as Props));
    const { props, readAt, owner } = await (early?.props ?? this.props());
    const root = known && known.owner === owner ? known.props : await (asking ?? this.rootProps().catch(() => ({}) as Props));
    const state = decodePlayerProps(this.name, props, readAt, root);
    return this.aliases.length ? { ...state, aliases: [...this.aliases] } : state;
  }

  /** Every metadata key of the current track, raw (xesam:*, mpris:*, the player's own), JSON-safe. */
  async metadata(): Promise<Metadata> {
    const reply = await this.call('Get', PROPS_IFACE, 'ss', [PLAYER_IFACE, 'Metadata']);
    return metadataOf(reply.body[0]);
  }

  private async setPlayerProp(prop: string, signature: string, value: unknown): Promise<void> {
    const conn = await this.source.connection();
    await this.call('Set', PROPS_IFACE, 'ssv', [PLAYER_IFACE, prop, conn.variant(signature, value)]);
  }

  async setShuffle(on: boolean): Promise<void> {
    const { props } = await this.props();
    const caps = capabilitiesOf(props);
    if (!caps.canControl) throw unsupported(this.name, 'shuffle', 'CanControl is false');
    if (!caps.canShuffle) throw notImplemented(this.name, 'shuffle setting', 'the MPRIS Shuffle property');
    await this.setPlayerProp('Shuffle', 'b', on);
  }

  async setRepeat(mode: RepeatMode): Promise<void> {
    const loop = LOOP_STATUS[mode];
    if (!loop) throw new UsageError(`unknown repeat mode '${String(mode)}'`, 'use off, track or playlist', 'usage.invalid_repeat');
    const { props } = await this.props();
    const caps = capabilitiesOf(props);
    if (!caps.canControl) throw unsupported(this.name, 'repeat', 'CanControl is false');
    if (!caps.canRepeat) throw notImplemented(this.name, 'repeat setting', 'the MPRIS LoopStatus property');
    await this.setPlayerProp('LoopStatus', 's', loop);
  }

  /** SupportedUriSchemes, lower case. */
  async uriSchemes(): Promise<string[]> {
    return schemesOf(await this.rootProps());
  }

  /**
   * OpenUri, when the player supports the URI's scheme (SupportedUriSchemes);
   * a plain path is a local file (file:// URI, relative to the working
   * directory). A paused player is resumed, as for playFile.
   */
  async openUri(uri: string): Promise<void> {
    const href = schemeOf(uri) === undefined ? pathToFileURL(resolvePath(uri)).href : uri;
    const scheme = schemeOf(href);
    const [{ props }, schemes] = await Promise.all([this.props(), this.uriSchemes()]);
    if (!capabilitiesOf(props).canControl) throw unsupported(this.name, 'open a URI', 'CanControl is false');
    if (scheme === undefined || !schemes.includes(scheme)) throw unsupportedScheme(`player '${this.name}'`, scheme, schemes);
    await this.open(href, props);
  }

  /** The tracks of its MPRIS TrackList, the current one marked; `player.unsupported` for a player without one. */
  async queue(): Promise<QueueEntry[]> {
    let tracks: unknown;
    try {
      // HasTrackList is not trusted either way: VLC 3 says false and has one.
      tracks = unwrap((await this.call('Get', PROPS_IFACE, 'ss', [TRACKLIST_IFACE, 'Tracks'])).body[0]);
    } catch (e) {
      if (e instanceof MediagateError && (e.code === 'player.unsupported' || e.code === 'player.error')) {
        throw notImplemented(this.name, 'queue', 'the MPRIS TrackList');
      }
      throw e;
    }
    const ids = Array.isArray(tracks) ? tracks.filter((x): x is string => typeof x === 'string' && x !== NO_TRACK) : [];
    if (ids.length === 0) return [];
    const [reply, current] = await Promise.all([
      this.call('GetTracksMetadata', TRACKLIST_IFACE, 'ao', [ids]),
      this.metadata(),
    ]);
    const currentId = typeof current['mpris:trackid'] === 'string' ? current['mpris:trackid'] : null;
    const list = Array.isArray(reply.body[0]) ? reply.body[0] as unknown[] : [];
    return list.map((m, i) => {
      const meta = metadataOf(m);
      const id = typeof meta['mpris:trackid'] === 'string' ? meta['mpris:trackid'] : ids[i] ?? null;
      const at = id === null ? -1 : ids.indexOf(id);
      return queueEntryOf(at >= 0 ? at : i, meta, id !== null && id === currentId, id);
    });
  }

  /** One GetAll of the Player interface as D-Bus gave it (the playerctl mode reads the values with their types). */
  async properties(): Promise<{ props: Props; readAt: Date }> {
    return this.props();
  }

  /** A method of the Player interface, called as it is — no capability check: the caller checks its own way. */
  async invoke(member: string, signature = '', body: unknown[] = []): Promise<void> {
    await this.call(member, PLAYER_IFACE, signature, body);
  }

  /** A property of the Player interface set to a value of D-Bus type `signature`, as it is. */
  async setProperty(name: string, signature: string, value: unknown): Promise<void> {
    const conn = await this.source.connection();
    await this.call('Set', PROPS_IFACE, 'ssv', [PLAYER_IFACE, name, conn.variant(signature, value)]);
  }

  async act(action: PlayerAction): Promise<void> {
    const spec = ACTIONS[action];
    if (!spec) throw new UsageError(`unknown player action '${String(action)}'`);
    const { props } = await this.props();
    const caps = capabilitiesOf(props);
    if (!caps.canControl) throw unsupported(this.name, action, 'it does not accept control: CanControl is false');
    if (!caps[spec.needs]) {
      const prop = spec.needs.replace(/^can/, 'Can');
      throw unsupported(this.name, action, `${prop} is false`);
    }
    await this.call(spec.method, PLAYER_IFACE);
  }

  async seekTo(seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new UsageError(`cannot seek to ${seconds}: the position must be a number of seconds ≥ 0`);
    }
    const { props } = await this.props();
    const caps = capabilitiesOf(props);
    if (!caps.canSeek) throw unsupported(this.name, 'seek', 'CanSeek is false');
    const meta = (unwrap(props.Metadata) ?? {}) as Props;
    const trackId = unwrap(meta['mpris:trackid']);
    if (typeof trackId !== 'string' || trackId === '' || trackId === NO_TRACK) {
      throw new NoPlayerError(`player '${this.name}' has no current track to seek in`,
        'start playing something first', 'player.no_track');
    }
    const length = num(meta['mpris:length']);
    if (length !== null && length > 0 && seconds * 1e6 > length) {
      // MPRIS players silently ignore a position past the end; say so instead.
      throw new UsageError(`cannot seek to ${seconds} s: the track is only ${usToSeconds(length)} s long`,
        undefined, 'usage.out_of_range');
    }
    await this.call('SetPosition', PLAYER_IFACE, 'ox', [trackId, BigInt(Math.round(seconds * 1e6))]);
  }

  async seekBy(offsetSeconds: number): Promise<void> {
    if (!Number.isFinite(offsetSeconds)) {
      throw new UsageError(`cannot seek by ${offsetSeconds}: the offset must be a number of seconds`);
    }
    const { props } = await this.props();
    if (!capabilitiesOf(props).canSeek) throw unsupported(this.name, 'seek', 'CanSeek is false');
    await this.call('Seek', PLAYER_IFACE, 'x', [BigInt(Math.round(offsetSeconds * 1e6))]);
  }

  async setVolume(level: number): Promise<void> {
    if (!Number.isFinite(level) || level < 0 || level > 100) {
      throw new UsageError(`volume ${level} is out of range: use 0–100`, undefined, 'usage.out_of_range');
    }
    const { props } = await this.props();
    const caps = capabilitiesOf(props);
    if (!caps.canSetVolume) {
      throw unsupported(this.name, 'volume',
        caps.canControl ? 'it has no Volume property' : 'CanControl is false');
    }
    await this.setPlayerProp('Volume', 'd', level / 100);
  }

  /** Open a local file (absolute real path) with OpenUri and a file:// URI; a paused player is resumed. */
  async playFile(file: string): Promise<void> {
    if (typeof file !== 'string' || !isAbsolute(file) || file.includes('\0')) {
      throw new UsageError('the file to play must be an absolute path');
    }
    const { props } = await this.props();
    if (!capabilitiesOf(props).canControl) throw unsupported(this.name, 'open a file', 'CanControl is false');
    await this.open(pathToFileURL(file).href, props);
  }

  /** OpenUri, then Play: MPRIS starts playback after OpenUri only when stopped; a paused player (mpv) stays paused. */
  private async open(href: string, props: Props): Promise<void> {
    await this.call('OpenUri', PLAYER_IFACE, 's', [href]);
    if (capabilitiesOf(props).canPlay && str(props.PlaybackStatus) !== 'Playing') await this.call('Play', PLAYER_IFACE);
  }
}

/** Players on the D-Bus session bus (MPRIS). */
export class MprisSource implements PlayerSource {
  readonly backend = 'mpris' as const;
  readonly timeoutMs: number;
  private readonly env: NodeJS.ProcessEnv;
  /** A one-shot command's source: calls go over the small wire client (see mpris-bus.ts). */
  private readonly oneShot: boolean;
  private conn: Promise<MprisBus> | undefined;
  /** dbus-next connection for watch() on a one-shot source (its calls stay on `conn`). */
  private watchConn: Promise<DbusNextBus> | undefined;
  /** Root-interface properties by bus name, with the connection that owned it then (bounded: browsers come and go). */
  private readonly roots = new Map<string, { owner: string; props: Props }>();

  constructor(opts: Partial<SourceOptions> = {}) {
    this.env = opts.env ?? process.env;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS;
    this.oneShot = opts.oneShot ?? false;
  }

  /** The live bus connection, opened on first use (and again after it was lost or closed). */
  async connection(): Promise<MprisBus> {
    if (this.conn) {
      const current = this.conn;
      const c = await current.catch(() => undefined);
      if (c?.alive) return c;
      if (this.conn === current) this.conn = undefined;
    }
    const opening = openBus(this.env, this.timeoutMs, this.oneShot);
    this.conn = opening;
    opening.catch(() => { if (this.conn === opening) this.conn = undefined; });
    return opening;
  }

  /** Well-known names of all MPRIS players on the bus, sorted. */
  private async names(conn: MprisBus): Promise<string[]> {
    const reply = await conn.callDaemon('ListNames');
    const all = (reply.body[0] ?? []) as string[];
    return all.filter((n) => n.startsWith(MPRIS_PREFIX) && n.length > MPRIS_PREFIX.length).sort();
  }

  /**
   * Every MPRIS name on the bus as it is, sorted, without asking any player —
   * `vlc` and `vlc.instance42` both, as playerctl lists them (the playerctl mode).
   */
  async busNames(): Promise<string[]> {
    return (await this.names(await this.connection())).map((n) => n.slice(MPRIS_PREFIX.length));
  }

  /** The root properties remembered for `busName`, and the connection that owned it when they were read. */
  knownRoot(busName: string): { owner: string; props: Props } | undefined {
    return this.roots.get(busName);
  }

  rememberRoot(busName: string, owner: string, props: Props): void {
    this.roots.delete(busName);
    if (this.roots.size >= 64) this.roots.delete(this.roots.keys().next().value!);
    this.roots.set(busName, { owner, props });
  }

  /** The unique connection name owning `busName`, or undefined when none does (any more). */
  private owner(conn: MprisBus, busName: string): Promise<string | undefined> {
    return conn.callDaemon('GetNameOwner', 's', [busName]).then((r) => String(r.body[0]), () => undefined);
  }

  /** Do two connections (unique names) belong to one process? (VLC 3 registers its two names on two.) */
  private async sameProcess(conn: MprisBus, a: string, b: string): Promise<boolean> {
    if (a === b) return true;
    const pid = (u: string) => conn.callDaemon('GetConnectionUnixProcessID', 's', [u]).then((r) => Number(r.body[0]), () => NaN);
    const [x, y] = await Promise.all([pid(a), pid(b)]);
    return Number.isInteger(x) && x > 0 && x === y;
  }

  /** Names of the players on the bus, one per player (VLC's two names are one). */
  async playerNames(): Promise<string[]> {
    return (await this.list()).map((p) => p.name);
  }

  /**
   * Every player on the bus, whether or not it answers: one that owns an
   * org.mpris.MediaPlayer2.* name but never replies is still a player (its
   * state() times out, and callers report it as not responding). Names of
   * one player are one entry (see mpris-names.ts); their owners are asked of
   * the bus daemon only when there are two names or more, and their
   * processes only for an `X` / `X.instance<N>` pair on two connections.
   */
  async list(): Promise<Player[]> {
    const conn = await this.connection();
    const names = await this.names(conn);
    const short = names.map((n) => n.slice(MPRIS_PREFIX.length));
    if (short.length < 2) return short.map((name) => new MprisPlayer(this, name));
    const owners = await Promise.all(names.map((n) => this.owner(conn, n)));
    let groups = groupByOwner(short, owners);
    const pairs = instancePairs(groups);
    if (pairs.length) {
      const same = await Promise.all(pairs.map(([b, i]) => this.sameProcess(conn, groups[b]!.owner!, groups[i]!.owner!)));
      groups = mergeGroups(groups, pairs.filter((_, k) => same[k]));
    }
    return groups.map((g) => new MprisPlayer(this, g.name, g.aliases));
  }

  /**
   * The players `requested` names, without asking any other player: the
   * exact name if it is on the bus (one NameHasOwner call), else its MPRIS
   * instances (`vlc` → `vlc.instance42`). Empty when none is on the bus. An
   * instance name whose connection also owns the name without the suffix is
   * that player (`vlc.instance42` → `vlc`).
   */
  async find(requested: string): Promise<MprisPlayer[]> {
    const conn = await this.connection();
    const busName = MPRIS_PREFIX + requested;
    const valid = /^[A-Za-z_-][A-Za-z0-9_-]*(\.[A-Za-z_-][A-Za-z0-9_-]*)*$/.test(requested) && busName.length <= 255;
    if (!valid) return [];
    // One-shot: its state is asked alongside the lookup (the common case: the name is there).
    const early = this.oneShot ? new MprisPlayer(this, requested) : undefined;
    early?.prefetch();
    if ((await conn.callDaemon('NameHasOwner', 's', [busName])).body[0] === true) {
      const base = withoutInstance(requested);
      if (base !== undefined) {
        const [mine, theirs] = await Promise.all([this.owner(conn, busName), this.owner(conn, MPRIS_PREFIX + base)]);
        if (mine !== undefined && theirs !== undefined && await this.sameProcess(conn, mine, theirs)) return [new MprisPlayer(this, base, [requested])];
      }
      return [early ?? new MprisPlayer(this, requested)];
    }
    const instances = (await this.names(conn)).filter((n) => n.startsWith(`${busName}.`));
    return instances.map((n) => new MprisPlayer(this, n.slice(MPRIS_PREFIX.length)));
  }

  /**
   * The player of that exact name as known from an earlier listing, without
   * asking the bus: a call to it fails with `player.not_found` once it has left.
   */
  known(name: string): MprisPlayer {
    return new MprisPlayer(this, name);
  }

  /**
   * The player of that exact name (`mpv`, `vlc.instance42`) without probing the
   * others. NoPlayerError (`player.not_found`) when no such name is on the bus.
   */
  async player(name: string): Promise<MprisPlayer> {
    const found = (await this.find(name)).find((p) => p.name === name);
    if (!found) {
      throw new NoPlayerError(`no MPRIS player named '${name}'`, 'list the players to see their names', 'player.not_found');
    }
    return found;
  }

  /** The connection that can watch signals: dbus-next (on a one-shot source, one of its own). */
  private async eventBus(): Promise<DbusNextBus> {
    if (!this.oneShot) return (await this.connection()) as DbusNextBus;
    const current = this.watchConn && await this.watchConn.catch(() => undefined);
    if (current?.alive) return current;
    const { DbusNextBus } = await import('./mpris-bus-dbus-next.js');
    const opening = DbusNextBus.open(this.env, this.timeoutMs);
    this.watchConn = opening;
    opening.catch(() => { if (this.watchConn === opening) this.watchConn = undefined; });
    return opening;
  }

  async watch(onChange: (playerName: string) => void): Promise<() => Promise<void>> {
    const conn = await this.eventBus();
    const rules = [
      `type='signal',interface='${PROPS_IFACE}',member='PropertiesChanged',path='${MPRIS_PATH}'`,
      `type='signal',interface='${PLAYER_IFACE}',member='Seeked',path='${MPRIS_PATH}'`,
      `type='signal',sender='${DBUS_NAME}',interface='${DBUS_NAME}',member='NameOwnerChanged',arg0namespace='org.mpris.MediaPlayer2'`,
    ];
    /** unique connection name (`:1.23`) → player names it owns */
    const owners = new Map<string, Set<string>>();
    const own = (unique: string, player: string): void => {
      let set = owners.get(unique);
      if (!set) owners.set(unique, (set = new Set()));
      set.add(player);
    };
    const disown = (unique: string, player: string): void => {
      const set = owners.get(unique);
      if (!set) return;
      set.delete(player);
      if (set.size === 0) owners.delete(unique);
    };
    const notify = (player: string): void => {
      try { onChange(player); } catch { /* a listener's bug must not break the bus */ }
    };

    // Rebuild the owner map from the bus (at start, and when a signal comes from an unknown sender).
    let refreshing: Promise<void> | undefined;
    const refresh = (): Promise<void> => {
      refreshing ??= (async () => {
        try {
          const names = await this.names(conn);
          const answers = await Promise.allSettled(names.map((n) => conn.callDaemon('GetNameOwner', 's', [n])));
          answers.forEach((a, i) => {
            if (a.status === 'fulfilled') own(String(a.value.body[0]), names[i]!.slice(MPRIS_PREFIX.length));
          });
        } finally {
          refreshing = undefined;
        }
      })();
      return refreshing;
    };

    const onMessage = (msg: DbusMessage): void => {
      if (msg.type !== SIGNAL) return;
      if (msg.interface === DBUS_NAME && msg.member === 'NameOwnerChanged' && msg.sender === DBUS_NAME) {
        const [name, oldOwner, newOwner] = msg.body as [string, string, string];
        if (typeof name !== 'string' || !name.startsWith(MPRIS_PREFIX)) return;
        const player = name.slice(MPRIS_PREFIX.length);
        if (oldOwner) disown(oldOwner, player);
        if (newOwner) own(newOwner, player);
        notify(player);
        return;
      }
      if (msg.path !== MPRIS_PATH) return;
      const isChange = (msg.interface === PROPS_IFACE && msg.member === 'PropertiesChanged')
        || (msg.interface === PLAYER_IFACE && msg.member === 'Seeked');
      if (!isChange || !msg.sender) return;
      // One player however many names its connection owns: the name it is listed under.
      const known = owners.get(msg.sender);
      if (known) { notify(canonicalName(known)); return; }
      refresh().then(() => { const names = owners.get(msg.sender); if (names) notify(canonicalName(names)); }, () => {});
    };

    conn.bus.on('message', onMessage);
    // Losing the bus means every player is gone for this watcher: say so once.
    const forgetDeath = conn.onDeath(() => {
      const gone = new Set([...owners.values()].flatMap((set) => [...set]));
      owners.clear();
      for (const p of gone) notify(p);
    });
    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      forgetDeath();
      conn.bus.removeListener('message', onMessage);
      if (!conn.alive) return;
      await Promise.allSettled(rules.map((r) => conn.callDaemon('RemoveMatch', 's', [r])));
    };
    try {
      for (const r of rules) await conn.callDaemon('AddMatch', 's', [r]);
      await refresh();
    } catch (e) {
      await stop();
      throw e;
    }
    return stop;
  }

  async close(): Promise<void> {
    const all = [this.conn, this.watchConn];
    this.conn = undefined;
    this.watchConn = undefined;
    for (const current of all) {
      const c = current && await current.catch(() => undefined);
      c?.close();
    }
  }
}
