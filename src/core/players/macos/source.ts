/**
 * macOS players. With a working `media-control` (Homebrew): the system's
 * Now Playing item — whatever app plays (Music, Spotify, a browser tab…) —
 * as one player named after the app, read from a long-lived stream while
 * watched (serve, --follow) and with one `get` otherwise. Without it (not
 * installed, or `media-control test` fails on this macOS): Music and
 * Spotify through AppleScript, one player each. `via()` says which is in use.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NoPlayerError, UsageError } from '../../errors.js';
import { ensurePrivateDir, stateDir } from '../../paths.js';
import { writeFileAtomic } from '../../state/atomic.js';
import { DEFAULT_BACKEND_TIMEOUT_MS } from '../../timeout.js';
import { ArtworkCache } from '../artwork-cache.js';
import type { Metadata, NamedPlayerSource, Player, PlayerAction, PlayerState, RepeatMode, SourceOptions } from '../types.js';
import { APP_PLAYER, controlScript, parseReadAll, readAllScript, repeatArg, SCRIPTED_APPS, type ScriptedApp } from './applescript.js';
import { findMediaControl, MediaControl, NowPlayingStream } from './media-control.js';
import { hasItem, nowPlayingMetadata, nowPlayingState, playerNameForBundle, appOf, trackIdentity, type NowPlaying } from './now-playing.js';
import { findOsascript, Osascript } from './osascript.js';

export type MacosVia =
  | { kind: 'media-control'; path: string }
  | { kind: 'applescript'; why: string };

/** How long a `media-control test` verdict is trusted (per binary), so a CLI call does not pay for it. */
const TEST_TTL_MS = 24 * 3600_000;
/** A reading serves the calls of one command (list, then state) without asking again. */
const FRESH_MS = 750;
/** AppleScript offers no change event: while watched, it is re-read this often. */
const APPLESCRIPT_WATCH_MS = 2000;

function notFound(name: string): NoPlayerError {
  return new NoPlayerError(`no macOS player named '${name}'`, 'list the players to see their names', 'player.not_found');
}

function unsupported(player: string, what: string, why: string): NoPlayerError {
  return new NoPlayerError(`player '${player}' does not allow '${what}' (${why})`, undefined, 'player.unsupported');
}

/** The remembered `media-control test` verdict for the binary at `path` (state dir, macos-backend.json). */
function cachedTest(env: NodeJS.ProcessEnv, path: string): { ok: boolean; detail: string } | undefined {
  try {
    const c = JSON.parse(readFileSync(join(stateDir(env), 'macos-backend.json'), 'utf8')) as { path: string; mtimeMs: number; at: number; ok: boolean; detail: string };
    if (c.path !== path || c.mtimeMs !== statSync(path).mtimeMs || Date.now() - c.at > TEST_TTL_MS) return undefined;
    return { ok: c.ok, detail: c.detail };
  } catch { return undefined; }
}

function rememberTest(env: NodeJS.ProcessEnv, path: string, verdict: { ok: boolean; detail: string }): void {
  try {
    ensurePrivateDir(stateDir(env));
    writeFileAtomic(join(stateDir(env), 'macos-backend.json'), `${JSON.stringify({ path, mtimeMs: statSync(path).mtimeMs, at: Date.now(), ...verdict })}\n`);
  } catch { /* only a cache */ }
}

export class MacosSource implements NamedPlayerSource {
  readonly backend = 'macos' as const;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  private viaP: Promise<MacosVia> | undefined;
  private mc: MediaControl | undefined;
  private osa: Osascript | undefined;
  private stream: NowPlayingStream | undefined;
  private last: { at: number; payload: NowPlaying | null } | undefined;
  private lastScripted: { at: number; states: Map<ScriptedApp, PlayerState | null> } | undefined;
  readonly artwork: ArtworkCache;
  /** Tracks whose artwork was asked for in this process (asked once, found or not). */
  private readonly artworkAsked = new Set<string>();
  private readonly watchers = new Set<(name: string) => void>();

  constructor(opts: Partial<SourceOptions> = {}) {
    this.env = opts.env ?? process.env;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS;
    this.artwork = new ArtworkCache(this.env);
  }

