// The WS message parser and the upgrade credential rules, without a server:
// allowed and denied cases for each.
import t from 'tap';
import { parseEnvelope, parseCommand, WsProtocolError, commandDetail, commandAuditAction, errorMessage, resultMessage } from '../dist/server/ws-protocol.js';
import { credentialsOf, offeredProtocols, pathOf } from '../dist/server/ws-upgrade.js';

const TOKEN = `mg_${'A'.repeat(43)}`;
const cmd = (o) => parseCommand(parseEnvelope(JSON.stringify({ type: 'command', ...o })));
const fails = (t, fn, code, what) => {
  try { fn(); t.fail(`${what}: should fail`); } catch (e) {
    t.ok(e instanceof WsProtocolError, `${what}: a protocol error`);
    t.equal(e.code, code, `${what}: ${code}`);
  }
};

t.test('envelope: allowed', async (t) => {
  t.same(parseEnvelope('{"type":"subscribe"}'), { type: 'subscribe', id: undefined, topic: 'status' });
  t.same(parseEnvelope('{"type":"subscribe","id":"a1"}'), { type: 'subscribe', id: 'a1', topic: 'status' });
  t.same(parseEnvelope('{"type":"unsubscribe","id":7}'), { type: 'unsubscribe', id: 7, topic: 'status' });
  t.same(parseEnvelope('{"type":"subscribe","id":null}'), { type: 'subscribe', id: undefined, topic: 'status' }, 'null id = none');
  t.same(parseEnvelope('{"type":"command","action":"play"}'), { type: 'command', id: undefined, action: 'play', args: undefined });
});

t.test('envelope: denied', async (t) => {
  fails(t, () => parseEnvelope('nope'), 'request.invalid_json', 'not JSON');
  fails(t, () => parseEnvelope(''), 'request.invalid_json', 'empty');
  fails(t, () => parseEnvelope('null'), 'request.not_an_object', 'null');
  fails(t, () => parseEnvelope('[{"type":"subscribe"}]'), 'request.not_an_object', 'array');
  fails(t, () => parseEnvelope('{}'), 'request.unknown_type', 'no type');
  fails(t, () => parseEnvelope('{"type":"SUBSCRIBE"}'), 'request.unknown_type', 'wrong case');
  fails(t, () => parseEnvelope('{"type":["subscribe"]}'), 'request.unknown_type', 'type not a string');
  fails(t, () => parseEnvelope('{"type":"subscribe","id":1.5}'), 'request.invalid_message', 'fractional id');
  fails(t, () => parseEnvelope('{"type":"subscribe","id":""}'), 'request.invalid_message', 'empty id');
  fails(t, () => parseEnvelope(`{"type":"subscribe","id":"${'x'.repeat(129)}"}`), 'request.invalid_message', 'long id');
  fails(t, () => parseEnvelope('{"type":"subscribe","__proto__":{"x":1}}'), 'request.invalid_message', '__proto__ key');
  fails(t, () => parseEnvelope('{"type":"subscribe","action":"play"}'), 'request.invalid_message', 'command field on subscribe');
  try { parseEnvelope('{"type":"nope","id":"q"}'); } catch (e) { t.equal(e.id, 'q', 'the id is kept for the error answer'); }
  fails(t, () => parseEnvelope('['.repeat(60000)), 'request.invalid_json', 'deep nesting');
});

t.test('subscriptions: one player; the audit log', async (t) => {
  t.same(parseEnvelope('{"type":"subscribe","player":"mpd"}'), { type: 'subscribe', id: undefined, topic: 'status', player: 'mpd' });
  t.same(parseEnvelope('{"type":"subscribe","topic":"status","player":null}'), { type: 'subscribe', id: undefined, topic: 'status' });
  t.same(parseEnvelope('{"type":"subscribe","topic":"audit"}'), { type: 'subscribe', id: undefined, topic: 'audit', filter: {}, backlog: 10 }, 'audit: default backlog 10');
  t.same(parseEnvelope('{"type":"subscribe","topic":"audit","backlog":0,"filter":{"since":"2026-01-01T00:00:00Z","actor":"token:","action":"token.*","outcome":"denied"}}'),
    { type: 'subscribe', id: undefined, topic: 'audit', backlog: 0, filter: { since: '2026-01-01T00:00:00Z', actor: 'token:', action: 'token.*', outcome: 'denied' } });
  t.same(parseEnvelope('{"type":"unsubscribe","topic":"audit"}'), { type: 'unsubscribe', id: undefined, topic: 'audit' });

  fails(t, () => parseEnvelope('{"type":"subscribe","player":""}'), 'request.invalid_message', 'empty player');
  fails(t, () => parseEnvelope('{"type":"subscribe","player":5}'), 'request.invalid_message', 'player not a string');
  fails(t, () => parseEnvelope('{"type":"subscribe","player":"a\\u0007b"}'), 'request.invalid_message', 'control character in player');
  fails(t, () => parseEnvelope('{"type":"subscribe","topic":"tokens"}'), 'request.invalid_message', 'unknown topic');
  fails(t, () => parseEnvelope('{"type":"subscribe","topic":"audit","player":"mpd"}'), 'request.invalid_message', 'player on an audit subscription');
  fails(t, () => parseEnvelope('{"type":"subscribe","filter":{}}'), 'request.invalid_message', 'filter on a status subscription');
  fails(t, () => parseEnvelope('{"type":"subscribe","topic":"audit","filter":{"who":"x"}}'), 'request.invalid_message', 'unknown filter field');
  fails(t, () => parseEnvelope('{"type":"subscribe","topic":"audit","filter":{"outcome":"maybe"}}'), 'request.invalid_message', 'bad outcome');
  fails(t, () => parseEnvelope('{"type":"subscribe","topic":"audit","filter":[]}'), 'request.invalid_message', 'filter not an object');
  fails(t, () => parseEnvelope('{"type":"subscribe","topic":"audit","backlog":10001}'), 'request.invalid_message', 'backlog too big');
  fails(t, () => parseEnvelope('{"type":"subscribe","topic":"audit","backlog":1.5}'), 'request.invalid_message', 'fractional backlog');
  fails(t, () => parseEnvelope('{"type":"unsubscribe","player":"mpd"}'), 'request.invalid_message', 'player on unsubscribe');
});

