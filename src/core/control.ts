import type { Config } from './config/store.js';
import { MediagateError, NoPlayerError, UsageError } from './errors.js';
import type { AuditActor, AuditSink } from './audit/types.js';
import { formatClock } from './clock.js';
import { playMediaFile, type PlayFileResult } from './media.js';
import { PlayerHub } from './players/hub.js';
import { notApplied, reread } from './players/confirm.js';
import { writeLastActive } from './players/last-active.js';
import { changeRepeat, changeShuffle } from './players/options.js';
import { percentToSeconds, type SeekTarget } from './players/seek.js';
import { relativeLanding, seekLanded } from './players/seek-landed.js';
import type { BackendName, Capabilities, Metadata, Player, PlayerAction, PlayerState, QueueEntry, RepeatMode } from './players/types.js';
import { auditUri, checkUri } from './players/uri.js';
import { applyChange } from './volume/request.js';
import type { MixerName, VolumeRequest } from './volume/types.js';

export interface PlayerRow {
  name: string;
  backend: BackendName | null;
  /** 'unknown' when the player did not answer (`responding` false). */
  status: PlayerState['status'] | 'unknown';
  /** False for a player that is there but did not answer within the time limit (or refused). */
  responding: boolean;
  /** Why it did not answer, when `responding` is false. */
  error?: string;
  title: string | null;
  artist: string | null;
  active: boolean;
  capabilities: Capabilities;
  /** Other names the same player answers to (VLC: `vlc.instance<PID>` beside `vlc`). */
  aliases: string[];
}

export interface VolumeResult {
  level: number;
  muted: boolean;
  target: 'system' | 'player';
  backend: MixerName;
}

export type VolumeTarget = 'system' | 'player' | undefined;

/**
 * What a command asks of mediagate. The local one talks to players and
 * mixers on this machine; the remote one (src/client) to a `mediagate serve`
 * over HTTP. Commands render the results the same way for both.
 */
export interface Controller {
  status(player?: string): Promise<PlayerState>;
  players(): Promise<{ players: PlayerRow[]; problems: MediagateError[] }>;
  act(action: PlayerAction, player?: string): Promise<{ player: string }>;
  seek(target: SeekTarget, player?: string): Promise<{ player: string; position: number | null }>;
  volume(request: VolumeRequest, target: VolumeTarget, player?: string): Promise<VolumeResult>;
  /** Shuffle on, off or toggled; `shuffle` is what the player reports afterwards. */
  setShuffle(value: boolean | 'toggle', player?: string): Promise<{ player: string; shuffle: boolean }>;
  /** Repeat mode set, or stepped (off → playlist → track → off); `repeat` is what the player reports afterwards. */
  setRepeat(mode: RepeatMode | 'toggle', player?: string): Promise<{ player: string; repeat: RepeatMode }>;
  /** Open a URI (or a path the player knows) and play it; a scheme the player does not take is `player.unsupported_scheme`. */
  open(uri: string, player?: string): Promise<{ player: string; uri: string }>;
  /** Every raw metadata key of the current track (xesam:*, mpris:*, the player's own). */
  metadata(player?: string): Promise<{ player: string; metadata: Metadata }>;
  /** The player's queue, the current entry marked; `player.unsupported` where it has none. */
  queue(player?: string): Promise<{ player: string; queue: QueueEntry[] }>;
  /** Play a file from a media folder (`FOLDER`, relative `PATH`). Optional: a controller without it cannot. */
  playFile?(folder: string, path: string, player?: string): Promise<PlayFileResult>;
  close(): Promise<void>;
}

/** The `player.unsupported` error for a backend that lacks an optional Player method. */
function lacks(p: Player, what: string): MediagateError {
  return new NoPlayerError(`player '${p.name}' cannot ${what}`, 'not supported by this player (backend)', 'player.unsupported');
}

