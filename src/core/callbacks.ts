/**
 * Callbacks: run an owner-defined script when the player does something.
 *
 *   "callbacks": { "on": { "pause": "notify", "trackChange": "scrobble" } }
 *
 *   const callbacks = new Callbacks({ live, config, audit }).start();  // after live.start()
 *   …
 *   await callbacks.stop();
 *
 * Events, derived from LiveState:
 *  - play / pause / stop: the playback status of the active player changed
 *    (the player that was active before the change is followed too, so
 *    pausing it is seen even when another player becomes the active one); a
 *    player that disappears while playing or paused counts as stop; a new
 *    player that appears playing counts as play;
 *  - trackChange: its title, artist or album changed (not to nothing);
 *  - volumeChange: LiveState reported a new volume or mute state (the
 *    LiveState must be created with `volume: true`, as serve does).
 *
 * Each run gets the event as one JSON object on stdin:
 *   {"event":"pause","time":"…","player":"mpd","status":"paused","title":…,
 *    "artist":…,"album":…,"duration":…,"position":…,
 *    "previous":{"status":"playing","title":…,"artist":…,"album":…}}
 *   {"event":"volumeChange","time":"…","player":"mpd","level":40,"muted":false,
 *    "target":"system","backend":"pulse","previous":{"level":50,"muted":false}}
 *
 * Never in the way of events: a run is started and not awaited; every kind
 * of event has its own queue, so a slow or hanging script for one kind does
 * not delay another kind. Coalescing: per kind at most one run is going and
 * at most one waits; an event arriving while one waits replaces it (the
 * newest state is what matters), so a burst of ten track changes during a
 * slow run gives one more run, with the last track. Two kinds that name the
 * same script do not wait for each other, and a callback run does not hold
 * the script's one-run-at-a-time lock (`exclusive: false`), so a hung
 * callback never makes `script run` or the API answer busy. Each run has the
 * script's own timeout, and is audited as `script.run` by `system:callback`.
 */
import type { AuditActor, AuditSink } from './audit/types.js';
import type { Config } from './config/store.js';
import { ConfigError, MediagateError } from './errors.js';
import type { LiveSnapshot, VolumeState } from './live.js';
import type { PlayerState } from './players/types.js';
import { loadScripts, preloadScriptRunner, runScript, type ScriptResult } from './scripts.js';

export const CALLBACK_EVENTS = ['play', 'pause', 'stop', 'trackChange', 'volumeChange'] as const;
export type CallbackEvent = (typeof CALLBACK_EVENTS)[number];

export const CALLBACK_ACTOR: AuditActor = { id: 'system:callback', label: 'callback' };

/** What Callbacks needs of a LiveState (a fake in unit tests). */
export interface LiveSource {
  snapshot(): LiveSnapshot;
  on(event: 'status', fn: (snap: LiveSnapshot) => void): unknown;
  on(event: 'volume', fn: (v: VolumeState) => void): unknown;
  off(event: 'status', fn: (snap: LiveSnapshot) => void): unknown;
  off(event: 'volume', fn: (v: VolumeState) => void): unknown;
}

export interface CallbacksOptions {
  live: LiveSource;
  config: Config;
  audit: AuditSink;
  /** Where scripts get PATH, HOME and LANG from (default process.env). */
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Told about every finished run (result) or failed one (error), e.g. for the server log. */
  onRun?: (event: CallbackEvent, outcome: { result?: ScriptResult; error?: MediagateError | Error }) => void;
}

export interface PlayerEventPayload {
  event: Exclude<CallbackEvent, 'volumeChange'>;
  time: string;
  player: string;
  status: PlayerState['status'];
  title: string | null;
  artist: string | null;
  album: string | null;
  duration: number | null;
  position: number | null;
  previous: { status: PlayerState['status']; title: string | null; artist: string | null; album: string | null } | null;
}

export interface VolumeEventPayload {
  event: 'volumeChange';
  time: string;
  player: string | null;
  level: number;
  muted: boolean;
  target: VolumeState['target'];
  backend: VolumeState['backend'];
  previous: { level: number; muted: boolean } | null;
}

export type CallbackPayload = PlayerEventPayload | VolumeEventPayload;

const sameTrack = (a: PlayerState, b: PlayerState) => a.title === b.title && a.artist === b.artist && a.album === b.album;

const STATUS_EVENT: Record<PlayerState['status'], 'play' | 'pause' | 'stop'> = { playing: 'play', paused: 'pause', stopped: 'stop' };

function playerPayload(event: PlayerEventPayload['event'], time: string, s: PlayerState, before: PlayerState | null): PlayerEventPayload {
  return {
    event,
    time,
    player: s.player,
    status: s.status,
    title: s.title,
    artist: s.artist,
    album: s.album,
    duration: s.duration,
    position: s.position,
    previous: before ? { status: before.status, title: before.title, artist: before.artist, album: before.album } : null,
  };
}

/**
 * The player events between two snapshots (pure; exported for tests). Looks
 * at the player active before and the one active now.
 */
export function derivePlayerEvents(prev: LiveSnapshot, next: LiveSnapshot, time: string): PlayerEventPayload[] {
  const names = [...new Set([prev.active?.player, next.active?.player].filter((n): n is string => typeof n === 'string'))];
  const events: PlayerEventPayload[] = [];
  for (const name of names) {
    const before = prev.players.find((p) => p.player === name) ?? null;
    const after = next.players.find((p) => p.player === name) ?? null;
    if (!after) {
      if (before && before.status !== 'stopped') {
        events.push(playerPayload('stop', time, { ...before, status: 'stopped', position: null, positionUpdatedAt: null }, before));
      }
      continue;
    }
    if (!before) {
      if (after.status === 'playing') events.push(playerPayload('play', time, after, null));
      continue;
    }
    if (before.status !== after.status) events.push(playerPayload(STATUS_EVENT[after.status], time, after, before));
    if (!sameTrack(before, after) && (after.title !== null || after.artist !== null || after.album !== null)) {
      events.push(playerPayload('trackChange', time, after, before));
    }
  }
  return events;
}