t.test('commands: allowed', async (t) => {
  for (const a of ['play', 'pause', 'toggle', 'stop', 'next', 'previous']) t.same(cmd({ action: a }), { action: a });
  t.same(cmd({ action: 'pause', args: { player: 'mpv' } }), { action: 'pause', player: 'mpv' });
  t.same(cmd({ action: 'seek', args: { position: 90 } }), { action: 'seek', target: { kind: 'absolute', seconds: 90 } });
  t.same(cmd({ action: 'seek', args: { offset: -10, player: 'mpd' } }), { action: 'seek', target: { kind: 'relative', seconds: -10 }, player: 'mpd' });
  t.same(cmd({ action: 'seek', args: { percent: 50 } }), { action: 'seek', target: { kind: 'percent', percent: 50 } });
  t.same(cmd({ action: 'volume', args: { level: 0 } }), { action: 'volume', request: { kind: 'set', level: 0 } });
  t.same(cmd({ action: 'volume', args: { level: 100, target: 'system' } }), { action: 'volume', request: { kind: 'set', level: 100 }, target: 'system' });
  t.same(cmd({ action: 'volume', args: { change: -5 } }), { action: 'volume', request: { kind: 'change', delta: -5 } });
  t.same(cmd({ action: 'volume', args: { muted: true } }), { action: 'volume', request: { kind: 'mute' } });
  t.same(cmd({ action: 'volume', args: { muted: false } }), { action: 'volume', request: { kind: 'unmute' } });
  t.same(cmd({ action: 'volume', args: { toggleMute: true, player: 'mpd', target: 'player' } }), { action: 'volume', request: { kind: 'toggle-mute' }, target: 'player', player: 'mpd' });
  t.equal(commandDetail(cmd({ action: 'seek', args: { offset: 10 } })), '+10');
  t.equal(commandDetail(cmd({ action: 'seek', args: { percent: 25 } })), '25%');
  t.equal(commandDetail(cmd({ action: 'volume', args: { change: -3 } })), '-3');
  t.equal(commandAuditAction('volume'), 'volume.set');
  t.equal(commandAuditAction('next'), 'player.next');
  t.equal(commandAuditAction('rm -rf'), 'player.command', 'unknown actions do not reach the audit log verbatim');
});

t.test('commands: denied', async (t) => {
  fails(t, () => cmd({}), 'request.invalid_message', 'no action');
  fails(t, () => cmd({ action: 'eject' }), 'request.unknown_action', 'unknown action');
  fails(t, () => cmd({ action: 'play', args: 'mpd' }), 'request.invalid_message', 'args a string');
  fails(t, () => cmd({ action: 'play', args: { player: '' } }), 'request.invalid_message', 'empty player');
  fails(t, () => cmd({ action: 'play', args: { player: 'a\nb' } }), 'request.invalid_message', 'control character in player');
  fails(t, () => cmd({ action: 'play', args: { player: 5 } }), 'request.invalid_message', 'player a number');
  fails(t, () => cmd({ action: 'play', args: { level: 5 } }), 'request.invalid_message', 'volume arg on play');
  fails(t, () => cmd({ action: 'seek' }), 'usage.invalid_seek', 'seek without target');
  fails(t, () => cmd({ action: 'seek', args: { position: 1, offset: 2 } }), 'usage.invalid_seek', 'two targets');
  fails(t, () => cmd({ action: 'seek', args: { position: '1:30' } }), 'usage.invalid_seek', 'position as text');
  fails(t, () => cmd({ action: 'seek', args: { position: -1 } }), 'usage.invalid_seek', 'negative position');
  fails(t, () => cmd({ action: 'seek', args: { percent: 101 } }), 'usage.invalid_seek', 'percent > 100');
  fails(t, () => cmd({ action: 'seek', args: { offset: 1e9 } }), 'usage.invalid_seek', 'absurd offset');
  fails(t, () => cmd({ action: 'volume' }), 'usage.invalid_volume', 'volume without args');
  fails(t, () => cmd({ action: 'volume', args: { level: 150 } }), 'usage.invalid_volume', '150 is an error, not 100');
  fails(t, () => cmd({ action: 'volume', args: { level: -1 } }), 'usage.invalid_volume', 'negative level');
  fails(t, () => cmd({ action: 'volume', args: { level: 50.5 } }), 'usage.invalid_volume', 'fractional level');
  fails(t, () => cmd({ action: 'volume', args: { level: '50' } }), 'usage.invalid_volume', 'level as text');
  fails(t, () => cmd({ action: 'volume', args: { change: 101 } }), 'usage.invalid_volume', 'change > 100');
  fails(t, () => cmd({ action: 'volume', args: { muted: 'yes' } }), 'usage.invalid_volume', 'muted not boolean');
  fails(t, () => cmd({ action: 'volume', args: { toggleMute: false } }), 'usage.invalid_volume', 'toggleMute false');
  fails(t, () => cmd({ action: 'volume', args: { level: 5, target: 'speaker' } }), 'usage.invalid_volume', 'unknown target');
  fails(t, () => cmd({ action: 'volume', args: { lvl: 5 } }), 'request.invalid_message', 'typo in a field name');
});

