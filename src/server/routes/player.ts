/**
 * Players and volume: the same core functions the CLI calls (Controller),
 * the same JSON as `play status|players --json`, `play <action> --json`,
 * `play seek --json` and `volume --json`.
 *
 * Reads come from the LiveState snapshot (status, volume) or the controller
 * (players); they are not audited. Every control request is audited — ok or
 * error — as the caller, with address and request id (the controller itself
 * is built without an audit sink, so nothing is recorded twice).
 */
import { UsageError } from '../../core/errors.js';
import type { SeekTarget } from '../../core/players/seek.js';
import type { PlayerAction } from '../../core/players/types.js';
import type { VolumeRequest } from '../../core/volume/types.js';
import { sanitizeMessage } from '../http-error.js';
import { ACTION_NAME } from '../shapes.js';
import { isIgnored } from '../../core/players/select.js';
import { codeOf, ignoreOf, optBoolean, optNumber, optString, playerOf, queryString } from './input.js';
import { RawJson, type ApiRoute, type Call } from './types.js';

/** Run a control action and audit its outcome as the caller. */
export async function audited<T>(c: Call, action: string, target: string | undefined, detail: string | undefined, run: () => Promise<T>, targetOf?: (r: T) => string): Promise<T> {
  try {
    const r = await run();
    c.audit(action, 'ok', targetOf ? targetOf(r) : target, detail);
    return r;
  } catch (e) {
    c.audit(action, 'error', target, `${codeOf(e)}${detail ? ` ${detail}` : ''}`);
    throw e;
  }
}

/**
 * The player a request names (`player`, body or query), after its own
 * `ignore` list (as --ignore-player): resolved in the live snapshot as the
 * CLI's hub would choose, so the controller is given a name. Without an
 * ignore list the name (or none) goes to the controller as it is.
 */
export function requestedPlayer(c: Call, body: Record<string, unknown> = {}): string | undefined {
  const player = playerOf(body, c.query);
  const ignore = ignoreOf(body, c.query);
  return ignore.length ? c.app.view.select(player, ignore).player : player;
}

function status(c: Call): RawJson {
  return new RawJson(c.app.view.text(queryString(c.query, 'player'), Date.now(), ignoreOf({}, c.query)));
}

async function players(c: Call) {
  const ignore = ignoreOf({}, c.query);
  const { players: all, problems } = await c.app.controller.players();
  const rows = ignore.length ? all.filter((r) => !isIgnored(r, ignore)) : all;
  const safeRows = rows.map((r) => (r.error === undefined ? r : { ...r, error: sanitizeMessage(r.error) }));
  return { players: safeRows, problems: problems.map((p) => ({ code: p.code, message: sanitizeMessage(p.message) })) };
}

function action(a: PlayerAction) {
  return async (c: Call) => {
    const body = await c.body({ optional: true });
    const player = requestedPlayer(c, body);
    const r = await audited(c, `player.${a}`, player, undefined, () => c.app.controller.act(a, player), (x) => x.player);
    c.app.view.invalidate();
    return { ok: true, player: r.player, action: ACTION_NAME[a] };
  };
}

/** `{position}` (s), `{offset}` (s, ±), or `{percent}` (0–100): exactly one. */
export function seekTarget(b: Record<string, unknown>): SeekTarget {
  const position = optNumber(b, 'position', 0, 1e7);
  const offset = optNumber(b, 'offset', -1e7, 1e7);
  const percent = optNumber(b, 'percent', 0, 100);
  const given = [position, offset, percent].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new UsageError('give exactly one of position (seconds), offset (± seconds) or percent (0–100)', undefined, 'usage.invalid_seek');
  }
  if (position !== undefined) return { kind: 'absolute', seconds: position };
  if (offset !== undefined) return { kind: 'relative', seconds: offset };
  return { kind: 'percent', percent: percent! };
}