interface Lane {
  running: Promise<void> | null;
  pending: CallbackPayload | null;
}

export class Callbacks {
  private readonly opts: CallbacksOptions;
  private readonly scripts = new Map<CallbackEvent, string>();
  private readonly lanes = new Map<CallbackEvent, Lane>();
  private readonly abort = new AbortController();
  private prev: LiveSnapshot | null = null;
  private prevVolume: VolumeState | null = null;
  private started = false;
  private stopped = false;
  /** Events dropped because a newer one of the same kind replaced them while waiting. */
  coalesced = 0;

  private readonly onStatus = (snap: LiveSnapshot) => this.status(snap);
  private readonly onVolume = (v: VolumeState | null) => this.volume(v);

  constructor(opts: CallbacksOptions) {
    this.opts = opts;
  }

  /**
   * Check `callbacks.on.*` against the scripts (ConfigError naming the key
   * when one names a missing script or a script that needs parameters), take
   * the current state as the starting point, and subscribe. Returns this.
   */
  start(): this {
    if (this.started) return this;
    const { config } = this.opts;
    const scripts = loadScripts(config);
    for (const kind of CALLBACK_EVENTS) {
      const key = `callbacks.on.${kind}`;
      const name = config.has(key) ? config.get<string>(key) : undefined;
      if (name === undefined) continue;
      const def = scripts.get(name);
      if (!def) throw new ConfigError(`${key} names script '${name}', which is not defined`, `define "scripts" → "${name}" in config.json, or remove it with: mediagate config unset ${key}`, 'callbacks.unknown_script');
      const required = Object.entries(def.params).filter(([, p]) => p.required).map(([n]) => n);
      if (required.length) throw new ConfigError(`${key} names script '${name}', which needs parameter(s) ${required.join(', ')}; a callback gets the event on stdin and no parameters`, undefined, 'callbacks.script_needs_params');
      this.scripts.set(kind, name);
      this.lanes.set(kind, { running: null, pending: null });
    }
    this.started = true;
    const snap = this.opts.live.snapshot();
    this.prev = snap;
    this.prevVolume = snap.volume;
    if (this.scripts.size === 0) return this; // nothing to run: do not even listen
    void preloadScriptRunner(); // so the first callback is not late by execa's import time
    this.opts.live.on('status', this.onStatus);
    this.opts.live.on('volume', this.onVolume);
    return this;
  }

  /** Which script each event runs. */
  configured(): Partial<Record<CallbackEvent, string>> {
    return Object.fromEntries(this.scripts);
  }

  /** Unsubscribe, drop waiting events, end running scripts (SIGTERM, then SIGKILL) and wait for them. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.opts.live.off('status', this.onStatus);
    this.opts.live.off('volume', this.onVolume);
    for (const lane of this.lanes.values()) lane.pending = null;
    this.abort.abort();
    await this.idle();
  }

  /** Resolves when no callback is running or waiting (for tests and shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.lanes.values()].map((l) => l.running).filter((p): p is Promise<void> => p !== null);
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  private now(): string {
    return (this.opts.now ?? (() => new Date()))().toISOString();
  }

  private status(snap: LiveSnapshot): void {
    try {
      const prev = this.prev ?? { players: [], active: null, volume: null, problems: [] };
      this.prev = snap;
      for (const e of derivePlayerEvents(prev, snap, this.now())) this.fire(e.event, e);
    } catch { /* never let a callback problem reach the LiveState */ }
  }

  private volume(v: VolumeState | null): void {
    if (!v) return; // the mixer went away: not a change of level; the next reading is compared with the last one
    try {
      const before = this.prevVolume;
      this.prevVolume = v;
      if (!before || (before.level === v.level && before.muted === v.muted)) return;
      this.fire('volumeChange', {
        event: 'volumeChange',
        time: this.now(),
        player: this.prev?.active?.player ?? null,
        level: v.level,
        muted: v.muted,
        target: v.target,
        backend: v.backend,
        previous: { level: before.level, muted: before.muted },
      });
    } catch { /* as above */ }
  }

  private fire(kind: CallbackEvent, payload: CallbackPayload): void {
    const lane = this.lanes.get(kind);
    if (!lane || this.stopped) return;
    if (lane.running) {
      if (lane.pending) this.coalesced++;
      lane.pending = payload;
      return;
    }
    this.launch(kind, lane, payload);
  }

  private launch(kind: CallbackEvent, lane: Lane, payload: CallbackPayload): void {
    const name = this.scripts.get(kind)!;
    lane.running = (async () => {
      try {
        const result = await runScript(this.opts.config, name, {}, {
          actor: CALLBACK_ACTOR,
          audit: this.opts.audit,
          scope: 'admin',
          input: `${JSON.stringify(payload)}\n`,
          env: this.opts.env,
          exclusive: false,
          reason: `callback ${kind}`,
          signal: this.abort.signal,
        });
        this.report(kind, { result });
      } catch (e) {
        // Already audited by runScript; a callback failure is nobody's exception.
        this.report(kind, { error: e as Error });
      }
    })().finally(() => {
      lane.running = null;
      const next = lane.pending;
      lane.pending = null;
      if (next && !this.stopped) this.launch(kind, lane, next);
    });
  }

  private report(kind: CallbackEvent, outcome: { result?: ScriptResult; error?: MediagateError | Error }): void {
    try { this.opts.onRun?.(kind, outcome); } catch { /* a reporter must not break callbacks */ }
  }
}