t.test('server messages', async (t) => {
  t.same(JSON.parse(errorMessage('a.b', 'm')), { type: 'error', code: 'a.b', message: 'm' });
  t.same(JSON.parse(errorMessage('a.b', 'm', 3)), { type: 'error', id: 3, code: 'a.b', message: 'm' });
  t.same(JSON.parse(resultMessage(undefined, { x: 1 })), { type: 'result', id: null, ok: true, data: { x: 1 } });
});

const req = (headers, url = '/api/ws') => ({ headers, url });

t.test('credentials: allowed', async (t) => {
  const h = req({ authorization: `Bearer ${TOKEN}` });
  t.same(credentialsOf(h, offeredProtocols(h)), { kind: 'secret', secret: TOKEN, via: 'header' });
  const h2 = req({ authorization: `bearer  ${TOKEN} ` });
  t.same(credentialsOf(h2, offeredProtocols(h2)), { kind: 'secret', secret: TOKEN, via: 'header' }, 'scheme is case-insensitive');
  const p = req({ 'sec-websocket-protocol': `mediagate.v1, mediagate.token.${TOKEN}` });
  t.same(offeredProtocols(p), { all: ['mediagate.v1', `mediagate.token.${TOKEN}`], hasV1: true });
  t.same(credentialsOf(p, offeredProtocols(p)), { kind: 'secret', secret: TOKEN, via: 'subprotocol' });
  const both = req({ authorization: `Bearer ${TOKEN}`, 'sec-websocket-protocol': `mediagate.v1,mediagate.token.${TOKEN}` });
  t.equal(credentialsOf(both, offeredProtocols(both)).kind, 'secret', 'the same token twice is fine');
  const none = req({});
  t.same(credentialsOf(none, offeredProtocols(none)), { kind: 'none' });
  t.equal(pathOf('/api/ws?x=1'), '/api/ws');
});

t.test('credentials: denied', async (t) => {
  const bad = (headers, url, code, what) => {
    const r = req(headers, url);
    const c = credentialsOf(r, offeredProtocols(r));
    t.equal(c.kind, 'invalid', what);
    t.equal(c.code, code, `${what}: ${code}`);
  };
  bad({}, `/api/ws?token=${TOKEN}`, 'auth.token_in_url', '?token=');
  bad({}, '/api/ws?access_token=x', 'auth.token_in_url', '?access_token= with any value');
  bad({}, `/api/ws?t=${encodeURIComponent(TOKEN)}`, 'auth.token_in_url', 'token-shaped value under another name');
  bad({ authorization: `Bearer ${TOKEN}` }, `/api/ws?token=${TOKEN}`, 'auth.token_in_url', 'even with a header');
  bad({ authorization: `Basic ${TOKEN}` }, undefined, 'auth.invalid_token', 'Basic');
  bad({ authorization: `Bearer ${TOKEN} extra` }, undefined, 'auth.invalid_token', 'junk after the token');
  bad({ authorization: 'Bearer' }, undefined, 'auth.invalid_token', 'no token after Bearer');
  bad({ 'sec-websocket-protocol': `mediagate.v1, mediagate.token.${TOKEN}, mediagate.token.other` }, undefined, 'auth.invalid_token', 'two token protocols');
  bad({ 'sec-websocket-protocol': 'mediagate.v1, mediagate.token.' }, undefined, 'auth.invalid_token', 'empty token protocol');
  bad({ authorization: `Bearer ${TOKEN}`, 'sec-websocket-protocol': 'mediagate.v1, mediagate.token.other' }, undefined, 'auth.invalid_token', 'header and protocol disagree');
});
