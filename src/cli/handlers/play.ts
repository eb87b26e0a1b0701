import { UsageError } from '../../core/errors.js';
import { compileTemplate, formatClock, TemplateError, escapeValue, type StateTemplate } from '../../core/format.js';
import { parseSeek } from '../../core/players/seek.js';
// LiveState (and the mixer watch it brings) only for --follow: imported there, not on every status.
import type { LiveSnapshot } from '../../core/live.js';
import { noPlayers } from '../../core/players/hub.js';
import type { Metadata, PlayerAction, PlayerState } from '../../core/players/types.js';
import type { Controller, PlayerRow } from '../../core/control.js';
import { ACTION_NAME, statusJson } from '../../core/players/json.js';
import { out, outJson, say, type Ctx } from '../context.js';
import { followRemote, withController, withLocal } from './players.js';
import { ignoreList, onSelected, type SelectFlags } from './selection.js';

export interface PlayFlags extends SelectFlags {
  json?: boolean | undefined;
  format?: string | undefined;
  follow?: boolean | undefined;
}


function clean(v: string | null): string {
  return v === null ? '—' : escapeValue(v, 'plain');
}

/** The human block for `play status`. */
function statusText(s: PlayerState): string {
  const pos = s.position === null ? '' : formatClock(s.position);
  const dur = s.duration === null ? '' : formatClock(s.duration);
  const lines = [
    ['player', clean(s.player)],
    ['status', s.status],
    ['title', clean(s.title)],
    ['artist', clean(s.artist)],
    ['album', clean(s.album)],
    ['position', pos || dur ? `${pos || '0:00'} / ${dur || '?'}` : '—'],
    ['volume', s.volume === null ? '—' : String(s.volume)],
    ['shuffle', s.shuffle === null ? '—' : s.shuffle ? 'on' : 'off'],
    ['repeat', s.repeat ?? '—'],
  ];
  return lines.map(([k, v]) => `${k!.padEnd(9)}${v}`).join('\n');
}

function templateFor(flags: PlayFlags): StateTemplate | undefined {
  if (flags.format === undefined) return undefined;
  try {
    return compileTemplate(flags.format);
  } catch (e) {
    if (e instanceof TemplateError) throw new UsageError(`invalid --format: ${e.message}`, undefined, 'usage.invalid_format');
    throw e;
  }
}

/** One line for a player's state: `mpv: playing — Probe - SineA` (--follow, and status --all-players). */
function stateLine(s: PlayerState): string {
  return `${clean(s.player)}: ${s.status}${s.title ? ` — ${s.artist ? `${clean(s.artist)} - ` : ''}${clean(s.title)}` : ''}`;
}

/** A player's raw metadata for a template that reads metadata keys; {} when it reports none. */
function metadataOf(ctl: Controller, player: string): Promise<Metadata> {
  return ctl.metadata(player).then((r) => r.metadata, () => ({}));
}

/**
 * `mediagate play status` (and `status`): a block of fields, one template
 * line, or the JSON; with --all-players one line (template line, JSON
 * array entry) per player. The metadata is asked for only when the template
 * reads a metadata key (xesam:url…).
 */
export async function playStatus(ctx: Ctx, flags: PlayFlags): Promise<void> {
  const template = templateFor(flags);
  if (flags.follow) return followStatus(ctx, flags, template);
  if (template) {
    const mode = ctx.json ? 'json' : 'plain';
    await onSelected(ctx, flags, async (ctl, player) => {
      const state = await ctl.status(player);
      return template(state, mode, template.usesMetadata ? await metadataOf(ctl, state.player) : undefined);
    }, { line: (line) => line });
    return;
  }
  await onSelected(ctx, flags, (ctl, player) => ctl.status(player), { json: statusJson, line: (s, each) => (each ? stateLine(s) : statusText(s)) });
}

/** `mediagate play` (resume), `play pause|toggle|stop|next|prev` and the top-level aliases. */
export async function playAction(ctx: Ctx, action: PlayerAction, flags: PlayFlags): Promise<void> {
  await onSelected(ctx, flags, (ctl, player) => ctl.act(action, player), {
    json: (r) => ({ ok: true, player: r.player, action: ACTION_NAME[action] }),
  });
}

/** `mediagate play seek POS`: the position is the one the player reports afterwards. */
export async function playSeek(ctx: Ctx, position: string, flags: PlayFlags): Promise<void> {
  const target = parseSeek(position);
  await onSelected(ctx, flags, (ctl, player) => ctl.seek(target, player), {
    json: (r) => ({ ok: true, player: r.player, action: 'seek', position: r.position }),
  });
}

