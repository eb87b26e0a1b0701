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
import type { SeekTarget } from '../../core/players/seek.js';
import type { PlayerAction } from '../../core/players/types.js';
import type { VolumeRequest } from '../../core/volume/types.js';
import { sanitizeMessage } from '../http-error.js';
import { ACTION_NAME } from '../shapes.js';
import { isIgnored } from '../../core/players/select.js';
import { IGNORE, IGNORE_QUERY, json, PLAYER, VOLUME_TARGET } from '../contract/fields.js';
import { atLeastOne, bool, exactlyOne, int, notTogether, num, obj } from '../contract/json-schema.js';
import { codeOf, ignoreOf, playerOf } from './input.js';
import { RawJson, type ApiRoute, type Call, type RouteContract } from './types.js';

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
  const player = playerOf(body, c.args);
  const ignore = ignoreOf(body, c.args);
  return ignore.length ? c.app.view.select(player, ignore).player : player;
}

function status(c: Call): RawJson {
  return new RawJson(c.app.view.text(c.args.player as string | undefined, Date.now(), ignoreOf({}, c.args)));
}

async function players(c: Call) {
  const ignore = ignoreOf({}, c.args);
  const { players: all, problems } = await c.app.controller.players();
  const rows = ignore.length ? all.filter((r) => !isIgnored(r, ignore)) : all;
  const safeRows = rows.map((r) => (r.error === undefined ? r : { ...r, error: sanitizeMessage(r.error) }));
  return { players: safeRows, problems: problems.map((p) => ({ code: p.code, message: sanitizeMessage(p.message) })) };
}

function action(a: PlayerAction) {
  return async (c: Call) => {
    const body = await c.body();
    const player = requestedPlayer(c, body);
    const r = await audited(c, `player.${a}`, player, undefined, () => c.app.controller.act(a, player), (x) => x.player);
    return { ok: true, player: r.player, action: ACTION_NAME[a] };
  };
}

/** `{position}` (s), `{offset}` (s, ±), or `{percent}` (0–100): exactly one (the contract checked it). */
function seekTarget(b: Record<string, unknown>): SeekTarget {
  if (b.position !== undefined) return { kind: 'absolute', seconds: b.position as number };
  if (b.offset !== undefined) return { kind: 'relative', seconds: b.offset as number };
  return { kind: 'percent', percent: b.percent as number };
}

async function seek(c: Call) {
  const body = await c.body();
  const target = seekTarget(body);
  const player = requestedPlayer(c, body);
  const detail = target.kind === 'percent' ? `${target.percent}%` : target.kind === 'relative' ? `${target.seconds >= 0 ? '+' : ''}${target.seconds}` : String(target.seconds);
  const r = await audited(c, 'player.seek', player, detail, () => c.app.controller.seek(target, player), (x) => x.player);
  return { ok: true, player: r.player, action: 'seek', position: r.position };
}

type VolumeTarget = 'system' | 'player' | undefined;

async function getVolume(c: Call) {
  const target = c.args.target as VolumeTarget;
  const player = target === 'player' ? requestedPlayer(c) : c.args.player as string | undefined;
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
  const { level, change, muted } = body as { level?: number; change?: number; muted?: boolean };
  const target = body.target as VolumeTarget;
  const player = target === 'player' ? requestedPlayer(c, body) : playerOf(body, c.args);
  const requests: VolumeRequest[] = [];
  if (level !== undefined) requests.push({ kind: 'set', level });
  if (change !== undefined) requests.push({ kind: 'change', delta: change });
  if (muted !== undefined) requests.push({ kind: muted ? 'mute' : 'unmute' });
  let last = undefined as Awaited<ReturnType<Call['app']['controller']['volume']>> | undefined;
  for (const r of requests) {
    const detail = r.kind === 'set' ? String(r.level) : r.kind === 'change' ? `${r.delta >= 0 ? '+' : ''}${r.delta}` : r.kind;
    last = await audited(c, 'volume.set', player, detail, () => c.app.controller.volume(r, target, player), (v) => `${v.target}:${v.backend}`);
  }
  return { level: last!.level, muted: last!.muted, target: last!.target, backend: last!.backend };
}

