// Faults against a real Mosquitto and a real serve: the broker killed with -9
// and restarted (no persistence: everything retained is gone) → the bridge
// reconnects and publishes everything again; serve killed with -9 → the
// broker publishes its last will `offline`; a player that disappears → its
// topics and its Home Assistant device are cleared; what an earlier run left
// retained for a player that is gone is cleared when serve starts again.
import t from 'tap';
import { startFakePlayer, startSessionBus } from './helpers/dbus.js';
import { bridgeConnected, json, startStack } from './helpers/mqtt-stack.js';
import { startServe } from './helpers/serve.js';

t.setTimeout(240000);

t.test('Mosquitto kill -9 and restart: the bridge reconnects and republishes everything', async (t) => {
  const s = await startStack(t, { mpd: true });
  await bridgeConnected(s.srv);
  s.mpd.mpc('-q', 'play');
  const before = await s.watch(['mediagate/box/#', 'homeassistant/#']);
  await before.next((m) => m.topic === s.topic('player/mpd/state') && json(m).status === 'playing', 10000, 'playing');
  await s.mq.kill9();
  await s.mq.restart();
  await bridgeConnected(s.srv, { count: 2, ms: 30000 });
  // A new subscriber after the restart finds everything retained again.
  const w = await s.watch(['mediagate/box/#', 'homeassistant/#']);
  await w.next((m) => m.topic === s.topic('availability') && m.text === 'online' && m.retain, 15000, 'availability retained again');
  const st = json(await w.next((m) => m.topic === s.topic('player/mpd/state') && m.retain, 15000, 'player state retained again'));
  t.equal(st.status, 'playing', 'the player state, as it is now');
  await w.next((m) => m.topic === s.topic('state') && m.retain, 15000, 'machine state retained again');
  await w.next((m) => m.topic.startsWith('homeassistant/device/mediagate_') && m.retain, 15000, 'discovery retained again');
  t.pass('availability, state, player state and discovery are back after the broker restart');
  t.match(s.srv.err(), /mqtt: connection to mqtt:\/\/127\.0\.0\.1:\d+ lost; reconnecting/, 'the loss is in serve\'s log');
  t.equal((await s.srv.stop()).code, 0);
});

t.test('serve kill -9: the broker publishes offline (the last will)', async (t) => {
  const s = await startStack(t, { mpd: true });
  const w = await s.watch(['mediagate/box/availability']);
  await w.next((m) => m.text === 'online', 15000, 'online');
  s.srv.child.kill('SIGKILL');
  await w.next((m) => m.text === 'offline', 15000, 'offline after kill -9');
  t.pass('offline after kill -9');
  const late = await s.watch(['mediagate/box/availability']);
  const m = await late.next(() => true, 5000, 'the retained availability');
  t.equal(m.text, 'offline', 'and it stays retained for later subscribers');
});

t.test('a player that disappears: its topics and its Home Assistant device are cleared; so are an earlier run\'s leftovers', async (t) => {
  const bus = await startSessionBus(t);
  const gone = await startFakePlayer(t, bus, { name: 'gone', props: { PlaybackStatus: 'Playing' } });
  await startFakePlayer(t, bus, { name: 'stays' });
  const s = await startStack(t, { env: { DBUS_SESSION_BUS_ADDRESS: bus.address }, config: { 'mqtt.playerDevices': 'true' } });
  const w = await s.watch(['mediagate/box/#', 'homeassistant/device/#']);
  await bridgeConnected(s.srv);
  const dev = await w.next((m) => /^homeassistant\/device\/mediagate_[0-9a-f]{16}_gone\/config$/.test(m.topic) && m.text, 15000, 'gone\'s device');
  await w.next((m) => m.topic === s.topic('player/gone/state') && m.text, 15000, 'gone\'s state');
  const machine = await w.next((m) => /^homeassistant\/device\/mediagate_[0-9a-f]{16}\/config$/.test(m.topic), 15000, 'the machine device');
  t.match(json(machine).cmps.active_player.ops, ['gone', 'stays'], 'the select offers both players');
  const from = w.count;
  await gone.stop();
  await w.next((m) => m.topic === dev.topic && m.text === '' && m.retain === false, 15000, 'gone\'s device cleared', from);
  await w.next((m) => m.topic === s.topic('player/gone/state') && m.text === '', 15000, 'gone\'s state cleared', from);
  const after = json(await w.next((m) => m.topic === machine.topic && m.text && !json(m).cmps.active_player?.ops.includes('gone'), 15000, 'the machine device without gone', from));
  t.same(after.cmps.active_player.ops, ['stays']);
  t.pass('gone\'s device config and state were cleared with empty retained messages');

  // An earlier run's leftovers: serve is killed, a player leaves meanwhile, serve starts again.
  const leaver = await startFakePlayer(t, bus, { name: 'leaver' });
  await w.next((m) => m.topic === s.topic('player/leaver/state') && m.text, 15000, 'leaver\'s state');
  s.srv.child.kill('SIGKILL');
  await s.srv.exited;
  await leaver.stop();
  const from2 = w.count;
  const again = await startServe(t, s.env);
  await bridgeConnected(again);
  await w.next((m) => m.topic === s.topic('player/leaver/state') && m.text === '', 15000, 'leaver\'s old state cleared', from2);
  t.pass('the state an earlier run left for a player that is gone is cleared at start');
  const check = await s.watch(['mediagate/box/player/+/state']);
  await new Promise((r) => setTimeout(r, 800));
  t.same([...new Set(check.messages.filter((m) => m.text).map((m) => m.topic))].sort(), [s.topic('player/stays/state')], 'only the players that are there are retained');
  t.equal((await again.stop()).code, 0);
});
