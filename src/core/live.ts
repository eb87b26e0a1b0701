import { EventEmitter } from 'node:events';
import type { Config } from './config/store.js';
import type { VolumeResult } from './control.js';
import { MediagateError } from './errors.js';
import type { PlayerHub } from './players/hub.js';
import { readLastActive, writeLastActive } from './players/last-active.js';
import { nameMatches, pickActive } from './players/select.js';
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

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Problems meaning our session bus connection is dead (and with it the MPRIS watch). */
const BUS_GONE: ReadonlySet<string> = new Set(['mpris.bus_lost', 'mpris.no_bus', 'mpris.bus_error']);

/**
 * The current state of every player and of the volume, kept up to date by
 * events (MPD idle, D-Bus signals, pactl subscribe) — nothing runs while
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
        this.stops.set(s, await s.watch((name) => this.changed(name)));
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

  /** Something changed (in player `name`, when known): re-read once the burst is over. */
  changed(name?: string): void {
    if (this.stopped) return;
    if (name !== undefined) this.lastEvent = name;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.chain = this.chain.then(() => this.refresh()).then(() => (this.opts.volume && this.volumeFollowsPlayer() ? this.refreshVolume() : undefined));
    }, this.opts.debounceMs ?? 25);
  }

  private volumeFollowsPlayer(): boolean {
    return this.snap.volume?.target === 'player' || this.mixerBackend !== 'pulse';
  }

  /** Re-read all players now. */
  async refresh(): Promise<void> {
    const { states, problems } = await this.hub.states(this.opts.player);
    const players = this.opts.player ? states.filter((s) => nameMatches(this.opts.player!, s.player)) : states;
    const lastActive = this.recordLastActive(players);
    const active = pickActive(players, lastActive) ?? null;
    const next: LiveSnapshot = { players, active, volume: this.snap.volume, problems: problems.map((p) => p.message) };
    if (problems.some((p) => BUS_GONE.has(p.code))) {
      // The bus went away and took our subscription with it: watch again once it is back.
      // (Lost mid-call it is bus_lost; found gone on the next attempt, no_bus or bus_error.)
      for (const [s, stop] of this.stops) if (s.backend === 'mpris') { this.stops.delete(s); void stop(); await s.close(); }
      this.retryLater();
    }
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

  /** Re-read the volume now (and start watching the mixer the first time). */
  async refreshVolume(): Promise<void> {
    let volume: VolumeState | null = null;
    try {
      const { mixer, reading } = await chooseMixer({ env: this.opts.env, config: this.opts.config, hub: this.hub, player: this.opts.player });
      volume = { level: reading.level, muted: reading.muted, target: mixer.target, backend: mixer.backend };
      if (!this.stopMixer && !this.stopped) {
        this.mixerBackend = mixer.backend;
        this.stopMixer = watchMixer(mixer.backend, this.opts.env, () => { void this.refreshVolume(); });
      }
    } catch (e) {
      if (!(e instanceof MediagateError)) throw e;
    }
    if (!same(volume, this.snap.volume)) {
      this.snap = { ...this.snap, volume };
      if (volume) this.emit('volume', volume);
    }
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
