// PUT/GET /api/volume with target player on a real `mediagate serve` and real
// MPRIS players on a private bus: the answer is what the player reports after
// the change. A player that takes the call and keeps its old value is 409
// player.not_applied (audited as an error), one without a volume is 409
// player.unsupported — and api() checks each answer against the OpenAPI
// document, so an answer the document does not describe fails here.
import t from 'tap';
import { startSessionBus, startFakePlayer } from './helpers/dbus.js';
import { api, auditEvents, cliToken, serveEnv, startServe } from './helpers/serve.js';

t.setTimeout(120000);

t.test('target player: applied is 200 with the new level; ignored is 409 not_applied; no volume is 409 unsupported', async (t) => {
  const bus = await startSessionBus(t);
  await startFakePlayer(t, bus, { name: 'applies', writable: true, props: { Volume: 0.4 } });
  await startFakePlayer(t, bus, { name: 'ignores', ignoreSets: true, props: { Volume: 0.4 } });
  await startFakePlayer(t, bus, { name: 'novolume', props: { Volume: null } });
  const { env } = await serveEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_HOST: '127.0.0.1', MPD_PORT: '1' }, { 'server.rateLimit.rps': 0, 'backend.timeoutMs': 1500 });
  const token = (await cliToken(env, 'vol', 'control')).token;
  const srv = await startServe(t, env);

  let r = await api(srv, 'PUT', '/api/volume', { token, json: { target: 'player', player: 'applies', level: 80 } });
  t.equal(r.status, 200, 'a player that applies it: 200');
  t.match(r.json, { level: 80, target: 'player' });

  r = await api(srv, 'PUT', '/api/volume', { token, json: { target: 'player', player: 'ignores', level: 80 } });
  t.equal(r.status, 409, 'a player that keeps its old value: 409');
  t.equal(r.json.error.code, 'player.not_applied');
  t.match(r.json.error.message, /asked for 80, it reports 40/, 'what it reports, not what was asked');

  r = await api(srv, 'GET', '/api/volume?target=player&player=novolume', { token });
  t.equal(r.status, 409, 'a player with no volume of its own: 409');
  t.equal(r.json.error.code, 'player.unsupported');

  const events = await auditEvents(env, ['--action', 'volume.set']);
  t.same(events.map((e) => e.outcome), ['ok', 'error'], 'both changes audited, the ignored one as an error');
  t.match(events[1].detail, /player\.not_applied/);
});
