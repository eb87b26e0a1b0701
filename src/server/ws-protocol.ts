/**
 * The WebSocket message protocol of `/api/ws` (subprotocol `mediagate.v1`):
 * parsing and checking what clients send, and the shapes of what the server
 * sends. Pure functions, no I/O.
 *
 * Client → server (JSON text frames):
 *   {type:"subscribe", id?, player?}   current `status` and `volume` now, then every change;
 *                                      with `player`, `status` is that player's (the most recently
 *                                      active one whose name matches, as `play status --player`), else null
 *   {type:"subscribe", id?, topic:"audit", filter?, backlog?}   needs the admin scope: the audit
 *                                      log's matching events (`backlog` past ones first, 0–10000,
 *                                      default 10), then each new one as it is written.
 *                                      filter {since? (ISO time), actor?, action?, outcome?} as GET /api/audit
 *   {type:"unsubscribe", id?, topic?}  stop the status pushes (or, with topic "audit", the audit events)
 *   {type:"command", id?, action, args?}   needs the control scope
 *     action play|pause|toggle|stop|next|previous   args {player?}
 *     action seek     args exactly one of {position (s ≥ 0) | offset (s, ±) | percent (0–100)}, player?
 *     action volume   args exactly one of {level 0–100 | change −100…100 | muted true/false | toggleMute true},
 *                     target? ("system"|"player"), player?
 *     action shuffle  args {shuffle: true | false | "toggle", player?}
 *     action repeat   args {repeat: "off" | "track" | "playlist" | "toggle", player?}
 *     action open     args {uri, player?}   also the scope and schemes of POST /api/player/open (open-policy.ts)
 * Server → client:
 *   {type:"status", data: <GET /api/status shape> | null}
 *   {type:"volume", data: {level, muted, target, backend} | null}
 *   {type:"audit", data: <one event as GET /api/audit lists it>}
 *   {type:"result", id, ok:true, data}           (id is null when the request had none)
 *   {type:"error", id?, code, message}
 *
 * Checks are strict: unknown fields are an error naming them (a typo such as
 * `{lvl: 40}` must not silently do nothing), numbers must be finite and in
 * range, ids are short strings or integers.
 */
import { REPEAT_MODES } from '../core/players/options.js';
import type { SeekTarget } from '../core/players/seek.js';
import type { PlayerAction, RepeatMode } from '../core/players/types.js';
import { auditUri, MAX_URI_LENGTH } from '../core/players/uri.js';
import type { VolumeRequest } from '../core/volume/types.js';

export const WS_PROTOCOL = 'mediagate.v1';
export const WS_TOKEN_PROTOCOL_PREFIX = 'mediagate.token.';

/** Codes of `error` messages produced by the protocol layer. */
export const WsErrorCode = {
  invalidJson: 'request.invalid_json',
  binaryFrame: 'request.binary_frame',
  notAnObject: 'request.not_an_object',
  unknownType: 'request.unknown_type',
  invalidMessage: 'request.invalid_message',
  unknownAction: 'request.unknown_action',
  invalidSeek: 'usage.invalid_seek',
  invalidVolume: 'usage.invalid_volume',
  invalidShuffle: 'usage.invalid_shuffle',
  invalidRepeat: 'usage.invalid_repeat',
  invalidUri: 'usage.invalid_uri',
  insufficientScope: 'auth.insufficient_scope',
  rateLimited: 'rate_limit.exceeded',
  busy: 'rate_limit.busy',
  internal: 'server.internal',
} as const;

export type MessageId = string | number;

export const PLAYER_ACTIONS: readonly PlayerAction[] = ['play', 'pause', 'toggle', 'stop', 'next', 'previous'];
export const COMMAND_ACTIONS = [...PLAYER_ACTIONS, 'seek', 'volume', 'shuffle', 'repeat', 'open'] as const;
export type CommandAction = (typeof COMMAND_ACTIONS)[number];

export type Command =
  | { action: PlayerAction; player?: string }
  | { action: 'seek'; target: SeekTarget; player?: string }
  | { action: 'volume'; request: Exclude<VolumeRequest, { kind: 'get' }>; target?: 'system' | 'player'; player?: string }
  | { action: 'shuffle'; value: boolean | 'toggle'; player?: string }
  | { action: 'repeat'; mode: RepeatMode | 'toggle'; player?: string }
  | { action: 'open'; uri: string; player?: string };

/** What an audit subscription asks for (checked for shape here; `since` is parsed by the server). */
export interface AuditFilter {
  since?: string;
  actor?: string;
  action?: string;
  outcome?: 'ok' | 'denied' | 'error';
}