const PLAYER_QUERY = { player: PLAYER, ignore: IGNORE_QUERY };
const PLAYER_ERRORS = { 404: 'no such player', 409: 'the player cannot do that now (player.unsupported)', 503: 'no player, or it did not answer in time' };
const VOLUME_ERRORS = {
  404: 'no such player', 409: 'with target player: the player has no volume of its own (player.unsupported)',
  503: 'no mixer or player available, or it did not answer in time',
};
/** A player's volume is what it reports after the change: one that kept its old value is 409 player.not_applied. */
const SET_VOLUME_ERRORS = { ...VOLUME_ERRORS, 409: 'with target player: the player has no volume of its own (player.unsupported), or kept its old value (player.not_applied)' };

function actionRoute(a: PlayerAction, summary: string): ApiRoute {
  return {
    method: 'POST', path: `/api/player/${a}`, scope: 'control', handler: action(a),
    contract: {
      summary,
      request: { body: { schema: obj({ player: PLAYER, ignore: IGNORE }), required: false }, query: PLAYER_QUERY },
      answers: { 200: json('ActionDone') },
      errors: PLAYER_ERRORS,
    },
  };
}

const SEEK: RouteContract = {
  summary: 'Seek: to a position, by an offset, or to a percentage of the track',
  request: {
    body: {
      schema: obj({
        position: num(0, 1e7, 'seconds from the start'),
        offset: num(-1e7, 1e7, 'seconds forward (or back, negative)'),
        percent: num(0, 100, 'of the track\'s duration'),
        player: PLAYER,
        ignore: IGNORE,
      }, [], { rules: [exactlyOne(['position', 'offset', 'percent'], { code: 'usage.invalid_seek', message: 'give exactly one of position (seconds), offset (± seconds) or percent (0–100)' })] }),
    },
    query: PLAYER_QUERY,
  },
  answers: { 200: json('SeekDone') },
  errors: { ...PLAYER_ERRORS, 409: 'the player cannot seek now (player.unsupported), or did not move there (player.not_applied)' },
};

const PUT_VOLUME: RouteContract = {
  summary: 'Set the volume (level or change) and/or mute',
  description: 'Out of range is 422, as `volume 150` is an error on the command line. Each change is audited.',
  request: {
    body: {
      schema: obj({
        level: int(0, 100, 'the new level'),
        change: int(-100, 100, 'relative change (an extension): +5, −5'),
        muted: bool(),
        target: VOLUME_TARGET,
        player: PLAYER,
        ignore: IGNORE,
      }, [], {
        rules: [
          notTogether(['level', 'change'], { code: 'usage.invalid_volume', message: 'give level or change, not both' }),
          atLeastOne(['level', 'change', 'muted'], { code: 'usage.invalid_volume', message: 'nothing to change: give level (0–100), change (−100…100) or muted' }),
        ],
      }),
    },
    query: PLAYER_QUERY,
  },
  answers: { 200: json('Volume', 'the volume after the change') },
  errors: SET_VOLUME_ERRORS,
};

export const PLAYER_ROUTES: ApiRoute[] = [
  {
    method: 'GET', path: '/api/status', scope: 'read', handler: status,
    contract: { summary: 'What is playing', request: { query: PLAYER_QUERY }, answers: { 200: json('Status') }, errors: { 404: 'no such player', 503: 'no player' } },
  },
  {
    method: 'GET', path: '/api/players', scope: 'read', handler: players,
    contract: { summary: 'Every player found (one row per player); `active` marks the one used by default', request: { query: { ignore: IGNORE_QUERY } }, answers: { 200: json('Players') } },
  },
  {
    method: 'GET', path: '/api/volume', scope: 'read', handler: getVolume,
    contract: { summary: 'The volume', request: { query: { target: VOLUME_TARGET, player: PLAYER, ignore: IGNORE_QUERY } }, answers: { 200: json('Volume') }, errors: VOLUME_ERRORS },
  },
  { method: 'PUT', path: '/api/volume', scope: 'control', handler: putVolume, contract: PUT_VOLUME },
  actionRoute('play', 'Play (resume)'),
  actionRoute('pause', 'Pause'),
  actionRoute('toggle', 'Play or pause'),
  actionRoute('stop', 'Stop'),
  actionRoute('next', 'Next track'),
  actionRoute('previous', 'Previous track'),
  { method: 'POST', path: '/api/player/seek', scope: 'control', handler: seek, contract: SEEK },
];