  /** media-control when it is there and its test passes, else AppleScript (and why). */
  via(): Promise<MacosVia> {
    this.viaP ??= (async (): Promise<MacosVia> => {
      const path = findMediaControl(this.env);
      if (!path) return { kind: 'applescript', why: 'media-control is not installed (looked on PATH, in /opt/homebrew/bin and /usr/local/bin)' };
      const mc = new MediaControl(path, this.env, this.timeoutMs);
      let verdict = cachedTest(this.env, path);
      if (!verdict) {
        verdict = await mc.test();
        rememberTest(this.env, path, verdict);
      }
      if (!verdict.ok) return { kind: 'applescript', why: `media-control test failed (${verdict.detail})` };
      this.mc = mc;
      return { kind: 'media-control', path };
    })();
    return this.viaP;
  }

  /** The media-control in use (after via() chose it). */
  get mediaControl(): MediaControl {
    if (!this.mc) throw new NoPlayerError('media-control is not in use', undefined, 'macos.no_media_control');
    return this.mc;
  }

  private osascript(): Osascript {
    if (this.osa) return this.osa;
    const path = findOsascript(this.env);
    if (!path) throw new NoPlayerError('neither a working media-control nor osascript was found', 'install media-control (brew install ungive/media-control/media-control)', 'macos.no_backend');
    this.osa = new Osascript(path, this.env, this.timeoutMs);
    return this.osa;
  }

  // --- media-control -------------------------------------------------------

  /** The now playing item: from the stream while it runs, else one `get` (with the artwork when it is not cached). */
  async nowPlaying(): Promise<NowPlaying | null> {
    const live = this.stream?.current();
    if (live) return live;
    if (this.last && Date.now() - this.last.at < FRESH_MS) return this.last.payload;
    const payload = await this.mc!.get(true);
    if (hasItem(payload)) this.keepArtwork(payload);
    this.last = { at: Date.now(), payload };
    return payload;
  }

  /** Forget the last one-shot reading (after a command changed things). */
  invalidate(): void {
    this.last = undefined;
    this.lastScripted = undefined;
  }

  private artworkKey(p: NowPlaying): string {
    const t = trackIdentity(p);
    return ArtworkCache.key('macos', t.app, t.title, t.artist, t.album);
  }

  /** Keep the picture a `get` brought (once per track). */
  private keepArtwork(p: NowPlaying): void {
    const key = this.artworkKey(p);
    this.artworkAsked.add(key);
    const data = p.artworkData ?? p.artworkDataBase64;
    if (typeof data === 'string' && data !== '' && !this.artwork.get(key)) this.artwork.put(key, data, typeof p.artworkMimeType === 'string' ? p.artworkMimeType : null);
    delete p.artworkData;
    delete p.artworkDataBase64;
  }

  /** The artwork URL of the item; while streaming (no artwork in the stream) one `get` per new track fetches it, in the background. */
  artUrlOf(p: NowPlaying): string | null {
    const key = this.artworkKey(p);
    const cached = this.artwork.get(key);
    if (cached || this.artworkAsked.has(key) || !this.mc) return cached;
    this.artworkAsked.add(key);
    const name = playerNameForBundle(appOf(p));
    this.mc.get(true).then((got) => {
      if (!hasItem(got) || this.artworkKey(got) !== key) return;
      this.keepArtwork(got);
      if (this.artwork.get(key)) for (const w of this.watchers) w(name);
    }, () => { /* no picture this time */ });
    return null;
  }

  stateOf(p: NowPlaying): PlayerState {
    return nowPlayingState(p, Date.now(), this.artUrlOf(p));
  }

  // --- AppleScript ---------------------------------------------------------

  /** Every scripted app's state (null: not running), from one osascript call. */
  async scripted(): Promise<Map<ScriptedApp, PlayerState | null>> {
    if (this.lastScripted && Date.now() - this.lastScripted.at < FRESH_MS) return this.lastScripted.states;
    const out = await this.osascript().run(readAllScript(), [], 'Music and Spotify');
    const states = parseReadAll(out, Date.now());
    this.lastScripted = { at: Date.now(), states };
    return states;
  }

  async tell(app: ScriptedApp, command: string, args: string[] = []): Promise<void> {
    this.invalidate();
    const r = await this.osascript().run(controlScript(app, command), args, app);
    if (r.trim() === 'not running') throw notFound(APP_PLAYER[app]);
  }

  // --- PlayerSource --------------------------------------------------------

  async list(): Promise<Player[]> {
    const via = await this.via();
    if (via.kind === 'media-control') {
      const p = await this.nowPlaying();
      return hasItem(p) ? [new NowPlayingPlayer(this, playerNameForBundle(appOf(p)))] : [];
    }
    const states = await this.scripted();
    return SCRIPTED_APPS.filter((a) => states.get(a)).map((a) => new ScriptedPlayer(this, a));
  }

