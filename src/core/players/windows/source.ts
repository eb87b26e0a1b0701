/**
 * Windows players: every app with a system media session
 * (GlobalSystemMediaTransportControlsSessionManager) is one player, named
 * after its app (see playerNameForApp), read and controlled through the
 * PowerShell helper.
 */
import { NoPlayerError, UsageError } from '../../errors.js';
import { DEFAULT_BACKEND_TIMEOUT_MS } from '../../timeout.js';
import { ArtworkCache } from '../artwork-cache.js';
import type { Metadata, NamedPlayerSource, Player, PlayerAction, PlayerState, RepeatMode, SourceOptions } from '../types.js';
import { acquireHelper, type WindowsHelper } from './helper.js';
import { REPEAT_TO_WINDOWS, secondsToTicks, sessionMetadata, sessionNames, sessionsOf, sessionState, type HelperEvent, type RawSession } from './protocol.js';

const FRESH_MS = 750;

interface Listing { at: number; sessions: RawSession[]; names: string[] }

function notFound(name: string): NoPlayerError {
  return new NoPlayerError(`no Windows media session named '${name}'`, 'list the players to see their names', 'player.not_found');
}

export class WindowsSource implements NamedPlayerSource {
  readonly backend = 'windows' as const;
  private readonly lease: { helper: WindowsHelper; release(): Promise<void> };
  private last: Listing | undefined;
  readonly artwork: ArtworkCache;
  private readonly artworkAsked = new Set<string>();
  private readonly watchers = new Set<(name: string) => void>();
  private readonly env: NodeJS.ProcessEnv;
  private onEvent: ((e: HelperEvent) => void) | undefined;
  private onRestart: (() => void) | undefined;

  constructor(opts: Partial<SourceOptions> = {}) {
    this.env = opts.env ?? process.env;
    this.lease = acquireHelper({ env: this.env, timeoutMs: opts.timeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS });
    this.artwork = new ArtworkCache(this.env);
  }

  get helper(): WindowsHelper {
    return this.lease.helper;
  }

  /** Every session with its name (one helper request; reused within one command). */
  async sessions(fresh = false): Promise<Listing> {
    if (!fresh && this.last && Date.now() - this.last.at < FRESH_MS) return this.last;
    const sessions = sessionsOf(await this.helper.request('sessions'));
    this.last = { at: Date.now(), sessions, names: sessionNames(sessions) };
    return this.last;
  }

  invalidate(): void {
    this.last = undefined;
  }

  async session(name: string): Promise<RawSession> {
    const l = await this.sessions();
    const i = l.names.indexOf(name);
    if (i < 0) throw notFound(name);
    return l.sessions[i]!;
  }

  /** The cached artwork of a session's track; fetched once per track (in the background). */
  artUrlOf(s: RawSession, name: string): string | null {
    if (!s.hasThumbnail) return null;
    const key = ArtworkCache.key('windows', s.app, s.title ?? null, s.artist ?? null, s.albumTitle ?? null);
    const cached = this.artwork.get(key);
    if (cached || this.artworkAsked.has(key)) return cached;
    this.artworkAsked.add(key);
    this.helper.request('artwork', { session: s.id }).then((r) => {
      const a = r as { base64?: string; mimeType?: string } | null;
      if (!a?.base64 || !this.artwork.put(key, a.base64, a.mimeType)) return;
      for (const w of this.watchers) w(name);
    }, () => { /* no picture this time */ });
    return null;
  }

  stateOf(s: RawSession, name: string): PlayerState {
    return sessionState(s, name, Date.now(), this.artUrlOf(s, name));
  }

  async list(): Promise<Player[]> {
    const l = await this.sessions();
    return l.names.map((n) => new WindowsPlayer(this, n));
  }

  async find(requested: string): Promise<Player[]> {
    const l = await this.sessions();
    const exact = l.names.filter((n) => n === requested);
    return (exact.length ? exact : l.names.filter((n) => n.startsWith(`${requested}.`))).map((n) => new WindowsPlayer(this, n));
  }

  async player(name: string): Promise<Player> {
    const found = (await this.find(name)).find((p) => p.name === name);
    if (!found) throw notFound(name);
    return found;
  }

