// Players that appear and vanish (as browser tabs do) are handled by serve's
// LiveState without leaks: a real serve on a private bus sees each of 12 mpv
// players come and go — listed while there, gone from /api/players and the
// pushed status once it left — and afterwards serve holds no more descriptors
// than before (nothing kept per departed player: no match rule, socket or
// timer that shows as a descriptor), while a player that stays is untouched.
import t from 'tap';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startSessionBus, startMpv } from './helpers/dbus.js';
import { makeMusic, tempDir, waitFor } from './helpers/proc.js';
import { api, cliToken, serveEnv, startServe } from './helpers/serve.js';
import { fdCount } from './adversarial/lib/procfs.js';

t.setTimeout(300000);

t.test('12 players appear and vanish: listed while there, gone after, no descriptor left behind', async (t) => {
  const bus = await startSessionBus(t);
  const music = makeMusic(join(tempDir(t), 'music'));
  const stay = await startMpv(t, bus, [join(music, 'a.ogg')]);
  const visitors = new Set();
  const { env } = await serveEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_HOST: '127.0.0.1', MPD_PORT: '1' }, { 'mpd.enabled': false, 'volume.backend': 'player' });
  const token = (await cliToken(env, 'watcher', 'read')).token;
  const srv = await startServe(t, env);
  const names = async () => ((await api(srv, 'GET', '/api/players', { token })).json?.players ?? []).map((p) => p.name);
  await waitFor(async () => (await names()).includes(stay.name), { timeoutMs: 15000, what: 'the staying player listed' });

  const ws = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/api/ws`, ['mediagate.v1'], { headers: { Authorization: `Bearer ${token}` } });
  t.teardown(() => ws.terminate());
  const pushes = [];
  ws.on('message', (d) => { const m = JSON.parse(String(d)); if (m.type === 'status') pushes.push(m.data); });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.send(JSON.stringify({ type: 'subscribe', id: 's' }));

  // Warm up with one visitor (first use of the code paths), then measure.
  const visit = async (i) => {
    const v = await startMpv(t, bus, [join(music, 'b.flac')]);
    const name = v.name; // mpv.instance<pid>: each visitor a new name, as browser tabs are
    visitors.add(name);
    await waitFor(async () => (await names()).includes(name), { timeoutMs: 15000, what: `${name} listed` });
    await v.stop();
    await waitFor(async () => !(await names()).includes(name), { timeoutMs: 15000, what: `${name} gone` });
  };
  await visit(0);
  await new Promise((r) => setTimeout(r, 500));
  const base = fdCount(srv.pid);
  for (let i = 1; i <= 12; i++) await visit(i);
  await new Promise((r) => setTimeout(r, 1000));
  const after = fdCount(srv.pid);
  t.ok(after <= base + 1, `descriptors: ${base} before 12 visits, ${after} after`);
  t.same(await names(), [stay.name], 'only the player that stayed is listed');
  const last = pushes.at(-1);
  t.ok(last && !visitors.has(last.player), `the last pushed status is not a departed player (${last?.player})`);
  t.equal(visitors.size, 13, '13 distinct visitors came and went');
  t.equal(stay.playerctl('status'), 'Playing', 'the staying player was not touched');
  t.equal((await api(srv, 'GET', '/api/health')).status, 200, 'serve answers');
  t.equal((await srv.stop()).code, 0);
});
