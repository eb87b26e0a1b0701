// An idle /api/ws: 10 subscribed clients and nothing changing. No timer may
// fire more than once per second. CPU is reported, not asserted: this process
// also runs tap and the clients on a shared machine, so a threshold here is a
// timed test. The CPU target is measured on a real `serve` in bench/idle.js.
// Its own file and server, so garbage from other tests does not land here.
import t from 'tap';
import { createHook } from 'node:async_hooks';
import { startMpd } from './helpers/mpd.js';
import { startWsServer, connect } from './helpers/ws.js';

// Watch every async resource from the start, so each callback in the window has a known type.
const types = new Map();
const fired = new Map();
const origins = new Map(); // Timeout id → 'ws' | 'live' | 'other', from where it was created
const hook = createHook({
  init(id, type) {
    types.set(id, type);
    if (type !== 'Timeout') return;
    const stack = new Error().stack ?? '';
    origins.set(id, /\/server\/(ws|rate-limit)/.test(stack) ? 'ws' : /\/core\/live\./.test(stack) ? 'live' : 'other');
  },
  before(id) { fired.set(id, (fired.get(id) ?? 0) + 1); },
}).enable();
t.teardown(() => hook.disable());

const mpd = await startMpd(t);
const srv = await startWsServer(t, { mpd });

t.test('idle: 10 subscribed clients, no timer fires more than once per second', async (t) => {
  const WINDOW_MS = 10_000;
  const clients = [];
  for (let i = 0; i < 10; i++) {
    const c = await connect(srv.url, { token: srv.tokens.read.token });
    c.send({ type: 'subscribe' });
    await c.next((m) => m.type === 'volume');
    clients.push(c);
  }
  await new Promise((r) => setTimeout(r, 1500)); // let the message limiter's sweep run out
  const start = new Map(fired);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const inWindow = [...fired].map(([id, n]) => [id, n - (start.get(id) ?? 0)]).filter(([, n]) => n > 0);
  const timerFires = inWindow.filter(([id]) => types.get(id) === 'Timeout');
  const otherFires = inWindow.filter(([id]) => types.get(id) !== 'Timeout');
  const totalTimer = timerFires.reduce((a, [, n]) => a + n, 0);
  const cpuPct = ((cpu.user + cpu.system) / 1000 / ms) * 100;
  const byType = {};
  for (const [id, n] of otherFires) { const k = types.get(id) ?? 'unknown'; byType[k] = (byType[k] ?? 0) + n; }
  t.comment(`idle, 10 subscribed WS clients, ${(ms / 1000).toFixed(1)} s: ${totalTimer} timer callback(s) (the test's own wait included), `
    + `other callbacks ${JSON.stringify(byType)}, CPU ${cpuPct.toFixed(3)}% of one core (whole test process: server, core, clients and tap)`);
  const from = (o) => timerFires.filter(([id]) => origins.get(id) === o).reduce((a, [, n]) => a + n, 0);
  t.comment(`timer callbacks by origin: WS module ${from('ws')}, LiveState (retrying the absent MPRIS bus, debounce) ${from('live')}, other ${from('other')}`);
  t.equal(from('ws'), 0, 'the WS module ran no timer while idle (keep-alive ping: every 30 s)');
  t.ok(totalTimer <= WINDOW_MS / 1000, `at most one timer callback per second (${totalTimer} in ${(ms / 1000).toFixed(1)} s)`);
  t.ok(Math.max(0, ...timerFires.map(([, n]) => n)) <= 1, 'no timer fired repeatedly');
  for (const c of clients) t.ok(c.isOpen, 'still open');
  for (const c of clients) c.close();
});