  async find(requested: string): Promise<Player[]> {
    const players = await this.list();
    const exact = players.filter((p) => p.name === requested);
    return exact.length ? exact : players.filter((p) => p.name.startsWith(`${requested}.`));
  }

  async player(name: string): Promise<Player> {
    const found = (await this.find(name)).find((p) => p.name === name);
    if (!found) throw notFound(name);
    return found;
  }

  async watch(onChange: (playerName: string) => void): Promise<() => Promise<void>> {
    const via = await this.via();
    this.watchers.add(onChange);
    if (via.kind === 'media-control') {
      let lastName: string | undefined;
      if (!this.stream) {
        this.stream = new NowPlayingStream({
          path: via.path,
          env: this.env,
          onChange: (p) => {
            const name = hasItem(p) ? playerNameForBundle(appOf(p)) : undefined;
            // The app that played before has gone (or changed): say so for it too.
            if (lastName && lastName !== name) for (const w of this.watchers) w(lastName);
            if (name) for (const w of this.watchers) w(name);
            lastName = name;
          },
        });
        this.stream.start();
        await this.stream.waitFirst(this.timeoutMs);
      }
    } else {
      const timer = setInterval(() => {
        const before = JSON.stringify([...(this.lastScripted?.states ?? new Map()).entries()].map(([a, s]) => [a, s && { ...s, position: null, positionUpdatedAt: null }]));
        this.lastScripted = undefined;
        this.scripted().then((states) => {
          const after = JSON.stringify([...states.entries()].map(([a, s]) => [a, s && { ...s, position: null, positionUpdatedAt: null }]));
          if (after !== before) for (const a of SCRIPTED_APPS) onChange(APP_PLAYER[a]);
        }, () => {});
      }, APPLESCRIPT_WATCH_MS);
      timer.unref();
      return async () => { clearInterval(timer); this.watchers.delete(onChange); };
    }
    return async () => {
      this.watchers.delete(onChange);
      if (this.watchers.size === 0 && this.stream) { const s = this.stream; this.stream = undefined; await s.stop(); }
    };
  }

  /** The stream, when one runs (doctor reports on it). */
  get streaming(): NowPlayingStream | undefined {
    return this.stream;
  }

  async close(): Promise<void> {
    this.watchers.clear();
    const s = this.stream;
    this.stream = undefined;
    await s?.stop();
  }
}

const MC_ACTION: Record<PlayerAction, string> = {
  play: 'play', pause: 'pause', toggle: 'toggle-play-pause', stop: 'stop', next: 'next-track', previous: 'previous-track',
};

/** The app behind macOS Now Playing, controlled through media-control. */
export class NowPlayingPlayer implements Player {
  readonly backend = 'macos' as const;
  constructor(private readonly source: MacosSource, readonly name: string) {}

  /** The item, checked to still be this app's (never control another app by mistake). */
  private async item(): Promise<NowPlaying> {
    const p = await this.source.nowPlaying();
    if (!hasItem(p) || playerNameForBundle(appOf(p)) !== this.name) {
      throw new NoPlayerError(`player '${this.name}' is no longer the app playing on this Mac`, 'list the players again', 'player.not_found');
    }
    return p;
  }

  private async send(...args: string[]): Promise<void> {
    this.source.invalidate();
    await this.source.mediaControl.command(...args);
  }

  async state(): Promise<PlayerState> {
    return this.source.stateOf(await this.item());
  }

  async act(action: PlayerAction): Promise<void> {
    const s = this.source.stateOf(await this.item());
    if ((action === 'next' && !s.capabilities.canGoNext) || (action === 'previous' && !s.capabilities.canGoPrevious)) {
      throw unsupported(this.name, action, 'the app does not allow skipping now');
    }
    await this.send(MC_ACTION[action]);
  }