/** One row of `play players`: `*` marks the one bare commands act on; a hung player is "not responding". */
function playerLine(r: PlayerRow): string {
  const status = r.responding ? r.status : 'not responding';
  return `${r.active ? '*' : ' '} ${clean(r.name).padEnd(20)} ${status.padEnd(8)} ${r.backend ?? ''}  ${r.title ? clean(r.title) : ''}`.trimEnd();
}

/** `mediagate play players`: every player found (but the ignored ones), the active one marked, a hung one "not responding". */
export async function playPlayers(ctx: Ctx, flags: SelectFlags = {}): Promise<void> {
  await withController(ctx, async (ctl) => {
    const { players: rows, problems } = await ctl.players();
    // Nothing at all: the error says why, once (no notes repeating it).
    if (rows.length === 0) throw noPlayers(problems);
    if (ctx.json) outJson(ctx, rows);
    else for (const r of rows) out(ctx, playerLine(r));
    for (const p of problems) say(ctx, `note: ${p.message}${p.hint ? ` (${p.hint})` : ''}`);
  }, { ignore: ignoreList(flags) });
}

/**
 * `play status --follow`: one line (or NDJSON object) per change, flushed,
 * driven by player events through LiveState — nothing runs while nothing
 * changes. With --all-players, a line for each player whose line changed.
 * Ends on SIGINT/SIGTERM or when stdout closes.
 */
async function followStatus(ctx: Ctx, flags: PlayFlags, template?: StateTemplate): Promise<void> {
  if (flags['all-players'] && flags.player !== undefined) {
    throw new UsageError('give --player or --all-players, not both', undefined, 'usage.invalid_player');
  }
  const ignore = ignoreList(flags);
  /** Set once the controller is known: the metadata of a player, for a template that reads metadata keys. */
  let metadata: ((player: string) => Promise<Metadata>) | undefined;
  const render = (s: PlayerState | null, m?: Metadata): string => {
    if (!s) return ctx.json ? JSON.stringify({ player: null }) : '';
    if (template) return template(s, ctx.json ? 'json' : 'plain', m);
    if (ctx.json) return JSON.stringify(statusJson(s));
    return stateLine(s);
  };
  /** Lines in the order the changes came, even when one waits for its metadata. */
  let printing: Promise<void> = Promise.resolve();
  const withMetadata = (s: PlayerState | null): Promise<Metadata | undefined> =>
    (s && template?.usesMetadata && metadata ? metadata(s.player) : Promise.resolve(undefined));
  let last: string | undefined;
  const print = (s: PlayerState | null) => {
    printing = printing.then(async () => {
      const line = render(s, await withMetadata(s));
      if (line === last) return;
      last = line;
      ctx.stdout.write(`${line}\n`);
    });
  };
  /** --all-players: the last line printed for each player. */
  const lastOf = new Map<string, string>();
  const printEach = (players: PlayerState[]) => {
    printing = printing.then(async () => {
      for (const s of players) {
        const line = render(s, await withMetadata(s));
        if (lastOf.get(s.player) === line) continue;
        lastOf.set(s.player, line);
        ctx.stdout.write(`${line}\n`);
      }
      for (const name of [...lastOf.keys()]) if (!players.some((s) => s.player === name)) lastOf.delete(name);
    });
  };
  const ended = () => new Promise<void>((resolve) => {
    const end = () => resolve();
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
    ctx.stdout.once('error', end);
    ctx.stdout.once('close', end);
  });
  const remoteRefused = () => new UsageError('--all-players and --ignore-player do not follow over --remote: the server pushes one player',
    'follow without them (the server\'s own config players.ignore applies), or run it on the machine that plays', 'usage.unsupported');
  metadata = (player) => withController(ctx, (ctl) => metadataOf(ctl, player));
  if (await followRemote(ctx, flags.player, print, ended, flags['all-players'] || ignore.length > 0 ? remoteRefused : undefined)) return;
  const { LiveState } = await import('../../core/live.js');
  await withLocal(ctx, async (ctl, config) => {
    const { hub } = ctl;
    metadata = (player) => metadataOf(ctl, player);
    const live = new LiveState(hub, { env: ctx.env, config, player: flags.player });
    // LiveState records the player that changed state last (last-active), so later bare commands pick it.
    const onSnap = (snap: LiveSnapshot) => (flags['all-players'] ? printEach(snap.players) : print(snap.active));
    try {
      await live.start();
      if (live.watching === 0) {
        const { problems } = await hub.list(flags.player);
        throw noPlayers(problems);
      }
      onSnap(live.snapshot());
      live.on('status', onSnap);
      await ended();
    } finally {
      await live.stop();
    }
  }, undefined, { ignore, follow: true });
}
