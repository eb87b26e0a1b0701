// Backends dying under a running serve: MPD killed and restarted, the D-Bus
// session bus killed and restarted, PulseAudio killed and restarted — each
// with kill -9, while a client keeps asking. Holds when serve never
// crashes and never answers 500, reports the backend gone (503 with a
// code, a WebSocket status push), and recovers by itself once the backend
// is back — same process, no restart.
import t from 'tap';
import WebSocket from 'ws';
import { startMpd } from '../helpers/mpd.js';
import { startPulse } from '../helpers/pulse.js';
import { startSessionBus, startFakePlayer } from '../helpers/dbus.js';
import { api, cliToken, serveEnv, startServe } from '../helpers/serve.js';
import { restartBus, restartPulse } from './lib/daemons.js';
import { checkResponse, fmtTally, sleep, tally } from './lib/holds.js';
import { alive } from './lib/procfs.js';
import { Report } from './lib/report.js';

t.setTimeout(6 * 60_000);
const report = new Report(t, 'faults-daemons');

const asRaw = (r) => ({ status: r.status, headers: r.headers, body: r.text });

/** Poll `fn` every 100 ms until it returns truthy; resolves {value, ms} or {value: undefined} after `limitMs`. */
async function until(fn, limitMs) {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    const v = await fn();
    if (v) return { value: v, ms: Date.now() - t0 };
    await sleep(100);
  }
  return { value: undefined, ms: Date.now() - t0 };
}

/** A client that keeps reading and controlling while the backend dies; counts statuses and broken answers. */
function keepAsking(srv, token, paths) {
  const statuses = {};
  const problems = [];
  let n = 0;
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const [method, path, json] = paths[n++ % paths.length];
      const r = await api(srv, method, path, { token, json, from: '127.0.12.1' });
      tally(statuses, `${r.status}${r.json?.error ? ` ${r.json.error.code}` : ''}`);
      for (const p of checkResponse(asRaw(r))) problems.push(`${method} ${path}: ${p}`);
      await sleep(50);
    }
  })();
  return { statuses, problems, get count() { return n; }, async stop() { stop = true; await done; } };
}

