import { UsageError } from '../../core/errors.js';
import { compileTemplate, formatClock, TemplateError, escapeValue, type EscapeMode } from '../../core/format.js';
import { parseSeek } from '../../core/players/seek.js';
import { LiveState, type LiveSnapshot } from '../../core/live.js';
import { noPlayers } from '../../core/players/hub.js';
import type { PlayerAction, PlayerState } from '../../core/players/types.js';
import type { PlayerRow } from '../../core/control.js';
import { ACTION_NAME, statusJson } from '../../core/players/json.js';
import { out, outJson, say, type Ctx } from '../context.js';
import { followRemote, withController, withLocal } from './players.js';

export interface PlayFlags {
  player?: string | undefined;
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

function templateFor(flags: PlayFlags): ((s: PlayerState, mode: EscapeMode) => string) | undefined {
  if (flags.format === undefined) return undefined;
  try {
    return compileTemplate(flags.format);
  } catch (e) {
    if (e instanceof TemplateError) throw new UsageError(`invalid --format: ${e.message}`, undefined, 'usage.invalid_format');
    throw e;
  }
}

/** `mediagate play status` (and `status`). */
export async function playStatus(ctx: Ctx, flags: PlayFlags): Promise<void> {
  const template = templateFor(flags);
  if (flags.follow) return followStatus(ctx, flags, template);
  await withController(ctx, async (ctl) => {
    const state = await ctl.status(flags.player);
    if (template) out(ctx, template(state, ctx.json ? 'json' : 'plain'));
    else if (ctx.json) outJson(ctx, statusJson(state));
    else out(ctx, statusText(state));
  });
}


/** `mediagate play` (resume), `play pause|toggle|stop|next|prev` and the top-level aliases. */
export async function playAction(ctx: Ctx, action: PlayerAction, flags: PlayFlags): Promise<void> {
  await withController(ctx, async (ctl) => {
    const { player } = await ctl.act(action, flags.player);
    if (ctx.json) outJson(ctx, { ok: true, player, action: ACTION_NAME[action] });
  });
}

/** `mediagate play seek POS`. */
export async function playSeek(ctx: Ctx, position: string, flags: PlayFlags): Promise<void> {
  const target = parseSeek(position);
  await withController(ctx, async (ctl) => {
    const done = await ctl.seek(target, flags.player);
    if (ctx.json) outJson(ctx, { ok: true, player: done.player, action: 'seek', position: done.position });
  });
}

/** One row of `play players`: `*` marks the one bare commands act on; a hung player is "not responding". */
function playerLine(r: PlayerRow): string {
  const status = r.responding ? r.status : 'not responding';
  return `${r.active ? '*' : ' '} ${clean(r.name).padEnd(20)} ${status.padEnd(8)} ${r.backend ?? ''}  ${r.title ? clean(r.title) : ''}`.trimEnd();
}

/** `mediagate play players`: every player found, the active one marked, a hung one "not responding". */
export async function playPlayers(ctx: Ctx): Promise<void> {
  await withController(ctx, async (ctl) => {
    const { players: rows, problems } = await ctl.players();
    // Nothing at all: the error says why, once (no notes repeating it).
    if (rows.length === 0) throw noPlayers(problems);
    if (ctx.json) outJson(ctx, rows);
    else for (const r of rows) out(ctx, playerLine(r));
    for (const p of problems) say(ctx, `note: ${p.message}${p.hint ? ` (${p.hint})` : ''}`);
  });
}

/**
 * `play status --follow`: one line (or NDJSON object) per change, flushed,
 * driven by player events through LiveState — nothing runs while nothing
 * changes. Ends on SIGINT/SIGTERM or when stdout closes.
 */
async function followStatus(ctx: Ctx, flags: PlayFlags, template?: (s: PlayerState, mode: EscapeMode) => string): Promise<void> {
  const render = (s: PlayerState | null): string => {
    if (!s) return ctx.json ? JSON.stringify({ player: null }) : '';
    if (template) return template(s, ctx.json ? 'json' : 'plain');
    if (ctx.json) return JSON.stringify(statusJson(s));
    return `${clean(s.player)}: ${s.status}${s.title ? ` — ${s.artist ? `${clean(s.artist)} - ` : ''}${clean(s.title)}` : ''}`;
  };
  let last: string | undefined;
  const print = (s: PlayerState | null) => {
    const line = render(s);
    if (line === last) return;
    last = line;
    ctx.stdout.write(`${line}\n`);
  };
  const ended = () => new Promise<void>((resolve) => {
    const end = () => resolve();
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
    ctx.stdout.once('error', end);
    ctx.stdout.once('close', end);
  });
  if (await followRemote(ctx, flags.player, print, ended)) return;
  await withLocal(ctx, async ({ hub }, config) => {
    const live = new LiveState(hub, { env: ctx.env, config, player: flags.player });
    // LiveState records the player that changed state last (last-active), so later bare commands pick it.
    const onSnap = (snap: LiveSnapshot) => print(snap.active);
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
  });
}
