// The MQTT bridge of a real `mediagate serve` against a real Mosquitto, MPD,
// mpv (mpv-mpris on a private bus) and PulseAudio: changes made with mpc,
// playerctl and pactl reach the topics; commands published with
// mosquitto_pub change the real players and mixer (checked with their own
// tools); retained, malformed and oversized commands are refused on the error
// topic (each with its allowed twin); nothing is published while nothing
// changes; Home Assistant's birth message brings everything again.
import t from 'tap';
import { auditEvents, api, cliToken } from './helpers/serve.js';
import { mosquittoPub } from './helpers/mosquitto.js';
import { bridgeConnected, json, startStack } from './helpers/mqtt-stack.js';
import { pulseVolume } from './helpers/pulse.js';
import { waitFor } from './helpers/proc.js';

t.setTimeout(240000);

const idOf = (name) => name.replace(/\.instance\d+$/, '');

t.test('mpc, playerctl and pactl reach the topics; mosquitto_pub commands change MPD, mpv and PulseAudio', async (t) => {
  const s = await startStack(t, { mpd: true, mpv: true, pulse: true });
  const w = await s.watch(['mediagate/box/#']);
  await bridgeConnected(s.srv);
  const mpvId = idOf(s.mpv.name);
  await w.next((m) => m.topic === s.topic('availability') && m.text === 'online', 10000, 'online');
  await w.next((m) => m.topic === s.topic(`player/${mpvId}/state`), 10000, 'mpv state');
  await w.next((m) => m.topic === s.topic('player/mpd/state'), 10000, 'mpd state');

  // Changes made with the players' own tools.
  let from = w.count;
  s.mpd.mpc('-q', 'play');
  const mpdPlaying = json(await w.next((m) => m.topic === s.topic('player/mpd/state') && json(m).status === 'playing', 10000, 'mpd playing', from));
  t.equal(mpdPlaying.title, 'SineA', 'mpc play → player/mpd/state playing, with the title');
  t.type(mpdPlaying.positionUpdatedAt, 'string', 'position comes with positionUpdatedAt');
  t.match(mpdPlaying.capabilities, { canPause: true }, 'capabilities are in the state');
  from = w.count;
  s.mpv.playerctl('pause');
  await w.next((m) => m.topic === s.topic(`player/${mpvId}/state`) && json(m).status === 'paused', 10000, 'mpv paused', from);
  t.pass('playerctl pause → player/<mpv>/state paused');
  from = w.count;
  s.pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '37%');
  const vol = json(await w.next((m) => m.topic === s.topic('state') && json(m).volume === 37, 10000, 'volume 37', from));
  t.equal(vol.muted, false, 'pactl set-sink-volume → state volume 37');
  t.match(vol.players.map((p) => p.id).sort(), ['mpd', mpvId].sort(), 'the machine state lists both players');

  // Commands published with mosquitto_pub, checked with the tools.
  const pub = (rel, msg, extra = []) => mosquittoPub(s.mq, ['-t', s.topic(rel), '-m', msg, ...extra]);
  t.equal((await pub('player/mpd/set', 'pause')).code, 0);
  await waitFor(() => /\[paused\]/.test(s.mpd.mpc('status')), { timeoutMs: 10000, what: 'mpd paused by an MQTT command' });
  t.pass('player/mpd/set pause → mpc status [paused]');
  await pub(`player/${mpvId}/set`, '{"action":"play"}');
  await waitFor(() => s.mpv.playerctl('status') === 'Playing', { timeoutMs: 10000, what: 'mpv playing' });
  t.pass('player/<mpv>/set {"action":"play"} → playerctl status Playing');
  await pub('player/mpd/set', '{"action":"seek","value":12}');
  await pub('player/mpd/set', 'play');
  await waitFor(() => /0:1[2-9]\//.test(s.mpd.mpc('status')), { timeoutMs: 10000, what: 'mpd at 0:12' });
  t.pass('seek 12 → mpc shows 0:12');
  await pub('volume/set', '23');
  await waitFor(() => pulseVolume(s.pa).level === 23, { timeoutMs: 10000, what: 'pulse at 23%' });
  await pub('volume/set', '+5');
  await waitFor(() => pulseVolume(s.pa).level === 28, { timeoutMs: 10000, what: 'pulse at 28%' });
  t.pass('volume/set 23, then +5 → pactl 28%');
  await pub('mute/set', 'ON');
  await waitFor(() => pulseVolume(s.pa).muted, { timeoutMs: 10000, what: 'pulse muted' });
  await pub('mute/set', 'toggle');
  await waitFor(() => !pulseVolume(s.pa).muted, { timeoutMs: 10000, what: 'pulse unmuted' });
  t.pass('mute/set ON, then TOGGLE → pactl mute yes, then no');

  // An answer for a command with an id, on <node>/result.
  from = w.count;
  await pub('active/set', '{"action":"pause","id":"req-1"}');
  const res = json(await w.next((m) => m.topic === s.topic('result') && json(m).id === 'req-1', 10000, 'result req-1', from));
  t.same(res.ok, true, 'the result carries the id');
  t.type(res.data.player, 'string');

  const events = await auditEvents(s.env, ['--actor', 'mqtt:anonymous']);
  const actions = events.filter((e) => e.outcome === 'ok').map((e) => e.action);
  for (const a of ['player.pause', 'player.play', 'player.seek', 'volume.set']) t.ok(actions.includes(a), `${a} audited as mqtt:anonymous`);
  t.equal((await s.srv.stop()).code, 0);
});

