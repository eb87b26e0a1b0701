// The MPD connection layer (issue 14: "MPD commands must not queue behind
// each other needlessly"): commands asked for together go out in one write
// and are answered in order on one connection; a command is not queued
// behind an answer that is slow to come — it goes to another connection of
// the source's small pool — and the pool stays bounded when MPD stops
// answering. Against a real MPD (and, for the silent server, a TCP server
// that greets and then never answers).
import t from 'tap';
import net from 'node:net';
import { MpdConnection } from '../dist/core/players/mpd-protocol.js';
import { MpdPool, MPD_POOL_MAX, MPD_STUCK_MS } from '../dist/core/players/mpd-pool.js';
import { MpdSource } from '../dist/core/players/mpd.js';
import { startMpd, startHungServer } from './helpers/mpd.js';

t.setTimeout(180000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tcp = (host, port) => ({ kind: 'tcp', host, port, display: `${host}:${port}` });
const openTo = (addr, timeoutMs = 3000) => () => MpdConnection.open({ kind: 'tcp', host: addr.host, port: addr.port }, { timeoutMs, display: addr.display });

/**
 * A TCP relay in front of MPD on `port` that can hold back MPD's answers to one client connection
 * (`hold(i)` / `release(i)`, i = the order they connected in) — an answer
 * that is slow to come, made deterministic.
 */
async function relay(t, port) {
  const links = [];
  const server = net.createServer((client) => {
    const up = net.createConnection({ host: '127.0.0.1', port });
    const link = { held: false, backlog: [] };
    link.hold = () => { link.held = true; };
    link.release = () => { link.held = false; for (const d of link.backlog.splice(0)) client.write(d); };
    links.push(link);
    client.on('data', (d) => up.write(d));
    up.on('data', (d) => { if (link.held) link.backlog.push(d); else client.write(d); });
    const end = () => { client.destroy(); up.destroy(); };
    client.on('error', end); up.on('error', end); client.on('close', end); up.on('close', end);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => { server.close(() => r()); for (const l of links) l.release(); }));
  return { port: server.address().port, links };
}

t.test('commands asked for at once go out in one write and come back in order', async (t) => {
  const mpd = await startMpd(t);
  const source = new MpdSource({ env: {}, timeoutMs: 5000, address: tcp(mpd.host, mpd.port) });
  t.teardown(() => source.close());
  await source.run(['status']);
  // Count the writes to MPD's port (this process's sockets) while the burst goes out.
  const write = net.Socket.prototype.write;
  let writes = 0;
  net.Socket.prototype.write = function (...args) { if (this.remotePort === mpd.port) writes++; return write.apply(this, args); };
  t.teardown(() => { net.Socket.prototype.write = write; });
  const N = 2000;
  const answers = await Promise.all(Array.from({ length: N }, (_, i) => source.run(i % 2 ? ['status'] : ['setvol', i % 100])));
  net.Socket.prototype.write = write;
  t.equal(answers.length, N, `${N} answers`);
  t.ok(answers.every((a, i) => (i % 2 ? a.some(([k]) => k === 'state') : a.length === 0)), 'each command got its own answer (status lines, or none for setvol)');
  t.equal(mpd.mpc('volume').trim(), `volume:${String((N - 2) % 100).padStart(3)}%`, 'the last setvol asked for is the one MPD did last');
  t.ok(writes <= MPD_POOL_MAX, `${N} commands asked for at once: ${writes} write(s), not one per command`);
  t.ok(source.connections <= MPD_POOL_MAX, `${source.connections} connection(s)`);
});

t.test('a command is not queued behind a slow answer; with one connection it would be', async (t) => {
  const mpd = await startMpd(t);

  /** The first connection's answer held back by the relay; then status. Returns the order the answers came in. */
  const race = async (max) => {
    const r = await relay(t, mpd.port);
    const pool = new MpdPool({ open: openTo(tcp('127.0.0.1', r.port)), max, stuckMs: MPD_STUCK_MS });
    t.teardown(() => pool.close());
    const first = (await pool.acquire()).conn;
    r.links[0].hold();
    const order = [];
    const slow = first.command('currentsong').then(() => order.push('slow'));
    await sleep(MPD_STUCK_MS * 2);
    const { conn } = await pool.acquire();
    const status = conn.command('status').then(() => order.push('status'));
    await Promise.race([status, sleep(1000)]);
    const before = [...order];
    r.links[0].release();
    await Promise.all([slow, status]);
    return { before, order, other: conn !== first, opened: r.links.length };
  };

  const pooled = await race(MPD_POOL_MAX);
  t.equal(pooled.other, true, 'status went to another connection');
  t.same(pooled.before, ['status'], 'and was answered while the first answer was still held back');
  t.same(pooled.order, ['status', 'slow'], 'which came afterwards');

  const single = await race(1);
  t.same(single.before, [], 'control: on one connection status waits for the held answer');
  t.same(single.order, ['slow', 'status'], 'and comes after it');
  t.equal(single.opened, 1, 'one connection');
});

t.test('a server that stops answering: the pool stays bounded, every command times out, nothing stays open', async (t) => {
  const hung = await startHungServer(t, { greeting: 'OK MPD 0.23.5\n' });
  const source = new MpdSource({ env: {}, timeoutMs: 600, address: tcp('127.0.0.1', hung.port) });
  t.teardown(() => source.close());
  const calls = [];
  let mostOpen = 0;
  for (let i = 0; i < 12; i++) {
    calls.push(source.run(['status']).then(() => 'answered', (e) => e.code));
    await sleep(MPD_STUCK_MS * 2);
    mostOpen = Math.max(mostOpen, hung.open);
  }
  const outcomes = await Promise.all(calls);
  t.same([...new Set(outcomes)], ['backend.timeout'], 'every command: backend.timeout');
  t.ok(mostOpen >= 2, `new connections were opened past the stuck one (${mostOpen} at most at once, ${hung.accepted} in all)`);
  t.ok(mostOpen <= MPD_POOL_MAX, `never more than ${MPD_POOL_MAX} at once`);
  for (let i = 0; i < 40 && hung.open > 0; i++) await sleep(50);
  t.equal(hung.open, 0, 'timed-out connections are closed');
});
