// The bridge's pure parts: player ids stable across restarts, the command
// parser (each accepted form with a refused twin), "same playback" (a re-read
// that only moved the position is no change) and publish-on-change.
import t from 'tap';
import { assignPlayerIds, commandTarget, NodeTopics, nodeFromHostname, playerId } from '../dist/core/mqtt/topics.js';
import { MqttRefusal, parseMqttCommand } from '../dist/server/mqtt/commands.js';
import { samePlayback } from '../dist/server/mqtt/payloads.js';
import { RetainedTopics } from '../dist/server/mqtt/retained.js';

const enc = (s) => Buffer.from(s);

t.test('player ids: the MPRIS instance suffix is removed, ids are unique and topic-safe', async (t) => {
  t.equal(playerId('vlc.instance4711'), 'vlc');
  t.equal(playerId('chromium.instance99'), 'chromium');
  t.equal(playerId('mpd'), 'mpd');
  t.equal(playerId('Spotify'), 'spotify');
  t.equal(playerId('a/b+c#d'), 'a_b_c_d', 'no topic separator or wildcard survives');
  const ids = assignPlayerIds(['mpv.instance42', 'mpv', 'mpd']);
  t.equal(ids.get('mpv'), 'mpv', 'the one without a suffix keeps the plain id');
  t.equal(ids.get('mpv.instance42'), 'mpv_42', 'a second mpv gets its instance number');
  t.equal(assignPlayerIds(['vlc.instance1']).get('vlc.instance1'), 'vlc', 'alone, an instance player has the plain id (the same after a restart)');
  t.equal(nodeFromHostname('Living-Room.local'), 'living-room');
  t.equal(nodeFromHostname('???'), 'mediagate');
});

t.test('command topics: only the node\'s own …/set topics are commands', async (t) => {
  const topics = new NodeTopics('mediagate', 'box');
  t.same(commandTarget(topics, 'mediagate/box/player/mpd/set'), { kind: 'player', id: 'mpd' });
  t.same(commandTarget(topics, 'mediagate/box/active/set'), { kind: 'active' });
  t.equal(commandTarget(topics, 'mediagate/other/active/set'), null, 'another node\'s topic is not ours');
  t.equal(commandTarget(topics, 'mediagate/box/player/a/b/set'), null);
  t.equal(commandTarget(topics, 'mediagate/box/token/set'), null, 'no admin topic exists');
});

