import { EventEmitter } from 'node:events';
import type { Config } from './config/store.js';
import type { VolumeResult } from './control.js';
import { MediagateError } from './errors.js';
import type { PlayerHub, SilentPlayer } from './players/hub.js';
import { readLastActive, writeLastActive } from './players/last-active.js';
import { mayMatch, pickActive } from './players/select.js';
import type { PlayerSource, PlayerState } from './players/types.js';
import { chooseMixer } from './volume/select.js';
import type { MixerName } from './volume/types.js';
import { watchMixer } from './volume/watch.js';

/** The volume as LiveState tracks it: the same shape `volume --json` prints. */
export type VolumeState = VolumeResult;

export interface LiveSnapshot {
  players: PlayerState[];
  /** The player bare commands act on (or the one asked for), null when none. */
  active: PlayerState | null;
  volume: VolumeState | null;
  /** Why a backend has no players right now (no bus, MPD down, timeout). */
  problems: string[];
}

export interface LiveOptions {
  env: NodeJS.ProcessEnv;
  config: Config;
  /** Follow only players matching this name. */
  player?: string | undefined;
  /** Also track the volume (serve); --follow does not need it. */
  volume?: boolean;
  /** Coalesce bursts of events (one change often fires several signals), ms. */
  debounceMs?: number;
}

const isTimeout = (e: unknown): boolean => e instanceof MediagateError && e.code === 'backend.timeout';
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

type Backend = PlayerSource['backend'];
/** A player an event named: which source's, and its exact name. */
interface Target { backend: Backend; name: string }
/** What one burst of events asks to re-read: the named players, or everything. */
interface Batch { all: boolean; targets: Map<string, Target> }
const keyOf = (t: Target): string => `${t.backend}\0${t.name}`;

/** Problems meaning our session bus connection is dead (and with it the MPRIS watch). */
const BUS_GONE: ReadonlySet<string> = new Set(['mpris.bus_lost', 'mpris.no_bus', 'mpris.bus_error']);

/**
 * The current state of every player and of the volume, kept up to date by
 * events (MPD idle, D-Bus signals, PulseAudio subscription) — nothing runs while
 * nothing changes. Emits 'status' (LiveSnapshot) when players change and
 * 'volume' (VolumeState) when the volume changes. Used by `status --follow`
 * and by `serve`, which answers reads from the snapshot.
 */
export class LiveState extends EventEmitter {
  private snap: LiveSnapshot = { players: [], active: null, volume: null, problems: [] };
  private readonly stops = new Map<PlayerSource, () => Promise<void>>();
  private stopMixer: (() => void) | undefined;
  private mixerBackend: MixerName | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = 1000;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The player whose change event arrived last (a string assignment per event, nothing more). */
  private lastEvent: string | undefined;
  /** A first reading has been taken: later status changes are changes, not the initial state. */
  private primed = false;
  /** The burst being collected (until the debounce fires). */
  private batch: Batch = { all: false, targets: new Map() };
  /** The backend of each of snap.players (same order): where to ask it again. */
  private backends: Backend[] = [];
  /** Players found not answering (by keyOf): reported as problems, not asked again on every event. */
  private silent = new Map<string, SilentPlayer>();
  /** Why a source had no players at the last full reading (no bus, MPD down). */
  private sourceProblems: string[] = [];
  /** Silent players being asked in the background after an event of their own. */
  private readonly probing = new Set<string>();

  constructor(private readonly hub: PlayerHub, private readonly opts: LiveOptions) {
    super();
  }

  snapshot(): LiveSnapshot {
    return this.snap;
  }

  /** Subscribe to every reachable source and take the first reading. */
  async start(): Promise<void> {
    await this.watchSources();
    await this.refresh();
    if (this.opts.volume) await this.refreshVolume();
  }

  /** Sources being watched right now (0 means nothing can report changes yet). */
  get watching(): number {
    return this.stops.size;
  }

  /** Watch every source not watched yet; true when a new watch started. */
  private async watchSources(): Promise<boolean> {
    const sources = await this.hub.openSources(this.opts.player);
    let missing = false;
    let added = false;
    for (const s of sources) {
      if (this.stops.has(s)) continue;
      try {
        this.stops.set(s, await s.watch((name) => this.changed(name, s.backend)));
        added = true;
      } catch {
        missing = true;
      }
    }
    if (missing) this.retryLater();
    else if (added) this.retryMs = 1000; // everything watched again: the next outage starts the back-off afresh
    return added;
  }