export const AUDIT_BACKLOG_DEFAULT = 10;
export const AUDIT_BACKLOG_MAX = 10_000;

/** A message whose envelope is valid; a command's args are checked separately (after the scope check). */
export type Envelope =
  | { type: 'subscribe'; id: MessageId | undefined; topic: 'status'; player?: string }
  | { type: 'subscribe'; id: MessageId | undefined; topic: 'audit'; filter: AuditFilter; backlog: number }
  | { type: 'unsubscribe'; id: MessageId | undefined; topic: 'status' | 'audit' }
  | { type: 'command'; id: MessageId | undefined; action: unknown; args: unknown };

/** A problem with a client message; becomes an `error` message (the socket stays open). */
export class WsProtocolError extends Error {
  constructor(readonly code: string, message: string, readonly id?: MessageId) {
    super(message);
    this.name = 'WsProtocolError';
  }
}

const MAX_ID_LENGTH = 128;
const MAX_PLAYER_LENGTH = 256;
const TYPES = ['subscribe', 'unsubscribe', 'command'] as const;
const ENVELOPE_KEYS: Record<(typeof TYPES)[number], readonly string[]> = {
  subscribe: ['type', 'id', 'topic', 'player', 'filter', 'backlog'],
  unsubscribe: ['type', 'id', 'topic'],
  command: ['type', 'id', 'action', 'args'],
};

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], what: string, id: MessageId | undefined): void {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (extra.length > 0) {
    const shown = extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ');
    throw new WsProtocolError(WsErrorCode.invalidMessage, `unknown field${extra.length > 1 ? 's' : ''} in ${what}: ${shown}; allowed: ${allowed.join(', ')}`, id);
  }
}

function readId(obj: Record<string, unknown>): MessageId | undefined {
  if (!hasOwn(obj, 'id') || obj.id === undefined || obj.id === null) return undefined;
  const id = obj.id;
  if (typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  throw new WsProtocolError(WsErrorCode.invalidMessage, `"id" must be a string of 1–${MAX_ID_LENGTH} characters or an integer`);
}

/**
 * Parse one text frame into a message envelope, or throw WsProtocolError
 * (invalid JSON, not an object, unknown type, bad id, unknown field).
 */
export function parseEnvelope(text: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new WsProtocolError(WsErrorCode.invalidJson, 'the message is not valid JSON');
  }
  if (!isPlainObject(value)) throw new WsProtocolError(WsErrorCode.notAnObject, 'a message must be a JSON object with a "type"');
  const id = readId(value);
  const type = value.type;
  if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
    const shown = typeof type === 'string' ? ` "${type.slice(0, 40)}"` : type === undefined ? '' : ` ${typeof type}`;
    throw new WsProtocolError(WsErrorCode.unknownType,
      `${type === undefined ? 'missing message "type"' : `unknown message type${shown}`}; expected one of: ${TYPES.join(', ')}`, id);
  }
  const t = type as (typeof TYPES)[number];
  checkKeys(value, ENVELOPE_KEYS[t], `a ${t} message`, id);
  if (t === 'command') return { type: t, id, action: value.action, args: value.args };
  const topic = readTopic(value, id);
  if (t === 'unsubscribe') return { type: t, id, topic };
  if (topic === 'audit') {
    checkKeys(value, ['type', 'id', 'topic', 'filter', 'backlog'], 'an audit subscription', id);
    return { type: t, id, topic, filter: auditFilter(value.filter, id), backlog: auditBacklog(value.backlog, id) };
  }
  checkKeys(value, ['type', 'id', 'topic', 'player'], 'a status subscription', id);
  const player = optionalPlayer(value, id, '"player"');
  return { type: t, id, topic, ...(player !== undefined ? { player } : {}) };
}

function readTopic(value: Record<string, unknown>, id: MessageId | undefined): 'status' | 'audit' {
  const topic = value.topic;
  if (topic === undefined || topic === null || topic === 'status') return 'status';
  if (topic === 'audit') return 'audit';
  throw new WsProtocolError(WsErrorCode.invalidMessage, '"topic" must be "status" (the default) or "audit"', id);
}

const AUDIT_FILTER_LIMITS = { since: 64, actor: 256, action: 64, outcome: 16 } as const;

