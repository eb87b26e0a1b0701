/**
 * Commands that arrive over MQTT, checked before anything runs. Pure.
 *
 *   player/<id>/set, active/set   {"action": A, "value"?: V, "id"?: "…"} or plain words:
 *       play | pause | toggle (play_pause) | stop | next | previous (prev)
 *       seek V        V seconds (90), a time (1:30), a move (+10, -10) or 50%
 *       shuffle V     on | off | toggle (true/false in JSON)
 *       repeat V      off | track | playlist | toggle
 *   volume/set        0–100, +N, -N (or {"value": …, "id"?})
 *   mute/set          ON | OFF | TOGGLE (or {"value": …, "id"?})
 *   active/player/set a player id (or {"value": …, "id"?})
 *
 * A payload with the retain flag, above MAX_PAYLOAD bytes, not UTF-8 text,
 * or holding anything else is refused with a MqttRefusal (code + message
 * that never echo more than a short, cleaned piece of the payload). The
 * optional "id" (1–64 of A-Z a-z 0-9 _ . : -) comes back with the result or
 * the refusal, so a sender can match them.
 */
import { UsageError } from '../../core/errors.js';
import { parseSeek, type SeekTarget } from '../../core/players/seek.js';
import type { PlayerAction } from '../../core/players/types.js';
import type { VolumeRequest } from '../../core/volume/types.js';
import { commandDetail, type Command } from '../ws-protocol.js';
import type { CommandTarget } from '../../core/mqtt/topics.js';

export const MAX_PAYLOAD = 4096;

export type MqttCommand =
  | Command
  | { action: 'select'; id: string };

export interface ParsedCommand { command: MqttCommand; id: string | undefined }

export class MqttRefusal extends Error {
  constructor(readonly code: string, message: string, readonly id?: string) {
    super(message);
    this.name = 'MqttRefusal';
  }
}

const PLAYER_WORDS: Record<string, PlayerAction> = {
  play: 'play', pause: 'pause', toggle: 'toggle', play_pause: 'toggle', playpause: 'toggle',
  stop: 'stop', next: 'next', previous: 'previous', prev: 'previous',
};
const ACTIONS = [...Object.keys(PLAYER_WORDS), 'seek', 'shuffle', 'repeat'];
const ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A short, printable piece of what was sent, for a refusal message. */
function shown(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return JSON.stringify(clean.length > 40 ? `${clean.slice(0, 40)}…` : clean);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The payload as text: UTF-8, no control characters but spaces. */
function payloadText(payload: Uint8Array): string {
  if (payload.length > MAX_PAYLOAD) throw new MqttRefusal('request.too_large', `a command is at most ${MAX_PAYLOAD} bytes; this one has ${payload.length}`);
  let text: string;
  try { text = utf8.decode(payload); } catch { throw new MqttRefusal('request.invalid_encoding', 'a command must be UTF-8 text'); }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) throw new MqttRefusal('request.invalid_encoding', 'a command must be text without control characters');
  text = text.trim();
  if (text === '') throw new MqttRefusal('request.empty', 'the command is empty');
  return text;
}

/** `{"action"?, "value"?, "id"?}` or a plain payload: the parts, with the id checked. */
function envelope(text: string, keys: readonly string[]): { fields: Record<string, unknown> | null; id: string | undefined } {
  if (!text.startsWith('{')) return { fields: null, id: undefined };
  let v: unknown;
  try { v = JSON.parse(text); } catch { throw new MqttRefusal('request.invalid_json', 'the command starts with { but is not valid JSON'); }
  if (!isPlainObject(v)) throw new MqttRefusal('request.invalid_json', 'a JSON command must be an object');
  let id: string | undefined;
  if (v.id !== undefined && v.id !== null) {
    if (typeof v.id !== 'string' || !ID.test(v.id)) throw new MqttRefusal('request.invalid_message', '"id" must be 1–64 of A-Z a-z 0-9 _ . : -');
    id = v.id;
  }
  const extra = Object.keys(v).filter((k) => !keys.includes(k) && k !== 'id');
  if (extra.length > 0) throw new MqttRefusal('request.invalid_message', `unknown field${extra.length > 1 ? 's' : ''} ${extra.slice(0, 3).map(shown).join(', ')}; allowed: ${[...keys, 'id'].join(', ')}`, id);
  return { fields: v, id };
}

function seekValue(v: unknown, id: string | undefined): SeekTarget {
  const bad = (why: string) => new MqttRefusal('usage.invalid_seek', `seek ${why}`, id);
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0 || v > 1e7) throw bad('needs a position of 0 to 10000000 seconds');
    return { kind: 'absolute', seconds: v };
  }
  if (typeof v !== 'string' || v.length > 32) throw bad('needs a value: seconds (90), a time (1:30), a move (+10, -10) or a percentage (50%)');
  let t: SeekTarget;
  try { t = parseSeek(v); } catch (e) {
    if (e instanceof UsageError) throw bad(`value ${shown(v)} is not seconds (90), a time (1:30), a move (+10, -10) or a percentage (50%)`);
    throw e;
  }
  if (t.kind === 'relative' && Math.abs(t.seconds) > 86_400) throw bad('moves at most 86400 seconds');
  if (t.kind === 'absolute' && t.seconds > 1e7) throw bad('needs a position of at most 10000000 seconds');
  return t;
}

function shuffleValue(v: unknown, id: string | undefined): boolean | 'toggle' {
  if (v === true || v === false) return v;
  const w = typeof v === 'string' ? v.toLowerCase() : v;
  if (w === 'on' || w === 'true') return true;
  if (w === 'off' || w === 'false') return false;
  if (w === 'toggle' || w === undefined) return 'toggle';
  throw new MqttRefusal('usage.invalid_shuffle', `shuffle takes on, off or toggle, not ${shown(v)}`, id);
}