t.test('the command parser: accepted forms and their refused twins', async (t) => {
  const P = { kind: 'player', id: 'mpd' };
  const ok = (target, text, want, player) => t.same(parseMqttCommand(target, enc(text), false, player).command, want, `${target.kind} ${JSON.stringify(text)}`);
  const no = (target, text, code, retain = false) => {
    try { parseMqttCommand(target, typeof text === 'string' ? enc(text) : text, retain, 'mpd'); t.fail(`${JSON.stringify(text)} accepted`); } catch (e) {
      t.ok(e instanceof MqttRefusal, 'a refusal');
      t.equal(e.code, code, `${target.kind} ${JSON.stringify(String(text).slice(0, 30))} → ${code}`);
    }
  };
  ok(P, 'pause', { action: 'pause', player: 'mpd' }, 'mpd');
  ok(P, 'PLAY', { action: 'play', player: 'mpd' }, 'mpd');
  ok({ kind: 'active' }, '{"action":"previous"}', { action: 'previous' });
  ok({ kind: 'active' }, 'prev', { action: 'previous' });
  ok({ kind: 'active' }, 'seek +10', { action: 'seek', target: { kind: 'relative', seconds: 10 } });
  ok({ kind: 'active' }, '{"action":"seek","value":"50%"}', { action: 'seek', target: { kind: 'percent', percent: 50 } });
  ok({ kind: 'active' }, 'shuffle on', { action: 'shuffle', value: true });
  ok({ kind: 'active' }, '{"action":"repeat","value":"track"}', { action: 'repeat', mode: 'track' });
  ok({ kind: 'volume' }, '40', { action: 'volume', request: { kind: 'set', level: 40 } });
  ok({ kind: 'volume' }, '40.0', { action: 'volume', request: { kind: 'set', level: 40 } });
  ok({ kind: 'volume' }, '-5', { action: 'volume', request: { kind: 'change', delta: -5 } });
  ok({ kind: 'volume' }, '{"value":7,"id":"a1"}', { action: 'volume', request: { kind: 'set', level: 7 } });
  ok({ kind: 'mute' }, 'on', { action: 'volume', request: { kind: 'mute' } });
  ok({ kind: 'mute' }, 'TOGGLE', { action: 'volume', request: { kind: 'toggle-mute' } });
  ok({ kind: 'select' }, 'mpv', { action: 'select', id: 'mpv' });
  t.equal(parseMqttCommand({ kind: 'volume' }, enc('{"value":7,"id":"a1"}'), false).id, 'a1', 'the id comes back');

  no(P, 'pause', 'request.retained', true);
  no(P, '', 'request.empty');
  no(P, Buffer.from([0xff, 0xfe, 0x00]), 'request.invalid_encoding');
  no(P, 'pa\u0000use', 'request.invalid_encoding');
  no(P, 'x'.repeat(4097), 'request.too_large');
  no(P, '{"action":"pause"', 'request.invalid_json');
  no(P, '["pause"]', 'request.unknown_action');
  no(P, '{"action":["pause"]}', 'request.invalid_message');
  no(P, '{"action":"pause","value":1}', 'request.invalid_message');
  no(P, '{"action":"pause","sudo":true}', 'request.invalid_message');
  no(P, '{"action":"pause","id":"../../x"}', 'request.invalid_message');
  no(P, '{"action":5}', 'request.invalid_message');
  no(P, 'rm -rf /', 'request.invalid_message');
  no(P, 'eject', 'request.unknown_action');
  no(P, 'seek', 'usage.invalid_seek');
  no(P, 'seek abc', 'usage.invalid_seek');
  no(P, '{"action":"seek","value":-1}', 'usage.invalid_seek');
  no(P, '{"action":"seek","value":1e400}', 'usage.invalid_seek');
  no(P, 'seek +100000', 'usage.invalid_seek');
  no(P, 'shuffle maybe', 'usage.invalid_shuffle');
  no(P, 'repeat forever', 'usage.invalid_repeat');
  no({ kind: 'volume' }, '101', 'usage.invalid_volume');
  no({ kind: 'volume' }, '40.5', 'usage.invalid_volume');
  no({ kind: 'volume' }, '+101', 'usage.invalid_volume');
  no({ kind: 'volume' }, '{"value":true}', 'usage.invalid_volume');
  no({ kind: 'mute' }, 'yes', 'usage.invalid_mute');
  no({ kind: 'select' }, '../mpd', 'usage.invalid_player');
});

t.test('samePlayback: a re-read that only moved the position along the clock is no change', async (t) => {
  const base = { player: 'mpd', status: 'playing', title: 'A', artist: null, album: null, duration: 100, position: 10, positionUpdatedAt: '2026-01-01T00:00:00.000Z', volume: 50, shuffle: false, repeat: 'off', artUrl: null, capabilities: {} };
  t.ok(samePlayback(base, { ...base, position: 15, positionUpdatedAt: '2026-01-01T00:00:05.000Z' }), '5 s later at +5 s: the same');
  t.notOk(samePlayback(base, { ...base, position: 60, positionUpdatedAt: '2026-01-01T00:00:05.000Z' }), 'a seek: a change');
  t.notOk(samePlayback(base, { ...base, title: 'B' }), 'another track: a change');
  t.notOk(samePlayback({ ...base, status: 'paused' }, { ...base, status: 'paused', position: 15, positionUpdatedAt: '2026-01-01T00:00:05.000Z' }), 'paused and moved: a change');
});

t.test('retained topics: sent only on change, once more after a reconnect, cleared with an empty message', async (t) => {
  const sent = [];
  let up = true;
  const r = new RetainedTopics((topic, p) => sent.push([topic, String(p)]), () => up);
  r.set('a', '1');
  r.set('a', '1');
  t.same(sent, [['a', '1']], 'an unchanged payload is not sent again');
  up = false;
  r.set('a', '2');
  r.set('a', '3');
  r.clear('b', true);
  t.equal(sent.length, 1, 'nothing is sent (or queued) while down');
  up = true;
  r.republishAll();
  t.same(sent.slice(1), [['b', ''], ['a', '3']], 'after a reconnect: the clear, and only the latest payload');
  r.clear('a');
  t.same(sent.at(-1), ['a', ''], 'a topic no longer wanted is cleared');
});