function subscribe(srv, token) {
  const msgs = [];
  const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/api/ws`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
  const opened = new Promise((resolve, reject) => { ws.once('open', () => { ws.send(JSON.stringify({ type: 'subscribe' })); resolve(); }); ws.once('error', reject); });
  return { msgs, opened, ws, close: () => ws.close(), get open() { return ws.readyState === WebSocket.OPEN; } };
}

t.test('MPD killed (-9) and restarted mid-session', async (t) => {
  const mpd = await startMpd(t);
  const e = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) }, { 'volume.backend': 'player' });
  const tok = await cliToken(e.env, 'adv-fault-mpd', 'control');
  const srv = await startServe(t, e.env);
  const sub = subscribe(srv, tok.token);
  await sub.opened;
  mpd.mpc('-q', 'play');
  t.equal((await until(async () => (await api(srv, 'GET', '/api/status', { token: tok.token })).json?.status === 'playing', 5000)).value, true, 'playing before');
  const asker = keepAsking(srv, tok.token, [['GET', '/api/status'], ['GET', '/api/players'], ['POST', '/api/player/toggle'], ['GET', '/api/volume'], ['PUT', '/api/volume', { level: 40 }]]);

  process.kill(mpd.pid, 'SIGKILL');
  const gone = await until(async () => { const r = await api(srv, 'GET', '/api/status', { token: tok.token }); return r.status === 503 && r.json.error.code; }, 5000);
  t.equal(gone.value, 'player.none', `reported gone: 503 player.none after ${gone.ms} ms`);
  const pushedGone = await until(() => sub.msgs.some((m) => m.type === 'status' && m.data === null), 5000);
  t.ok(pushedGone.value, 'WebSocket subscribers get a status push with no player');
  const control = await api(srv, 'POST', '/api/player/play', { token: tok.token });
  t.equal(control.status, 503, `control while MPD is down: 503 ${control.json?.error?.code}`);

  await sleep(1500);
  await mpd.restart();
  const back = await until(async () => (await api(srv, 'GET', '/api/status', { token: tok.token })).json?.player === 'mpd', 40000);
  t.ok(back.value, `recovered without a restart, ${back.ms} ms after MPD came back`);
  const pushedBack = await until(() => sub.msgs.some((m, i) => i > 0 && m.type === 'status' && m.data?.player === 'mpd' && sub.msgs.slice(0, i).some((x) => x.type === 'status' && x.data === null)), 5000);
  t.ok(pushedBack.value, 'subscribers get the player back');
  t.ok(sub.open, 'the WebSocket stayed open throughout');
  await asker.stop();
  t.same(asker.problems, [], `no 500, every error JSON, during ${asker.count} requests (${fmtTally(asker.statuses)})`);
  t.ok(alive(srv.pid), 'same serve process');
  sub.close();
  t.same(await srv.stop(), { code: 0, signal: null }, 'serve shut down cleanly');
  report.row('MPD kill -9 and restart', asker.count, asker.problems.length + (gone.value ? 0 : 1) + (back.value ? 0 : 1),
    `gone after ${gone.ms} ms; back ${back.ms} ms after restart; ${fmtTally(asker.statuses, 5)}`);
});

t.test('D-Bus session bus killed (-9) and restarted', async (t) => {
  const bus = await startSessionBus(t);
  await startFakePlayer(t, bus, { name: 'advfake', props: { PlaybackStatus: 'Playing' } });
  const e = await serveEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address }, {});
  const tok = await cliToken(e.env, 'adv-fault-bus', 'control');
  const srv = await startServe(t, e.env);
  const sub = subscribe(srv, tok.token);
  await sub.opened;
  t.equal((await until(async () => (await api(srv, 'GET', '/api/status', { token: tok.token })).json?.player === 'advfake', 5000)).value, true, 'the MPRIS player before');
  const asker = keepAsking(srv, tok.token, [['GET', '/api/status'], ['GET', '/api/players'], ['POST', '/api/player/pause']]);

  process.kill(bus.pid, 'SIGKILL');
  const gone = await until(async () => { const r = await api(srv, 'GET', '/api/status', { token: tok.token }); return r.status === 503 && r.json.error.code; }, 5000);
  t.equal(gone.value, 'player.none', `reported gone: 503 player.none after ${gone.ms} ms`);
  const pushedGone = await until(() => sub.msgs.some((m) => m.type === 'status' && m.data === null), 5000);
  t.ok(pushedGone.value, 'subscribers get a status push with no player');

  await sleep(1500);
  await restartBus(t, bus);
  await startFakePlayer(t, bus, { name: 'advfake', props: { PlaybackStatus: 'Playing' } });
  const back = await until(async () => (await api(srv, 'GET', '/api/status', { token: tok.token })).json?.player === 'advfake', 40000);
  t.ok(back.value, `recovered without a restart, ${back.ms} ms after the bus came back`);
  const pushedBack = await until(() => sub.msgs.some((m, i) => m.type === 'status' && m.data?.player === 'advfake' && sub.msgs.slice(0, i).some((x) => x.type === 'status' && x.data === null)), 5000);
  t.ok(pushedBack.value, 'subscribers get the player back');
  await asker.stop();
  t.same(asker.problems, [], `no 500, every error JSON, during ${asker.count} requests (${fmtTally(asker.statuses)})`);
  t.ok(alive(srv.pid), 'same serve process');
  sub.close();
  t.same(await srv.stop(), { code: 0, signal: null }, 'serve shut down cleanly');
  report.row('D-Bus bus kill -9 and restart', asker.count, asker.problems.length + (gone.value ? 0 : 1) + (back.value ? 0 : 1),
    `gone after ${gone.ms} ms; back ${back.ms} ms after restart; ${fmtTally(asker.statuses, 5)}`);
});

t.test('PulseAudio killed (-9) and restarted', async (t) => {
  const pa = await startPulse(t);
  const e = await serveEnv(t, { XDG_RUNTIME_DIR: pa.runtime }, {});
  const tok = await cliToken(e.env, 'adv-fault-pa', 'control');
  const srv = await startServe(t, e.env);
  const sub = subscribe(srv, tok.token);
  await sub.opened;
  t.equal((await api(srv, 'GET', '/api/volume', { token: tok.token })).json?.backend, 'pulse', 'PulseAudio volume before');
  const asker = keepAsking(srv, tok.token, [['GET', '/api/volume'], ['PUT', '/api/volume', { level: 30 }], ['GET', '/api/volume'], ['PUT', '/api/volume', { change: 5 }]]);

  process.kill(pa.pid, 'SIGKILL');
  const gone = await until(async () => { const r = await api(srv, 'GET', '/api/volume', { token: tok.token }); return r.status === 503 && r.json.error.code; }, 5000);
  t.ok(gone.value, `GET /api/volume reports the mixer gone: 503 ${gone.value} after ${gone.ms} ms`);
  const put = await api(srv, 'PUT', '/api/volume', { token: tok.token, json: { level: 50 } });
  t.equal(put.status, 503, `PUT /api/volume while PulseAudio is down: 503 ${put.json?.error?.code}`);

  await sleep(1500);
  await restartPulse(t, pa);
  const back = await until(async () => (await api(srv, 'PUT', '/api/volume', { token: tok.token, json: { level: 55 } })).json?.level === 55, 40000);
  t.ok(back.value, `volume control recovered without a restart, ${back.ms} ms after PulseAudio came back`);
  // The asker sets the volume too (30, +5), concurrently: stop it, then set 55 once more, alone.
  await asker.stop();
  t.equal((await api(srv, 'PUT', '/api/volume', { token: tok.token, json: { level: 55 } })).json?.level, 55, 'PUT /api/volume on the restarted server');
  const got = await api(srv, 'GET', '/api/volume', { token: tok.token });
  t.equal(got.json?.level, 55, 'GET /api/volume reads the restarted server');
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '61%');
  const pushed = await until(() => sub.msgs.some((m) => m.type === 'volume' && m.data?.level === 61), 10000);
  t.ok(pushed.value, `a change made outside mediagate reaches subscribers again (${pushed.ms} ms)`);
  t.same(asker.problems, [], `no 500, every error JSON, during ${asker.count} requests (${fmtTally(asker.statuses)})`);
  t.ok(alive(srv.pid), 'same serve process');
  sub.close();
  t.same(await srv.stop(), { code: 0, signal: null }, 'serve shut down cleanly');
  report.row('PulseAudio kill -9 and restart', asker.count, asker.problems.length + (gone.value ? 0 : 1) + (back.value ? 0 : 1) + (pushed.value ? 0 : 1),
    `gone after ${gone.ms} ms; control back ${back.ms} ms after restart; external change pushed after ${pushed.ms} ms; ${fmtTally(asker.statuses, 5)}`);
});