  async seekTo(seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`cannot seek to ${seconds}: the position must be a number of seconds ≥ 0`);
    const s = this.source.stateOf(await this.item());
    if (!s.capabilities.canSeek) throw unsupported(this.name, 'seek', 'the item has no known duration');
    await this.send('seek', String(Math.round(seconds * 1000) / 1000));
  }

  async seekBy(offsetSeconds: number): Promise<void> {
    if (!Number.isFinite(offsetSeconds)) throw new UsageError(`cannot seek by ${offsetSeconds}: the offset must be a number of seconds`);
    const s = this.source.stateOf(await this.item());
    if (!s.capabilities.canSeek) throw unsupported(this.name, 'seek', 'the item has no known duration');
    const to = Math.min(Math.max(0, (s.position ?? 0) + offsetSeconds), s.duration ?? Infinity);
    await this.send('seek', String(Math.round(to * 1000) / 1000));
  }

  async setVolume(): Promise<void> {
    throw unsupported(this.name, 'volume', 'macOS Now Playing has no per-app volume; use the system volume');
  }

  async setShuffle(on: boolean): Promise<void> {
    await this.item();
    await this.send('shuffle', on ? 'tracks' : 'off');
  }

  async setRepeat(mode: RepeatMode): Promise<void> {
    await this.item();
    await this.send('repeat', mode);
  }

  async metadata(): Promise<Metadata> {
    const via = await this.source.via();
    return { ...nowPlayingMetadata(await this.item()), 'mediagate:via': via.kind };
  }
}

/** Music or Spotify, controlled through AppleScript. */
export class ScriptedPlayer implements Player {
  readonly backend = 'macos' as const;
  readonly name: string;
  constructor(private readonly source: MacosSource, private readonly app: ScriptedApp) {
    this.name = APP_PLAYER[app];
  }

  async state(): Promise<PlayerState> {
    const s = (await this.source.scripted()).get(this.app);
    if (!s) throw notFound(this.name);
    return s;
  }

  async act(action: PlayerAction): Promise<void> {
    await this.state();
    await this.source.tell(this.app, action);
  }

  async seekTo(seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`cannot seek to ${seconds}: the position must be a number of seconds ≥ 0`);
    const s = await this.state();
    if (!s.capabilities.canSeek) throw unsupported(this.name, 'seek', 'nothing with a duration is loaded');
    await this.source.tell(this.app, 'seek', [String(Math.round(seconds * 1000))]);
  }

  async seekBy(offsetSeconds: number): Promise<void> {
    if (!Number.isFinite(offsetSeconds)) throw new UsageError(`cannot seek by ${offsetSeconds}: the offset must be a number of seconds`);
    const s = await this.state();
    if (!s.capabilities.canSeek) throw unsupported(this.name, 'seek', 'nothing with a duration is loaded');
    const to = Math.min(Math.max(0, (s.position ?? 0) + offsetSeconds), s.duration ?? Infinity);
    await this.source.tell(this.app, 'seek', [String(Math.round(to * 1000))]);
  }

  async setVolume(level: number): Promise<void> {
    if (!Number.isFinite(level) || level < 0 || level > 100) throw new UsageError(`volume ${level} is out of range: use 0–100`, undefined, 'usage.out_of_range');
    await this.state();
    await this.source.tell(this.app, 'volume', [String(Math.round(level))]);
  }

  async setShuffle(on: boolean): Promise<void> {
    await this.state();
    await this.source.tell(this.app, 'shuffle', [String(on)]);
  }

  async setRepeat(mode: RepeatMode): Promise<void> {
    const arg = repeatArg(this.app, mode);
    await this.state();
    await this.source.tell(this.app, 'repeat', [arg]);
  }

  async uriSchemes(): Promise<string[]> {
    return this.app === 'Spotify' ? ['spotify'] : [];
  }

  async openUri(uri: string): Promise<void> {
    if (this.app !== 'Spotify' || !/^spotify:[A-Za-z0-9:._-]+$/.test(uri)) {
      throw new NoPlayerError(`player '${this.name}' cannot open '${uri.slice(0, 80)}'`, this.app === 'Spotify' ? 'it accepts spotify: URIs' : 'Music opens nothing by URI through AppleScript', 'player.unsupported_scheme');
    }
    await this.state();
    await this.source.tell(this.app, 'open', [uri]);
  }

  async metadata(): Promise<Metadata> {
    const s = await this.state();
    const out: Metadata = { 'mediagate:via': 'applescript' };
    if (s.title) out['xesam:title'] = s.title;
    if (s.artist) out['xesam:artist'] = [s.artist];
    if (s.album) out['xesam:album'] = s.album;
    if (s.duration !== null) out['mpris:length'] = Math.round(s.duration * 1e6);
    if (s.artUrl) out['mpris:artUrl'] = s.artUrl;
    return out;
  }
}