async function seek(c: Call) {
  const body = await c.body();
  const target = seekTarget(body);
  const player = requestedPlayer(c, body);
  const detail = target.kind === 'percent' ? `${target.percent}%` : target.kind === 'relative' ? `${target.seconds >= 0 ? '+' : ''}${target.seconds}` : String(target.seconds);
  const r = await audited(c, 'player.seek', player, detail, () => c.app.controller.seek(target, player), (x) => x.player);
  c.app.view.invalidate();
  return { ok: true, player: r.player, action: 'seek', position: r.position };
}

function volumeTarget(v: string | undefined): 'system' | 'player' | undefined {
  if (v === undefined || v === 'system' || v === 'player') return v;
  throw new UsageError(`invalid target '${v}'`, "use 'system' or 'player'", 'usage.invalid_target');
}

async function getVolume(c: Call) {
  const target = volumeTarget(queryString(c.query, 'target'));
  const player = target === 'player' ? requestedPlayer(c) : queryString(c.query, 'player');
  const snap = c.app.live.snapshot().volume;
  if (snap && target === undefined && player === undefined) return { level: snap.level, muted: snap.muted, target: snap.target, backend: snap.backend };
  const v = await c.app.controller.volume({ kind: 'get' }, target, player);
  return { level: v.level, muted: v.muted, target: v.target, backend: v.backend };
}

/**
 * PUT /api/volume {level?, muted?, change?, target?, player?}: `level` 0–100
 * or `change` −100…100 (relative, an extension), and/or `muted`. Out of
 * range is 422, like `volume 150` is an error on the command line.
 */
async function putVolume(c: Call) {
  const body = await c.body();
  const level = optNumber(body, 'level', 0, 100, { integer: true });
  const change = optNumber(body, 'change', -100, 100, { integer: true });
  const muted = optBoolean(body, 'muted');
  const target = volumeTarget(optString(body, 'target'));
  const player = target === 'player' ? requestedPlayer(c, body) : playerOf(body, c.query);
  if (level !== undefined && change !== undefined) throw new UsageError('give level or change, not both', undefined, 'usage.invalid_volume');
  const requests: VolumeRequest[] = [];
  if (level !== undefined) requests.push({ kind: 'set', level });
  if (change !== undefined) requests.push({ kind: 'change', delta: change });
  if (muted !== undefined) requests.push({ kind: muted ? 'mute' : 'unmute' });
  if (requests.length === 0) throw new UsageError('nothing to change: give level (0–100), change (−100…100) or muted', undefined, 'usage.invalid_volume');
  let last = undefined as Awaited<ReturnType<Call['app']['controller']['volume']>> | undefined;
  for (const r of requests) {
    const detail = r.kind === 'set' ? String(r.level) : r.kind === 'change' ? `${r.delta >= 0 ? '+' : ''}${r.delta}` : r.kind;
    last = await audited(c, 'volume.set', player, detail, () => c.app.controller.volume(r, target, player), (v) => `${v.target}:${v.backend}`);
  }
  return { level: last!.level, muted: last!.muted, target: last!.target, backend: last!.backend };
}

export const PLAYER_ROUTES: ApiRoute[] = [
  { method: 'GET', path: '/api/status', scope: 'read', handler: status },
  { method: 'GET', path: '/api/players', scope: 'read', handler: players },
  { method: 'GET', path: '/api/volume', scope: 'read', handler: getVolume },
  { method: 'PUT', path: '/api/volume', scope: 'control', handler: putVolume },
  { method: 'POST', path: '/api/player/play', scope: 'control', handler: action('play') },
  { method: 'POST', path: '/api/player/pause', scope: 'control', handler: action('pause') },
  { method: 'POST', path: '/api/player/toggle', scope: 'control', handler: action('toggle') },
  { method: 'POST', path: '/api/player/stop', scope: 'control', handler: action('stop') },
  { method: 'POST', path: '/api/player/next', scope: 'control', handler: action('next') },
  { method: 'POST', path: '/api/player/previous', scope: 'control', handler: action('previous') },
  { method: 'POST', path: '/api/player/seek', scope: 'control', handler: seek },
];