/** Seconds to seek to for an absolute or percent target, checked against the track. */
export function absoluteSeek(target: Exclude<SeekTarget, { kind: 'relative' }>, state: PlayerState): number {
  const seconds = target.kind === 'percent' ? percentToSeconds(target.percent, state.duration) : target.seconds;
  if (state.duration !== null && seconds > state.duration) {
    throw new UsageError(`position ${formatClock(seconds)} is past the end of the track (${formatClock(state.duration)})`, undefined, 'usage.invalid_seek');
  }
  return seconds;
}

/**
 * What a live view of the players (serve's LiveState) knows: the player a
 * request means, without asking every player first, and the record of the
 * one last controlled.
 */
export interface KnownPlayers {
  /** The player `requested` (or the default choice) means; undefined when not known. */
  choose(requested?: string): { state: PlayerState; backend: BackendName } | undefined;
  /** `name` was just controlled: the most recently active player from now on. */
  markActive(name: string): void;
}

export interface LocalControllerOptions {
  mpdPassword?: string | undefined;
  now?: () => Date;
  audit?: AuditSink;
  actor?: AuditActor;
  /** The players to use (shared with a LiveState); default: a hub of its own. */
  hub?: PlayerHub;
  /** Players never to act on (as --ignore-player), for a hub of its own. */
  ignore?: readonly string[] | undefined;
  /** A one-shot command (not --follow, not serve): MPRIS through the small wire client. */
  oneShot?: boolean | undefined;
  /**
   * Act on the player this view knows instead of listing and asking every
   * player per command (serve). Without it each command finds its player.
   */
  known?: KnownPlayers;
}

/** Players and mixers on this machine. */
export class LocalController implements Controller {
  readonly hub: PlayerHub;

  private readonly now: () => Date;
  private readonly audit: AuditSink | undefined;
  private readonly actor: AuditActor | undefined;
  private readonly known: KnownPlayers | undefined;