  async watch(onChange: (playerName: string) => void): Promise<() => Promise<void>> {
    this.watchers.add(onChange);
    if (!this.onEvent) {
      const notifyAll = async () => {
        const before = this.last?.names ?? [];
        this.invalidate();
        const after = await this.sessions().then((l) => l.names, () => [] as string[]);
        for (const n of new Set([...before, ...after])) for (const w of this.watchers) w(n);
      };
      this.onEvent = (e) => {
        if (e.event === 'volume') return;
        if (e.event === 'session' && e.session && this.last) {
          const i = this.last.sessions.findIndex((s) => s.id === e.session);
          if (i >= 0) { const name = this.last.names[i]!; this.invalidate(); for (const w of this.watchers) w(name); return; }
        }
        void notifyAll();
      };
      this.onRestart = () => { void notifyAll(); };
      this.helper.on('event', this.onEvent);
      this.helper.on('restart', this.onRestart);
      await this.helper.request('watch');
    }
    return async () => { this.watchers.delete(onChange); };
  }

  async close(): Promise<void> {
    this.watchers.clear();
    if (this.onEvent) this.helper.off('event', this.onEvent);
    if (this.onRestart) this.helper.off('restart', this.onRestart);
    await this.lease.release();
  }
}

const CONTROL: Record<PlayerAction, { action: string; needs: keyof PlayerState['capabilities'] }> = {
  play: { action: 'play', needs: 'canPlay' },
  pause: { action: 'pause', needs: 'canPause' },
  toggle: { action: 'toggle', needs: 'canControl' },
  stop: { action: 'stop', needs: 'canControl' },
  next: { action: 'next', needs: 'canGoNext' },
  previous: { action: 'previous', needs: 'canGoPrevious' },
};

function unsupported(player: string, what: string): NoPlayerError {
  return new NoPlayerError(`player '${player}' does not allow '${what}' now (the app has it disabled)`,
    'the app reports it cannot do this at the moment; try another action or player', 'player.unsupported');
}

/** One app's media session. */
export class WindowsPlayer implements Player {
  readonly backend = 'windows' as const;
  constructor(private readonly source: WindowsSource, readonly name: string) {}

  async state(): Promise<PlayerState> {
    return this.source.stateOf(await this.source.session(this.name), this.name);
  }

  private async send(type: 'control' | 'seek' | 'shuffle' | 'repeat', params: Record<string, unknown>): Promise<void> {
    const s = await this.source.session(this.name);
    this.source.invalidate();
    await this.source.helper.request(type, { session: s.id, ...params });
  }

  async act(action: PlayerAction): Promise<void> {
    const spec = CONTROL[action];
    if (!spec) throw new UsageError(`unknown player action '${String(action)}'`);
    const s = await this.source.session(this.name);
    const c = s.playback?.controls ?? {};
    // Apps disable Play while playing and Pause while paused: asking for what already is, is done.
    const now = s.playback?.status;
    if ((action === 'play' && now === 'Playing') || (action === 'pause' && now === 'Paused')) return;
    const allowed = action === 'toggle' ? c.toggle === true || c.play === true || c.pause === true
      : action === 'stop' ? c.stop === true
        : this.source.stateOf(s, this.name).capabilities[spec.needs];
    if (!allowed) throw unsupported(this.name, action);
    await this.send('control', { action: spec.action });
  }

  async seekTo(seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`cannot seek to ${seconds}: the position must be a number of seconds ≥ 0`);
    const s = await this.source.session(this.name);
    if (s.playback?.controls?.seek !== true) throw unsupported(this.name, 'seek');
    await this.send('seek', { ticks: secondsToTicks(seconds, s) });
  }

  async seekBy(offsetSeconds: number): Promise<void> {
    if (!Number.isFinite(offsetSeconds)) throw new UsageError(`cannot seek by ${offsetSeconds}: the offset must be a number of seconds`);
    const s = await this.source.session(this.name);
    if (s.playback?.controls?.seek !== true) throw unsupported(this.name, 'seek');
    const now = this.source.stateOf(s, this.name);
    const to = Math.min(Math.max(0, (now.position ?? 0) + offsetSeconds), now.duration ?? Infinity);
    await this.send('seek', { ticks: secondsToTicks(to, s) });
  }

  async setVolume(): Promise<void> {
    throw new NoPlayerError(`player '${this.name}' has no volume of its own in Windows media sessions`, 'use the system volume (--target system)', 'player.unsupported');
  }

  async setShuffle(on: boolean): Promise<void> {
    const s = await this.source.session(this.name);
    if (s.playback?.controls?.shuffle !== true) throw unsupported(this.name, 'shuffle');
    await this.send('shuffle', { on });
  }

  async setRepeat(mode: RepeatMode): Promise<void> {
    const s = await this.source.session(this.name);
    if (s.playback?.controls?.repeat !== true) throw unsupported(this.name, 'repeat');
    await this.send('repeat', { mode: REPEAT_TO_WINDOWS[mode] });
  }

  async metadata(): Promise<Metadata> {
    return sessionMetadata(await this.source.session(this.name));
  }
}