function repeatValue(v: unknown, id: string | undefined): 'off' | 'track' | 'playlist' | 'toggle' {
  const w = typeof v === 'string' ? v.toLowerCase() : v === undefined ? 'toggle' : v;
  if (w === 'off' || w === 'track' || w === 'playlist' || w === 'toggle') return w;
  throw new MqttRefusal('usage.invalid_repeat', `repeat takes off, track, playlist or toggle, not ${shown(v)}`, id);
}

/** `player/<id>/set` and `active/set`. `player`: the name the id stands for (undefined: the active one). */
function playerCommand(text: string, player: string | undefined): ParsedCommand {
  const { fields, id } = envelope(text, ['action', 'value']);
  let action: unknown;
  let value: unknown;
  if (fields) {
    action = fields.action;
    value = fields.value;
    if (typeof action !== 'string') throw new MqttRefusal('request.invalid_message', `a JSON command needs "action": one of ${ACTIONS.join(', ')}`, id);
  } else {
    const [word, ...rest] = text.split(/\s+/);
    if (rest.length > 1) throw new MqttRefusal('request.invalid_message', 'a plain command is one word, and a value for seek, shuffle and repeat');
    action = word;
    value = rest[0];
  }
  const a = (action as string).toLowerCase();
  const p = player !== undefined ? { player } : {};
  const simple = PLAYER_WORDS[a];
  if (simple) {
    if (value !== undefined && value !== null) throw new MqttRefusal('request.invalid_message', `${a} takes no value`, id);
    return { command: { action: simple, ...p }, id };
  }
  if (a === 'seek') return { command: { action: 'seek', target: seekValue(value, id), ...p }, id };
  if (a === 'shuffle') return { command: { action: 'shuffle', value: shuffleValue(value, id), ...p }, id };
  if (a === 'repeat') return { command: { action: 'repeat', mode: repeatValue(value, id), ...p }, id };
  throw new MqttRefusal('request.unknown_action', `unknown action ${shown(action)}; expected one of: ${ACTIONS.join(', ')}`, id);
}

function volumeCommand(text: string): ParsedCommand {
  const { fields, id } = envelope(text, ['value']);
  const v = fields ? fields.value : text;
  const bad = () => new MqttRefusal('usage.invalid_volume', `volume takes a level 0–100, +N or -N (N up to 100), not ${shown(v)}`, id);
  let request: Exclude<VolumeRequest, { kind: 'get' }>;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 100) throw bad();
    request = { kind: 'set', level: v };
  } else if (typeof v === 'string') {
    const m = /^([+-]?)(\d{1,3})(?:\.0+)?$/.exec(v.trim());
    if (!m) throw bad();
    const n = Number(m[2]);
    if (n > 100) throw bad();
    request = m[1] === '' ? { kind: 'set', level: n } : { kind: 'change', delta: m[1] === '-' ? -n : n };
  } else {
    throw bad();
  }
  return { command: { action: 'volume', request }, id };
}

function muteCommand(text: string): ParsedCommand {
  const { fields, id } = envelope(text, ['value']);
  const v = fields ? fields.value : text;
  const w = typeof v === 'string' ? v.toUpperCase() : v;
  if (w === 'ON' || w === true) return { command: { action: 'volume', request: { kind: 'mute' } }, id };
  if (w === 'OFF' || w === false) return { command: { action: 'volume', request: { kind: 'unmute' } }, id };
  if (w === 'TOGGLE') return { command: { action: 'volume', request: { kind: 'toggle-mute' } }, id };
  throw new MqttRefusal('usage.invalid_mute', `mute takes ON, OFF or TOGGLE, not ${shown(v)}`, id);
}

function selectCommand(text: string): ParsedCommand {
  const { fields, id } = envelope(text, ['value']);
  const v = fields ? fields.value : text;
  if (typeof v !== 'string' || !/^[a-z0-9_-]{1,64}$/.test(v)) throw new MqttRefusal('usage.invalid_player', `the active player is chosen by its id (a-z, 0-9, _ and -), not ${shown(v)}`, id);
  return { command: { action: 'select', id: v }, id };
}

/**
 * Check one command. `retain`: the message's retain flag (a retained command
 * would run again for every new subscriber and after every reconnect: it is
 * refused). `player`: for a player topic, the name its id stands for.
 */
export function parseMqttCommand(target: CommandTarget, payload: Uint8Array, retain: boolean, player?: string): ParsedCommand {
  if (retain) throw new MqttRefusal('request.retained', 'a retained command is ignored: publish commands without the retain flag');
  const text = payloadText(payload);
  switch (target.kind) {
    case 'player': return playerCommand(text, player);
    case 'active': return playerCommand(text, undefined);
    case 'volume': return volumeCommand(text);
    case 'mute': return muteCommand(text);
    case 'select': return selectCommand(text);
  }
}

/** The audit action of a command: the names the API and the local CLI use. */
export function auditActionOf(c: MqttCommand | undefined, target: CommandTarget): string {
  if (!c) return target.kind === 'volume' || target.kind === 'mute' ? 'volume.set' : target.kind === 'select' ? 'player.select' : 'player.command';
  if (c.action === 'volume') return 'volume.set';
  return `player.${c.action}`;
}

/** The audit detail of a command (never more than its values): `+10`, `50%`, `40`, `mute`, `on` … */
export function commandDetailOf(c: MqttCommand): string | undefined {
  switch (c.action) {
    case 'seek':
    case 'volume':
      return commandDetail(c);
    case 'shuffle': return c.value === 'toggle' ? 'toggle' : c.value ? 'on' : 'off';
    case 'repeat': return c.mode;
    case 'select': return c.id;
    default: return undefined;
  }
}