t.test('refusals on the error topic, each with its allowed twin; serve keeps serving', async (t) => {
  const s = await startStack(t, { mpd: true });
  const w = await s.watch(['mediagate/box/#']);
  await bridgeConnected(s.srv);
  await w.next((m) => m.topic === s.topic('player/mpd/state'), 10000, 'mpd state');
  const pub = (rel, msg, extra = []) => mosquittoPub(s.mq, ['-t', s.topic(rel), '-m', msg, ...extra]);
  const refusal = async (rel, msg, code, extra = []) => {
    const from = w.count;
    await pub(rel, msg, extra);
    const e = json(await w.next((m) => m.topic === s.topic('error'), 10000, `refusal ${code}`, from));
    t.equal(e.code, code, `${rel} ${JSON.stringify(msg.slice(0, 40))}${extra.length ? ' (retained)' : ''} → ${code}`);
    t.notMatch(e.message, /\/tmp\/|\/home\/|\/root\//, 'no path in the refusal');
    return e;
  };
  // Retained: ignored (MPD stays stopped); the same without -r plays.
  await refusal('player/mpd/set', 'play', 'request.retained', ['-r']);
  await new Promise((r) => setTimeout(r, 500));
  t.match(s.mpd.mpc('status'), /^volume/, 'a retained play did not start MPD');
  await pub('player/mpd/set', '', ['-r']); // take the retained command off the broker again
  await pub('player/mpd/set', 'play');
  await waitFor(() => /\[playing\]/.test(s.mpd.mpc('status')), { timeoutMs: 10000, what: 'mpd playing' });
  t.pass('the same command without the retain flag plays');
  // Malformed, oversized, wrong types, unknown action / player: refused, the next good one works.
  await refusal('player/mpd/set', '{"action":', 'request.invalid_json');
  await refusal('player/mpd/set', 'x'.repeat(5000), 'request.too_large');
  await refusal('player/mpd/set', '{"action":"seek","value":[1]}', 'usage.invalid_seek');
  await refusal('player/mpd/set', 'format-disk', 'request.unknown_action');
  await refusal('player/nosuch/set', 'play', 'player.not_found');
  await refusal('volume/set', '150', 'usage.invalid_volume');
  await refusal('volume/set', '1e309', 'usage.invalid_volume');
  await refusal('mute/set', 'maybe', 'usage.invalid_mute');
  // Admin operations do not exist over MQTT: an admin-looking action is unknown, an admin topic not listened to.
  await refusal('active/set', '{"action":"token.create","value":{"scope":"admin"}}', 'request.unknown_action');
  const before = w.count;
  await pub('token/set', '{"label":"x","scope":"admin"}');
  await pub('config/set', '{"key":"mqtt.commands","value":"control"}');
  await new Promise((r) => setTimeout(r, 700));
  t.notOk(w.messages.slice(before).some((m) => m.topic === s.topic('error') || m.topic === s.topic('result')), 'token/set and config/set get no answer at all: not subscribed');
  const tokens = JSON.parse((await import('node:fs')).readFileSync(`${s.env.MEDIAGATE_STATE_DIR}/tokens.json`, 'utf8'));
  t.equal(Object.keys(tokens.tokens ?? tokens).length >= 1, true);
  t.notOk(JSON.stringify(tokens).includes('"label":"x"'), 'no token was created');
  // Still serving.
  await pub('player/mpd/set', 'pause');
  await waitFor(() => /\[paused\]/.test(s.mpd.mpc('status')), { timeoutMs: 10000, what: 'mpd paused after the refusals' });
  t.equal((await api(s.srv, 'GET', '/api/health')).status, 200, 'the HTTP API still answers');
  const refused = (await auditEvents(s.env, ['--actor', 'mqtt:anonymous'])).filter((e) => e.outcome !== 'ok');
  t.ok(refused.some((e) => e.outcome === 'denied' && /request\.retained/.test(e.detail)), 'the retained command is audited as denied');
  t.ok(refused.some((e) => /request\.invalid_json/.test(e.detail)), 'a malformed command is audited');
  t.equal((await s.srv.stop()).code, 0);
});

t.test('mqtt.commands off subscribes to nothing: commands do nothing and get no answer', async (t) => {
  const s = await startStack(t, { mpd: true, config: { 'mqtt.commands': 'off' } });
  const w = await s.watch(['mediagate/box/#']);
  await bridgeConnected(s.srv);
  await w.next((m) => m.topic === s.topic('player/mpd/state'), 10000, 'mpd state');
  const from = w.count;
  await mosquittoPub(s.mq, ['-t', s.topic('player/mpd/set'), '-m', '{"action":"play","id":"x1"}']);
  await mosquittoPub(s.mq, ['-t', s.topic('volume/set'), '-m', '5']);
  await new Promise((r) => setTimeout(r, 1000));
  t.match(s.mpd.mpc('status'), /^volume/, 'MPD did not start');
  t.notOk(w.messages.slice(from).some((m) => m.topic === s.topic('error') || m.topic === s.topic('result')), 'no answer, no refusal');
  t.equal((await auditEvents(s.env, ['--actor', 'mqtt:anonymous'])).length, 0, 'nothing audited: nothing arrived');
  s.mpd.mpc('-q', 'play');
  await w.next((m) => m.topic === s.topic('player/mpd/state') && json(m).status === 'playing', 10000, 'state still published', from);
  t.pass('read-only: state is still published');
  t.equal((await s.srv.stop()).code, 0);
});

t.test('never flood: nothing is published while a player plays and nothing changes; HA birth republishes; GET /api/mqtt', async (t) => {
  const s = await startStack(t, { mpd: true });
  s.mpd.mpc('-q', 'play');
  const w = await s.watch(['#']);
  await bridgeConnected(s.srv);
  await w.next((m) => m.topic === s.topic('player/mpd/state') && json(m).status === 'playing', 10000, 'playing');
  await new Promise((r) => setTimeout(r, 1500)); // the start-up burst is over
  const quiet = w.count;
  await new Promise((r) => setTimeout(r, 4000));
  t.same(w.messages.slice(quiet).map((m) => m.topic), [], 'no message in 4 s of playing with nothing changing (position is not ticked)');

  // Home Assistant's birth message: everything again (retained state and discovery).
  const from = w.count;
  await mosquittoPub(s.mq, ['-t', 'homeassistant/status', '-m', 'online']);
  await w.next((m) => m.topic === s.topic('state'), 10000, 'state again', from);
  await w.next((m) => m.topic.startsWith('homeassistant/device/') && m.text.length > 0, 10000, 'discovery again', from);
  t.pass('homeassistant/status online → state and discovery sent again');

  const admin = s.srv.adminToken;
  const st = await api(s.srv, 'GET', '/api/mqtt', { token: admin });
  t.equal(st.status, 200);
  t.match(st.json, { enabled: true, connected: true, node: 'box', url: s.mq.url, commands: 'control' }, 'the bridge status says connected');
  t.notOk(JSON.stringify(st.json).includes('password'), 'no password field');
  const reader = await cliToken(s.env, 'reader', 'read');
  t.equal((await api(s.srv, 'GET', '/api/mqtt', { token: reader.token })).status, 403, 'a read token may not see it (admin)');
  t.equal((await s.srv.stop()).code, 0);
});