  /** A source that could not be watched (daemon down, no bus) is tried again, backing off to once every 30 s. */
  private retryLater(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryMs = Math.min(this.retryMs * 2, 30000);
      // Re-read only when a source came back; a still-missing one costs one connect attempt.
      void this.watchSources().then((added) => { if (added) this.changed(); }, () => {});
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /**
   * Something changed — in player `name` of `backend`, when known — re-read
   * once the burst is over: only the players the burst named, or every
   * player when an event named none (a source came back).
   */
  changed(name?: string, backend?: Backend): void {
    if (this.stopped) return;
    if (name !== undefined) this.lastEvent = name;
    if (name !== undefined && backend !== undefined) this.batch.targets.set(keyOf({ backend, name }), { backend, name });
    else this.batch.all = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const batch = this.batch;
      this.batch = { all: false, targets: new Map() };
      this.chain = this.chain.then(() => this.refresh(batch)).then(() => (this.opts.volume && this.volumeFollowsPlayer() ? this.refreshVolume() : undefined));
    }, this.opts.debounceMs ?? 25);
  }

  private volumeFollowsPlayer(): boolean {
    return this.snap.volume?.target === 'player' || this.mixerBackend !== 'pulse';
  }

  /**
   * Re-read the players `batch` names (all of them without a batch). A
   * player the snapshot does not know (it appeared, or came back), one that
   * failed other than by timing out (it left the bus, its source went down)
   * or an event naming none means a full re-read, which also asks the silent
   * ones again.
   */
  async refresh(batch?: Batch): Promise<void> {
    if (batch && !batch.all && this.primed && await this.refreshSome([...batch.targets.values()])) return;
    await this.refreshAll();
  }

  /** Re-read every player (each under its own time limit, in parallel). */
  private async refreshAll(): Promise<void> {
    // hub.states(name) asks only the players `name` matches (by their names and aliases).
    const { states: players, players: answered, problems, silent } = await this.hub.states(this.opts.player);
    this.backends = answered.map((p) => p.backend);
    this.silent = new Map(silent.map((p) => [keyOf(p), p]));
    const perPlayer = new Set<unknown>(silent.map((p) => p.error));
    this.sourceProblems = problems.filter((p) => !perPlayer.has(p) && p.code !== 'player.not_found').map((p) => p.message);
    if (problems.some((p) => BUS_GONE.has(p.code))) {
      // The bus went away and took our subscription with it: watch again once it is back.
      // (Lost mid-call it is bus_lost; found gone on the next attempt, no_bus or bus_error.)
      for (const [s, stop] of this.stops) if (s.backend === 'mpris') { this.stops.delete(s); void stop(); await s.close(); }
      this.retryLater();
    }
    this.publish(players, problems.map((p) => p.message));
  }

  /**
   * Re-read only `targets`, keeping every other player's last state; false
   * when a full re-read is needed instead. A silent player named here is
   * asked in the background (see probe), never on this path.
   */
  private async refreshSome(targets: Target[]): Promise<boolean> {
    const ask: Target[] = [];
    for (const t of targets) {
      if (this.opts.player && !mayMatch(this.opts.player, t.name)) continue;
      if (this.hub.ignores(t.name)) continue;
      if (this.silent.has(keyOf(t))) { this.probe(t); continue; }
      const at = this.indexOf(t);
      // VLC signals under its instance name, on a connection of its own: the player it is an alias of.
      const owner = at < 0 ? this.snap.players.findIndex((s, i) => this.backends[i] === t.backend && s.aliases?.includes(t.name)) : at;
      if (owner < 0) return false;
      ask.push(owner === at ? t : { backend: t.backend, name: this.snap.players[owner]!.player });
    }
    if (ask.length === 0) return true;
    const results = await Promise.allSettled(ask.map((t) => this.hub.stateOf(t.backend, t.name)));
    if (results.some((r) => r.status === 'rejected' && !isTimeout(r.reason))) return false;
    const players = [...this.snap.players];
    const backends = [...this.backends];
    results.forEach((r, i) => {
      const t = ask[i]!;
      const at = this.indexOfIn(players, backends, t);
      if (at < 0) return;
      if (r.status === 'fulfilled') { players[at] = r.value; return; }
      // It stopped answering: a problem from now on, like a silent player found by a full reading.
      players.splice(at, 1);
      backends.splice(at, 1);
      this.silent.set(keyOf(t), { ...t, error: r.reason as MediagateError });
    });
    this.backends = backends;
    this.publish(players, this.problemList());
    return true;
  }

  /**
   * An event from a player that did not answer before: ask it again off the
   * update path (other players' changes must not wait for its time limit);
   * once it answers it rejoins the snapshot.
   */
  private probe(t: Target): void {
    const key = keyOf(t);
    if (this.probing.has(key) || this.stopped) return;
    this.probing.add(key);
    this.hub.stateOf(t.backend, t.name).then((state) => {
      this.chain = this.chain.then(() => {
        if (this.stopped || !this.silent.delete(key)) return;
        this.publish([...this.snap.players, state], this.problemList(), [...this.backends, t.backend]);
      });
    }, () => { /* still silent: its problem stays as it was */ }).finally(() => this.probing.delete(key));
  }

  private indexOf(t: Target): number {
    return this.indexOfIn(this.snap.players, this.backends, t);
  }

  private indexOfIn(players: PlayerState[], backends: Backend[], t: Target): number {
    return players.findIndex((s, i) => s.player === t.name && backends[i] === t.backend);
  }

  /** The problems as a full reading would give them: the sources', then each silent player's. */
  private problemList(): string[] {
    return [...this.sourceProblems, ...[...this.silent.values()].map((p) => p.error.message)];
  }

  /** Take `players` as the new state: record the last active, pick the active one, emit when it changed. */
  private publish(players: PlayerState[], problems: string[], backends?: Backend[]): void {
    if (backends) this.backends = backends;
    const lastActive = this.recordLastActive(players);
    const active = pickActive(players, lastActive) ?? null;
    const next: LiveSnapshot = { players, active, volume: this.snap.volume, problems };
    const changed = !same({ p: this.snap.players, a: this.snap.active }, { p: players, a: active });
    this.snap = next;
    if (changed) this.emit('status', next);
  }

  /**
   * Keep the last-active record (the one bare commands use to choose among
   * equals) current: a player whose playback status changed since the last
   * reading becomes the most recently active — the one whose event arrived
   * last when several changed in one burst. Read once per re-read, written
   * (atomically) only when the recorded player changes. Returns the record.
   */
  private recordLastActive(players: PlayerState[]): string | undefined {
    const recorded = readLastActive(this.opts.env);
    const before = new Map(this.snap.players.map((s) => [s.player, s.status]));
    const primed = this.primed;
    this.primed = true;
    if (!primed) return recorded;
    const moved = players.filter((s) => (before.has(s.player) ? before.get(s.player) !== s.status : s.status === 'playing'));
    const mover = moved.find((s) => s.player === this.lastEvent) ?? pickActive(moved);
    if (!mover || mover.player === recorded) return recorded;
    writeLastActive(this.opts.env, mover.player, new Date());
    return mover.player;
  }

  /**
   * The player whose own volume to read when there is no system mixer: the
   * one asked for, else (unless config names a default) the snapshot's active
   * one — the same choice a bare command makes, addressed directly so a hung
   * player elsewhere is not waited for on every update.
   */
  private volumePlayer(): string | undefined {
    if (this.opts.player) return this.opts.player;
    if (this.opts.config.get<string>('player.default')) return undefined;
    return this.snap.active?.player;
  }

  /** Re-read the volume now (and start watching the mixer the first time). */
  async refreshVolume(): Promise<void> {
    let volume: VolumeState | null = null;
    try {
      const { mixer, reading } = await chooseMixer({ env: this.opts.env, config: this.opts.config, hub: this.hub, player: this.volumePlayer() });
      volume = { level: reading.level, muted: reading.muted, target: mixer.target, backend: mixer.backend };
      if (!this.stopMixer && !this.stopped) {
        this.mixerBackend = mixer.backend;
        // A native PulseAudio watch hands over the new reading; without one, read again.
        this.stopMixer = watchMixer(mixer.backend, this.opts.env, (r) => {
          if (r) this.setVolume({ level: r.level, muted: r.muted, target: 'system', backend: 'pulse' });
          else void this.refreshVolume();
        }, this.hub.timeoutMs);
      }
    } catch (e) {
      if (!(e instanceof MediagateError)) throw e;
    }
    this.setVolume(volume);
  }

  /** Record a volume reading (null: none to be had); emits 'volume' when it changed. */
  private setVolume(volume: VolumeState | null): void {
    if (this.stopped || same(volume, this.snap.volume)) return;
    this.snap = { ...this.snap, volume };
    if (volume) this.emit('volume', volume);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    this.stopMixer?.();
    await Promise.allSettled([...this.stops.values()].map((stop) => stop()));
    this.stops.clear();
    await this.chain.catch(() => {});
  }
}
