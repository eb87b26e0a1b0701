/**
 * The WebSocket protocol of /api/ws (ws-protocol.ts parses and answers it)
 * as JSON Schemas (2020-12): one for each message a client may send and
 * each message the server sends. Published as GET /api/ws-messages.json next
 * to the OpenAPI document; the tests check every message they exchange
 * against it (test/helpers/ws.js), so the protocol and this description
 * cannot drift apart. The shapes the HTTP API shares (Status, Volume,
 * AuditEvent) are the same schemas as in the OpenAPI document.
 */
import { AUDIT_BACKLOG_MAX, COMMAND_ACTIONS, PLAYER_ACTIONS, WS_PROTOCOL } from '../ws-protocol.js';
import { REPEAT_MODES } from '../../core/players/options.js';
import { MAX_URI_LENGTH } from '../../core/players/uri.js';
import { ANSWER_SCHEMAS } from './answers.js';
import { bool, exactlyOne, int, num, obj, oneOfStrings, str, text, type Schema } from './json-schema.js';

/** Results answering with just player and action (seek: and position); shuffle, repeat and open carry what they set. */
const PLAIN_RESULT_ACTIONS = COMMAND_ACTIONS.filter((a) => a !== 'shuffle' && a !== 'repeat' && a !== 'open');

const def = (name: string): Schema => ({ $ref: `#/$defs/${name}` });
const orNull = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] });
const closed = (props: Record<string, Schema>, required: string[], description?: string, rules?: Schema[]): Schema =>
  obj(props, required, { closed: true, ...(description ? { description } : {}), ...(rules ? { rules } : {}) });

const id = orNull({ anyOf: [str(128), { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }], description: 'echoed in the answer' });
const player = orNull({ type: 'string', minLength: 1, maxLength: 256, pattern: '\\S', description: 'a player name (default: the most recently active one)' });
const printable = (max: number): Schema => ({ type: 'string', minLength: 1, maxLength: max, pattern: '^[^\\u0000-\\u001f\\u007f]*$' });

const CLIENT: Record<string, Schema> = {
  SubscribeStatus: closed({
    type: { const: 'subscribe' }, id, topic: orNull({ const: 'status' }), player,
  }, ['type'], 'The current status and volume now, then every change; with player, that player\'s status (else null).'),
  SubscribeAudit: closed({
    type: { const: 'subscribe' }, id, topic: { const: 'audit' },
    filter: orNull(closed({ since: printable(64), actor: printable(256), action: printable(64), outcome: oneOfStrings(['ok', 'denied', 'error']) }, [], 'as GET /api/audit')),
    backlog: orNull(int(0, AUDIT_BACKLOG_MAX, 'past events first (default 10)')),
  }, ['type', 'topic'], 'Admin scope: the matching audit events, then each new one.'),
  Unsubscribe: closed({ type: { const: 'unsubscribe' }, id, topic: orNull(oneOfStrings(['status', 'audit'])) }, ['type'], 'Stop the status pushes (or, with topic audit, the audit events).'),
  PlayerCommand: closed({
    type: { const: 'command' }, id, action: oneOfStrings(PLAYER_ACTIONS),
    args: orNull(closed({ player }, [])),
  }, ['type', 'action'], 'Control scope.'),
  SeekCommand: closed({
    type: { const: 'command' }, id, action: { const: 'seek' },
    args: closed({
      position: num(0, undefined, 'seconds from the start'), offset: num(-86_400, 86_400, 'seconds forward or back'), percent: num(0, 100), player,
    }, [], undefined, [exactlyOne(['position', 'offset', 'percent'], { code: 'usage.invalid_seek' })]),
  }, ['type', 'action', 'args'], 'Control scope.'),
  VolumeCommand: closed({
    type: { const: 'command' }, id, action: { const: 'volume' },
    args: closed({
      level: int(0, 100), change: int(-100, 100), muted: bool(), toggleMute: { const: true },
      target: orNull(oneOfStrings(['system', 'player'])), player,
    }, [], undefined, [exactlyOne(['level', 'change', 'muted', 'toggleMute'], { code: 'usage.invalid_volume' })]),
  }, ['type', 'action', 'args'], 'Control scope.'),
  ShuffleCommand: closed({
    type: { const: 'command' }, id, action: { const: 'shuffle' },
    args: closed({ shuffle: { anyOf: [{ type: 'boolean' }, { const: 'toggle' }], description: 'true, false or "toggle"' }, player }, ['shuffle']),
  }, ['type', 'action', 'args'], 'Control scope. Answers with what the player reports afterwards.'),
  RepeatCommand: closed({
    type: { const: 'command' }, id, action: { const: 'repeat' },
    args: closed({ repeat: oneOfStrings([...REPEAT_MODES, 'toggle'], 'a mode, or "toggle" to step it (off → playlist → track → off)'), player }, ['repeat']),
  }, ['type', 'action', 'args'], 'Control scope. Answers with what the player reports afterwards.'),
  OpenCommand: closed({
    type: { const: 'command' }, id, action: { const: 'open' },
    args: closed({ uri: { type: 'string', minLength: 1, maxLength: MAX_URI_LENGTH, pattern: '^[^\\u0000\\r\\n]*\\S[^\\u0000\\r\\n]*$', description: 'one line; a scheme of config server.openSchemes the player takes' }, player }, ['uri']),
  }, ['type', 'action', 'args'], 'Needs the scope of config server.openScope (default admin) and a scheme of server.openSchemes, as POST /api/player/open.'),
};

