// Revocation and expiry close a token's WebSockets: revoked by the CLI in a
// second process (`mediagate token revoke`), noticed through onTokensChanged
// (fs.watch on the state dir) — and by expiry, through the per-token timer.
// Also keep-alive pings and slow consumers.
import t from 'tap';
import { startMpd } from './helpers/mpd.js';
import { startWsServer, connect } from './helpers/ws.js';
import { runCli } from './helpers/cli.js';

const mpd = await startMpd(t);
const srv = await startWsServer(t, { mpd });

t.test('revoking a token with the CLI closes its sockets within 1 s; other tokens stay', async (t) => {
  const victim = await srv.store.create({ label: 'old-phone', scope: 'control' });
  const a = await connect(srv.url, { token: victim.token });
  const b = await connect(srv.url, { protocols: ['mediagate.v1', `mediagate.token.${victim.token}`] });
  const other = await connect(srv.url, { token: srv.tokens.read.token });
  a.send({ type: 'subscribe' });
  await a.next((m) => m.type === 'volume');
  const started = performance.now();
  const r = await runCli(['token', 'revoke', victim.id], { env: srv.env });
  const revokedAt = performance.now();
  t.equal(r.code, 0, r.stderr);
  const [ca, cb] = await Promise.all([a.closed(), b.closed()]);
  for (const [name, c] of [['header socket', ca], ['subprotocol socket', cb]]) {
    t.equal(c.code, 4401, `${name}: close code 4401`);
    t.equal(c.reason, 'token revoked', `${name}: reason`);
    t.ok(c.at - revokedAt < 1000, `${name}: closed ${(c.at - revokedAt).toFixed(0)} ms after the CLI exited`);
  }
  t.comment(`revocation → close: ${(Math.max(ca.at, cb.at) - started).toFixed(0)} ms after \`mediagate token revoke\` was started, `
    + `${(Math.max(ca.at, cb.at) - revokedAt).toFixed(0)} ms after it exited (negative: closed before the CLI process had finished exiting)`);
  t.ok(other.isOpen, 'a socket of another token stays open');
  other.send({ type: 'subscribe' });
  await other.next((m) => m.type === 'status');
  other.close();
  const again = await connect(srv.url, { token: victim.token });
  t.equal(again.status, 401, 'and it cannot reconnect');
});

t.test('rotating a token (old secret retired) also counts as a change; the id stays valid, so its sockets stay', async (t) => {
  const tok = await srv.store.create({ label: 'rotating', scope: 'read' });
  const c = await connect(srv.url, { token: tok.token });
  const r = await runCli(['token', 'rotate', tok.id], { env: srv.env });
  t.equal(r.code, 0, r.stderr);
  await new Promise((res) => setTimeout(res, 300));
  t.ok(c.isOpen, 'socket opened before the rotation stays (same token id, still active)');
  t.equal((await connect(srv.url, { token: tok.token })).status, 401, 'the old secret no longer opens new sockets');
  c.close();
});

t.test('a token that expires closes its sockets at expiry', async (t) => {
  const tok = await srv.store.create({ label: 'short-lived', scope: 'read', expiresIn: 1500 });
  const expiresAt = Date.parse(tok.expiresAt);
  const c = await connect(srv.url, { token: tok.token });
  c.send({ type: 'subscribe' });
  await c.next((m) => m.type === 'status');
  const closed = await c.closed();
  const late = Date.now() - expiresAt;
  t.equal(closed.code, 4401);
  t.equal(closed.reason, 'token expired');
  t.ok(late >= -5 && late < 1000, `closed ${late} ms after the expiry time`);
});