  /**
   * `audit` + `actor`: record every control action (and its failure) — the
   * CLI passes them; the server audits at the request level instead.
   */
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly config: Config,
    opts: LocalControllerOptions = {},
  ) {
    this.hub = opts.hub ?? new PlayerHub({ env, config, mpdPassword: opts.mpdPassword, ignore: opts.ignore, oneShot: opts.oneShot });
    this.now = opts.now ?? (() => new Date());
    this.audit = opts.audit;
    this.actor = opts.actor;
    this.known = opts.known;
  }

  /**
   * Run `fn` on the player a command means. With a view that knows it, that
   * player is addressed directly (no other player is listed or asked); if it
   * has left since, or the view knows none, the players are asked
   * (hub.select), as without a view. `state` is the reading hub.select took,
   * when it took one.
   */
  private async onPlayer<T>(requested: string | undefined, fn: (p: Player, state?: PlayerState) => Promise<T>): Promise<T> {
    const known = this.known?.choose(requested);
    if (known) {
      try {
        return await fn(await this.hub.playerOf(known.backend, known.state.player));
      } catch (e) {
        if (!(e instanceof MediagateError && e.code === 'player.not_found')) throw e;
      }
    }
    const { player, state } = await this.hub.select(requested);
    return fn(player, state);
  }

  /** `name` was just controlled: record it as the most recently active player. */
  private recordActive(name: string): void {
    if (this.known) this.known.markActive(name);
    else writeLastActive(this.env, name, this.now());
  }

  /** Run a control action and record it (ok, or error with its code). */
  private async audited<T extends { player: string }>(action: string, detail: string | undefined, run: () => Promise<T>): Promise<T> {
    if (!this.audit || !this.actor) return run();
    this.audit.prepare?.();
    try {
      const done = await run();
      this.audit.append({ actor: this.actor, action, target: done.player, outcome: 'ok', ...(detail ? { detail } : {}) });
      return done;
    } catch (e) {
      const code = e instanceof MediagateError ? e.code : 'error';
      this.audit.append({ actor: this.actor, action, outcome: 'error', detail: `${code}${detail ? ` ${detail}` : ''}` });
      throw e;
    }
  }

  async status(player?: string): Promise<PlayerState> {
    return (await this.hub.select(player)).state;
  }

  async players(): Promise<{ players: PlayerRow[]; problems: MediagateError[] }> {
    const { states, players, problems, silent } = await this.hub.states();
    const active = this.hub.activeOf(states)?.player;
    const none: Capabilities = {
      canPlay: false, canPause: false, canSeek: false, canGoNext: false, canGoPrevious: false, canSetVolume: false, canControl: false,
      canShuffle: false, canRepeat: false, canOpenUri: false,
    };
    const rows: PlayerRow[] = states.map((s) => ({
      name: s.player,
      backend: players.find((p) => p.name === s.player)?.backend ?? null,
      status: s.status,
      responding: true,
      title: s.title,
      artist: s.artist,
      active: s.player === active,
      capabilities: s.capabilities,
      aliases: s.aliases ?? [],
    }));
    for (const q of silent) {
      rows.push({ name: q.name, backend: q.backend, status: 'unknown', responding: false, error: q.error.message, title: null, artist: null, active: false, capabilities: { ...none }, aliases: [] });
    }
    // A silent player is a row already; problems are what kept whole backends away.
    const silentErrors = new Set(silent.map((q) => q.error));
    return { players: rows, problems: problems.filter((p) => !silentErrors.has(p)) };
  }

  act(action: PlayerAction, player?: string): Promise<{ player: string }> {
    return this.audited(`player.${action}`, undefined, () => this.onPlayer(player, async (p) => {
      await p.act(action);
      this.recordActive(p.name);
      return { player: p.name };
    }));
  }

  seek(target: SeekTarget, player?: string): Promise<{ player: string; position: number | null }> {
    const detail = target.kind === 'percent' ? `${target.percent}%` : `${target.kind === 'relative' && target.seconds >= 0 ? '+' : ''}${target.seconds}`;
    return this.audited('player.seek', detail, () => this.onPlayer(player, async (p, read) => {
      const state = read ?? await p.state();
      const sentAt = Date.now();
      let expected: number | null;
      if (target.kind === 'relative') {
        expected = relativeLanding(state, target.seconds, sentAt);
        await p.seekBy(target.seconds);
      } else {
        expected = absoluteSeek(target, state);
        await p.seekTo(expected);
      }
      this.recordActive(p.name);
      let after: PlayerState;
      let applied: boolean;
      try {
        ({ value: after, applied } = await reread(() => p.state(), (s) => seekLanded(state, s, expected, (Date.now() - sentAt) / 1000), this.hub.timeoutMs));
      } catch (e) {
        // Gone right after the seek: the seek is done (not to be retried elsewhere), its position unknown.
        if (e instanceof MediagateError && e.code === 'player.not_found') return { player: p.name, position: null };
        throw e;
      }
      if (!applied) throw notApplied('seek', formatClock(expected!), after.position === null ? 'no position' : formatClock(after.position), p.name);
      return { player: p.name, position: after.position };
    }));
  }

  setShuffle(value: boolean | 'toggle', player?: string): Promise<{ player: string; shuffle: boolean }> {
    return this.audited('player.shuffle', value === 'toggle' ? 'toggle' : value ? 'on' : 'off', () => this.onPlayer(player, async (p, read) => {
      const shuffle = await changeShuffle(p, read ?? await p.state(), value, this.hub.timeoutMs);
      this.recordActive(p.name);
      return { player: p.name, shuffle };
    }));
  }

  setRepeat(mode: RepeatMode | 'toggle', player?: string): Promise<{ player: string; repeat: RepeatMode }> {
    return this.audited('player.repeat', mode, () => this.onPlayer(player, async (p, read) => {
      const repeat = await changeRepeat(p, read ?? await p.state(), mode, this.hub.timeoutMs);
      this.recordActive(p.name);
      return { player: p.name, repeat };
    }));
  }

  open(uri: string, player?: string): Promise<{ player: string; uri: string }> {
    return this.audited('player.open', auditUri(uri), async () => {
      checkUri(uri);
      return this.onPlayer(player, async (p) => {
        if (!p.openUri) throw lacks(p, 'open URIs');
        await p.openUri(uri);
        this.recordActive(p.name);
        return { player: p.name, uri };
      });
    });
  }

  async metadata(player?: string): Promise<{ player: string; metadata: Metadata }> {
    const { player: p } = await this.hub.select(player);
    if (!p.metadata) throw lacks(p, 'report metadata');
    return { player: p.name, metadata: await p.metadata() };
  }

  async queue(player?: string): Promise<{ player: string; queue: QueueEntry[] }> {
    const { player: p } = await this.hub.select(player);
    if (!p.queue) throw lacks(p, 'show a queue');
    return { player: p.name, queue: await p.queue() };
  }

  /** Play a file from a media folder; checked through SafeJoin before any player is touched (see core/media.ts). */
  playFile(folder: string, path: string, player?: string): Promise<PlayFileResult> {
    const detail = `${folder}/${path}`.slice(0, 300);
    return this.audited('player.play_file', detail, async () => {
      const done = await playMediaFile(this.hub, this.config, folder, path, player);
      this.recordActive(done.player);
      return done;
    });
  }

  async volume(request: VolumeRequest, target: VolumeTarget, player?: string): Promise<VolumeResult> {
    if (request.kind === 'get') return this.readOrChangeVolume(request, target, player);
    const detail = request.kind === 'set' ? String(request.level) : request.kind === 'change' ? `${request.delta >= 0 ? '+' : ''}${request.delta}` : request.kind;
    const done = await this.audited('volume.set', detail, async () => {
      const v = await this.readOrChangeVolume(request, target, player);
      return { ...v, player: `${v.target}:${v.backend}` };
    });
    const { player: _ignored, ...v } = done;
    return v;
  }

  private async readOrChangeVolume(request: VolumeRequest, target: VolumeTarget, player?: string): Promise<VolumeResult> {
    const o = { env: this.env, config: this.config, target, player, hub: this.hub };
    // The mixers (and the child_process they spawn pactl with) load only for a volume command, not for every status.
    const { chooseMixer, chooseMixerForChange } = await import('./volume/select.js');
    if (request.kind === 'set' || request.kind === 'change') {
      // Send the new level as soon as the current one is known; the mute state is read meanwhile.
      const { mixer, reading } = await chooseMixerForChange(o);
      const level = request.kind === 'set' ? request.level : applyChange(reading, request.delta);
      const [, muted] = await Promise.all([request.kind === 'set' || level !== reading.level ? mixer.set(level) : undefined, reading.muted]);
      if (mixer.target === 'player') {
        // A player's volume is what it reports afterwards (VLC without an audio output stays at 0).
        const { value: after, applied } = await reread(() => mixer.get(), (r) => r.level === level, this.hub.timeoutMs);
        if (!applied) throw notApplied('volume change', String(level), String(after.level));
        return { level: after.level, muted: after.muted, target: mixer.target, backend: mixer.backend };
      }
      return { level, muted, target: mixer.target, backend: mixer.backend };
    }
    const { mixer, reading } = await chooseMixer(o);
    let after = reading;
    if (request.kind !== 'get') {
      const muted = request.kind === 'mute' ? true : request.kind === 'unmute' ? false : !reading.muted;
      if (muted !== reading.muted) await mixer.setMuted(muted);
      after = await mixer.get();
    }
    return { level: after.level, muted: after.muted, target: mixer.target, backend: mixer.backend };
  }

  close(): Promise<void> {
    return this.hub.close();
  }
}