function auditFilter(v: unknown, id: MessageId | undefined): AuditFilter {
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v)) throw new WsProtocolError(WsErrorCode.invalidMessage, '"filter" must be an object', id);
  checkKeys(v, Object.keys(AUDIT_FILTER_LIMITS), 'the audit filter', id);
  const out: AuditFilter = {};
  for (const [k, max] of Object.entries(AUDIT_FILTER_LIMITS) as Array<[keyof AuditFilter, number]>) {
    const x = v[k];
    if (x === undefined || x === null) continue;
    if (typeof x !== 'string' || x.length === 0 || x.length > max || /[\u0000-\u001f\u007f]/.test(x)) {
      throw new WsProtocolError(WsErrorCode.invalidMessage, `"filter.${k}" must be a string of 1–${max} printable characters`, id);
    }
    if (k === 'outcome' && x !== 'ok' && x !== 'denied' && x !== 'error') {
      throw new WsProtocolError(WsErrorCode.invalidMessage, '"filter.outcome" must be ok, denied or error', id);
    }
    (out as Record<string, string>)[k] = x;
  }
  return out;
}

function auditBacklog(v: unknown, id: MessageId | undefined): number {
  if (v === undefined || v === null) return AUDIT_BACKLOG_DEFAULT;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > AUDIT_BACKLOG_MAX) {
    throw new WsProtocolError(WsErrorCode.invalidMessage, `"backlog" must be a whole number from 0 to ${AUDIT_BACKLOG_MAX}`, id);
  }
  return v;
}

function optionalPlayer(args: Record<string, unknown>, id: MessageId | undefined, what = '"args.player"'): string | undefined {
  if (!hasOwn(args, 'player') || args.player === undefined || args.player === null) return undefined;
  const p = args.player;
  if (typeof p !== 'string' || p.trim().length === 0 || p.length > MAX_PLAYER_LENGTH || /[\u0000-\u001f\u007f]/.test(p)) {
    throw new WsProtocolError(WsErrorCode.invalidMessage, `${what} must be a player name (1–${MAX_PLAYER_LENGTH} printable characters)`, id);
  }
  return p;
}

/** The one field of `names` present in `args` (exactly one must be), or an error. */
function exactlyOne(args: Record<string, unknown>, names: readonly string[], code: string, what: string, id: MessageId | undefined): string {
  const present = names.filter((n) => hasOwn(args, n) && args[n] !== undefined);
  if (present.length !== 1) {
    throw new WsProtocolError(code, `${what} needs exactly one of ${names.map((n) => `"${n}"`).join(', ')} in "args"${present.length > 1 ? ` (got ${present.join(' and ')})` : ''}`, id);
  }
  return present[0]!;
}

function seekTarget(args: Record<string, unknown>, id: MessageId | undefined): SeekTarget {
  const field = exactlyOne(args, ['position', 'offset', 'percent'], WsErrorCode.invalidSeek, 'seek', id);
  const v = args[field];
  const bad = (why: string): never => { throw new WsProtocolError(WsErrorCode.invalidSeek, `"args.${field}" ${why}`, id); };
  if (typeof v !== 'number' || !Number.isFinite(v)) return bad('must be a number');
  if (field === 'position') {
    if (v < 0) return bad('must be ≥ 0 seconds (use "offset" to move back)');
    return { kind: 'absolute', seconds: v };
  }
  if (field === 'offset') {
    if (Math.abs(v) > 86_400) return bad('must be within ±86400 seconds');
    return { kind: 'relative', seconds: v };
  }
  if (v < 0 || v > 100) return bad('must be within 0–100');
  return { kind: 'percent', percent: v };
}

function volumeRequest(args: Record<string, unknown>, id: MessageId | undefined): Exclude<VolumeRequest, { kind: 'get' }> {
  const field = exactlyOne(args, ['level', 'change', 'muted', 'toggleMute'], WsErrorCode.invalidVolume, 'volume', id);
  const v = args[field];
  const bad = (why: string): never => { throw new WsProtocolError(WsErrorCode.invalidVolume, `"args.${field}" ${why}`, id); };
  switch (field) {
    case 'level':
      if (typeof v !== 'number' || !Number.isInteger(v)) return bad('must be a whole number from 0 to 100');
      if (v < 0 || v > 100) return bad(`must be within 0–100, got ${v}`);
      return { kind: 'set', level: v };
    case 'change':
      if (typeof v !== 'number' || !Number.isInteger(v)) return bad('must be a whole number from −100 to 100');
      if (v < -100 || v > 100) return bad(`must be within −100…100, got ${v}`);
      return { kind: 'change', delta: v };
    case 'muted':
      if (typeof v !== 'boolean') return bad('must be true or false');
      return { kind: v ? 'mute' : 'unmute' };
    default:
      if (v !== true) return bad('must be true');
      return { kind: 'toggle-mute' };
  }
}

/** Is `action` one of the command actions? */
export function isCommandAction(action: unknown): action is CommandAction {
  return typeof action === 'string' && (COMMAND_ACTIONS as readonly string[]).includes(action);
}