t.test('a command re-checks the token: revoked without any change event → refused, socket closed', async (t) => {
  const quiet = await startWsServer(t, { mpd, tokenEvents: false });
  const tok = await quiet.store.create({ label: 'sneaky', scope: 'control' });
  const c = await connect(quiet.url, { token: tok.token });
  mpd.mpc('-q', 'play');
  await quiet.store.revoke(tok.id);
  await new Promise((r) => setTimeout(r, 300));
  t.ok(c.isOpen, 'nobody told the module yet');
  c.send({ type: 'command', id: 1, action: 'pause' });
  const closed = await c.closed();
  t.equal(closed.code, 4401);
  t.equal(closed.reason, 'token revoked');
  t.notOk(c.messages.some((m) => m.type === 'result'), 'the command did not run');
  t.match(mpd.mpc('status'), /\[playing\]/, 'MPD still playing');
  const events = await quiet.auditEvents();
  t.ok(events.some((e) => e.actor.id === `token:${tok.id}` && e.action === 'player.pause' && e.outcome === 'denied'), 'audited as denied');
  mpd.mpc('-q', 'stop');
});

t.test('keep-alive: a peer that stops answering pings is dropped', async (t) => {
  const fast = await startWsServer(t, { mpd, limits: { pingMs: 200 } });
  const dead = await connect(fast.url, { token: fast.tokens.read.token });
  const alive = await connect(fast.url, { token: fast.tokens.read.token });
  dead.ws._socket.pause(); // reads nothing, so answers no ping
  await new Promise((r) => setTimeout(r, 1000));
  dead.ws._socket.resume();
  const closed = await dead.closed();
  t.equal(closed.code, 1006, 'terminated (no close handshake)');
  t.ok(alive.isOpen, 'a peer that answers stays');
  t.equal(fast.handle.count(), 1);
  t.ok(fast.logs.some((l) => /did not answer a ping/.test(l)), 'logged');
  alive.close();
});

t.test('slow consumer: pushes are held back, the newest delivered once it drains; one that never drains is closed', async (t) => {
  const slow = await startWsServer(t, { mpd, limits: { slowBytes: 64 * 1024, slowCloseMs: 6000 } });
  const tok = slow.tokens.read.token;
  const lagging = await connect(slow.url, { token: tok });
  const stuck = await connect(slow.url, { token: tok });
  const quick = await connect(slow.url, { token: tok });
  for (const c of [lagging, stuck, quick]) { c.send({ type: 'subscribe' }); await c.next((m) => m.type === 'volume'); }
  lagging.ws._socket.pause();
  stuck.ws._socket.pause();
  // A storm of big status changes on the real LiveState emitter (4 KB each, ~8 MB in all: more than the
  // kernel buffers on loopback), in batches so the quick client can read in between.
  const N = 2000;
  const base = slow.live.snapshot().active;
  const snap = (i) => ({ players: [], problems: [], volume: null, active: { ...base, title: `${'x'.repeat(4000)}-${i}` } });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    slow.live.emit('status', snap(i));
    if (i % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  const isLast = (m) => m.type === 'status' && m.data?.title?.endsWith(`-${N - 1}`);
  await quick.next(isLast, 10000, 'the last status (quick client)');
  t.comment(`storm of ${N} status messages took ${(performance.now() - t0).toFixed(0)} ms`);
  t.equal(quick.messages.filter((m) => m.type === 'status' && m.data?.title?.startsWith('xxx')).length, N, 'a client that keeps up gets every change');
  lagging.ws._socket.resume();
  await lagging.next(isLast, 5000, 'the newest status (lagging client)');
  const count = lagging.messages.filter((m) => m.type === 'status').length;
  t.ok(count < N, `the lagging client got the newest state once it drained, skipping stale ones (${count} of ${N + 1} messages)`);
  t.ok(lagging.isOpen, 'and stays connected');
  // stuck never reads: closed by the server after slowCloseMs.
  const w0 = Date.now();
  while (slow.handle.count() > 2 && Date.now() - w0 < 12000) await new Promise((r) => setTimeout(r, 50));
  t.equal(slow.handle.count(), 2, 'the consumer that never drains was dropped');
  t.ok(slow.logs.some((l) => /closing a slow consumer/.test(l)), 'logged');
  stuck.ws._socket.resume();
  const closed = await stuck.closed();
  t.ok([1008, 1006].includes(closed.code), `closed (${closed.code} ${closed.reason})`);
  lagging.close();
  quick.close();
});