const SERVER: Record<string, Schema> = {
  StatusMessage: closed({ type: { const: 'status' }, data: orNull(def('Status')) }, ['type', 'data'], 'The GET /api/status answer, or null when there is no player.'),
  VolumeMessage: closed({ type: { const: 'volume' }, data: orNull(def('Volume')) }, ['type', 'data'], 'null when no mixer is available.'),
  AuditMessage: closed({ type: { const: 'audit' }, data: def('AuditEvent') }, ['type', 'data']),
  ResultMessage: closed({
    type: { const: 'result' }, id, ok: { const: true },
    data: {
      anyOf: [
        closed({ subscribed: bool(), topic: { const: 'audit' } }, ['subscribed']),
        closed({ player: text(), action: oneOfStrings(PLAIN_RESULT_ACTIONS), position: orNull(num(0)) }, ['player', 'action']),
        closed({ player: text(), action: { const: 'shuffle' }, shuffle: bool('what the player reports afterwards') }, ['player', 'action', 'shuffle']),
        closed({ player: text(), action: { const: 'repeat' }, repeat: oneOfStrings(REPEAT_MODES, 'what the player reports afterwards') }, ['player', 'action', 'repeat']),
        closed({ player: text(), action: { const: 'open' }, uri: text() }, ['player', 'action', 'uri']),
        def('Volume'),
      ],
    },
  }, ['type', 'id', 'ok', 'data'], 'The answer to a message that carried an id (id null: a command without one).'),
  ErrorMessage: closed({ type: { const: 'error' }, id, code: str(100), message: text() }, ['type', 'code', 'message'], 'A refused or failed message; the socket stays open.'),
};

/** Rewrite OpenAPI component references to this document's $defs. */
function localRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(localRefs);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = k === '$ref' && typeof x === 'string' ? x.replace('#/components/schemas/', '#/$defs/') : localRefs(x);
  return out;
}

export const CLIENT_MESSAGES = Object.keys(CLIENT);
export const SERVER_MESSAGES = Object.keys(SERVER);

/** The JSON Schema document: `$defs` holds every message; ClientMessage / ServerMessage are the unions. */
export function wsMessagesDocument(): Record<string, unknown> {
  const shared = ['Status', 'Capabilities', 'Volume', 'AuditEvent'];
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'mediagate-ws-messages',
    title: `mediagate WebSocket messages (subprotocol ${WS_PROTOCOL})`,
    description: 'JSON text frames on /api/ws. Connect with a token, as Authorization: Bearer TOKEN or (browsers) the subprotocol mediagate.token.TOKEN offered next to mediagate.v1; the server answers the subprotocol mediagate.v1, never the token one. Origin, when sent, must be in server.corsOrigins (or this server\'s own); no token, a bad token or a foreign Origin is refused before the upgrade (401/403); a token in the URL is refused. A malformed or unauthorised message gets an ErrorMessage and the socket stays open. Unknown fields are refused. Revoking or expiring the token closes its sockets with 4401.',
    oneOf: [def('ClientMessage'), def('ServerMessage')],
    $defs: {
      ClientMessage: { oneOf: CLIENT_MESSAGES.map(def) },
      ServerMessage: { oneOf: SERVER_MESSAGES.map(def) },
      ...CLIENT,
      ...SERVER,
      ...localRefs(Object.fromEntries(shared.map((n) => [n, ANSWER_SCHEMAS[n]]))) as Record<string, Schema>,
    },
  };
}