/** Check a command's action and args (after the scope check). Throws WsProtocolError. */
export function parseCommand(env: Extract<Envelope, { type: 'command' }>): Command {
  const { id, action } = env;
  if (action === undefined) throw new WsProtocolError(WsErrorCode.invalidMessage, `a command needs an "action": one of ${COMMAND_ACTIONS.join(', ')}`, id);
  if (!isCommandAction(action)) {
    const shown = typeof action === 'string' ? `"${action.slice(0, 40)}"` : typeof action;
    throw new WsProtocolError(WsErrorCode.unknownAction, `unknown action ${shown}; expected one of: ${COMMAND_ACTIONS.join(', ')}`, id);
  }
  let args: Record<string, unknown> = {};
  if (env.args !== undefined && env.args !== null) {
    if (!isPlainObject(env.args)) throw new WsProtocolError(WsErrorCode.invalidMessage, '"args" must be an object', id);
    args = env.args;
  }
  if (action === 'seek') {
    checkKeys(args, ['position', 'offset', 'percent', 'player'], 'seek args', id);
    const player = optionalPlayer(args, id);
    return { action, target: seekTarget(args, id), ...(player !== undefined ? { player } : {}) };
  }
  if (action === 'volume') {
    checkKeys(args, ['level', 'change', 'muted', 'toggleMute', 'target', 'player'], 'volume args', id);
    const player = optionalPlayer(args, id);
    let target: 'system' | 'player' | undefined;
    if (args.target !== undefined && args.target !== null) {
      if (args.target !== 'system' && args.target !== 'player') throw new WsProtocolError(WsErrorCode.invalidVolume, '"args.target" must be "system" or "player"', id);
      target = args.target;
    }
    return { action, request: volumeRequest(args, id), ...(target ? { target } : {}), ...(player !== undefined ? { player } : {}) };
  }
  if (action === 'shuffle' || action === 'repeat' || action === 'open') {
    const field = action === 'open' ? 'uri' : action;
    checkKeys(args, [field, 'player'], `${action} args`, id);
    const player = optionalPlayer(args, id);
    const p = player !== undefined ? { player } : {};
    const v = args[field];
    if (action === 'shuffle') {
      if (v !== true && v !== false && v !== 'toggle') throw new WsProtocolError(WsErrorCode.invalidShuffle, '"args.shuffle" must be true, false or "toggle"', id);
      return { action, value: v, ...p };
    }
    if (action === 'repeat') {
      if (v !== 'toggle' && !(REPEAT_MODES as readonly unknown[]).includes(v)) throw new WsProtocolError(WsErrorCode.invalidRepeat, '"args.repeat" must be "off", "track", "playlist" or "toggle"', id);
      return { action, mode: v as RepeatMode | 'toggle', ...p };
    }
    if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_URI_LENGTH || /[\0\r\n]/.test(v)) {
      throw new WsProtocolError(WsErrorCode.invalidUri, `"args.uri" must be a URI of 1–${MAX_URI_LENGTH} characters on one line`, id);
    }
    return { action, uri: v, ...p };
  }
  checkKeys(args, ['player'], `${action} args`, id);
  const player = optionalPlayer(args, id);
  return { action, ...(player !== undefined ? { player } : {}) };
}

/** The audit detail of a command (never a secret): `+10`, `50%`, `40`, `mute` … */
export function commandDetail(c: Command): string | undefined {
  if (c.action === 'seek') {
    const t = c.target;
    return t.kind === 'percent' ? `${t.percent}%` : t.kind === 'relative' ? `${t.seconds >= 0 ? '+' : ''}${t.seconds}` : String(t.seconds);
  }
  if (c.action === 'volume') {
    const r = c.request;
    return r.kind === 'set' ? String(r.level) : r.kind === 'change' ? `${r.delta >= 0 ? '+' : ''}${r.delta}` : r.kind;
  }
  if (c.action === 'shuffle') return c.value === 'toggle' ? 'toggle' : c.value ? 'on' : 'off';
  if (c.action === 'repeat') return c.mode;
  if (c.action === 'open') return auditUri(c.uri); // never a query or credentials
  return undefined;
}

/** The audit action of a command, the same names the local controller uses. */
export function commandAuditAction(action: unknown): string {
  if (action === 'volume') return 'volume.set';
  if (isCommandAction(action)) return `player.${action}`;
  return 'player.command';
}

/** `{type:"error"…}` text. */
export function errorMessage(code: string, message: string, id?: MessageId): string {
  return JSON.stringify(id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message });
}

/** `{type:"result"…}` text. */
export function resultMessage(id: MessageId | undefined, data: unknown): string {
  return JSON.stringify({ type: 'result', id: id ?? null, ok: true, data });
}
