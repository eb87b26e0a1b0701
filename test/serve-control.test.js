// Control requests without re-listing, audit still complete, no redundant
// pushes (issue 14), on a real `mediagate serve` with a real MPD and an MPRIS
// player on a private bus:
// - POST /api/player/<action> with no player named acts on the player the
//   live state knows: the other players are not asked (their calls counted);
// - under concurrent load every control request — ok or error — gives
//   exactly one audit line with its request id, and `audit verify` passes;
// - re-reads that find the same state push nothing over the WebSocket, while
//   a seek (and a real change) still does.
import t from 'tap';
import { Pool } from 'undici';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startSessionBus, startFakePlayer } from './helpers/dbus.js';
import { startMpd } from './helpers/mpd.js';
import { makeMusic, tempDir } from './helpers/proc.js';
import { runCli } from './helpers/cli.js';
import { connect } from './helpers/ws.js';
import { api, auditEvents, cliToken, serveEnv, startServe } from './helpers/serve.js';
import { MpdConnection } from '../dist/core/players/mpd-protocol.js';

t.setTimeout(300000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** MPD playing, a fake MPRIS player (paused, answering), and serve on both with the rate limit off. */
async function stack(t) {
  const bus = await startSessionBus(t);
  const fake = await startFakePlayer(t, bus, { name: 'other' });
  const mpd = await startMpd(t, { musicDir: makeMusic(join(tempDir(t), 'music')) });
  mpd.mpc('-q', 'play');
  const { env } = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port), DBUS_SESSION_BUS_ADDRESS: bus.address },
    { 'server.rateLimit.rps': 0, 'volume.backend': 'player' });
  const token = (await cliToken(env, 'remote', 'control')).token;
  const srv = await startServe(t, env);
  return { bus, fake, mpd, env, token, srv };
}

t.test('no player named: the request acts on the player the live state knows, no other player is asked', async (t) => {
  const { fake, mpd, token, srv } = await stack(t);
  let r = await api(srv, 'GET', '/api/status', { token });
  t.equal(r.json.player, 'mpd', 'MPD (playing) is the active player');
  await sleep(300); // serve's first reading and watch set-up are over
  const before = fake.propCalls;
  const N = 40;
  const answers = [];
  for (let i = 0; i < N; i++) answers.push(await api(srv, 'POST', '/api/player/toggle', { token }));
  t.same(answers.filter((a) => a.status !== 200 || a.json.player !== 'mpd').map((a) => a.text), [], `${N} toggles, each 200 on mpd`);
  t.equal(fake.propCalls - before, 0, `${N} toggles: the other MPRIS player got no call at all (it got one per toggle when every request re-listed)`);
  t.match(mpd.mpc('status'), N % 2 ? /\[paused\]/ : /\[playing\]/, `MPD toggled ${N} times`);

  // Named, the request goes to that player (asked directly).
  r = await api(srv, 'POST', '/api/player/play', { token, json: { player: 'other' } });
  t.equal(r.status, 200);
  t.equal(r.json.player, 'other');
  t.same(fake.calls.slice(-1), ['Play'], 'the named player got Play');
  r = await api(srv, 'POST', '/api/player/pause', { token, json: { player: 'nosuch' } });
  t.equal(r.status, 404, 'a player nobody knows: 404');
  t.equal(r.json.error.code, 'player.not_found');
});

t.test('under concurrent load every control request gives exactly one audit line, and the chain verifies', async (t) => {
  const { env, token, srv } = await stack(t);
  const pool = new Pool(srv.url, { connections: 16, pipelining: 1 });
  t.teardown(() => pool.close());
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const N = 1200;
  const sent = await Promise.all(Array.from({ length: N }, async (_, i) => {
    // One in ten names a player that does not exist: an error, audited as one.
    const body = i % 10 === 9 ? JSON.stringify({ player: 'nosuch' }) : undefined;
    const res = await pool.request({ method: 'POST', path: '/api/player/toggle', headers, body });
    await res.body.dump();
    return { id: res.headers['x-request-id'], status: res.statusCode };
  }));
  const counts = {};
  for (const s of sent) counts[s.status] = (counts[s.status] ?? 0) + 1;
  t.same(counts, { 200: N * 0.9, 404: N * 0.1 }, `${N} answers: ${JSON.stringify(counts)}`);
  // On disk while serve runs, not only after a shutdown flush: wait for the lines, then kill serve
  // outright (SIGKILL, nothing flushed) — what was answered was already recorded.
  const onDisk = () => readFileSync(join(env.MEDIAGATE_STATE_DIR, 'audit.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"player.toggle"')).length;
  for (let waited = 0; onDisk() < N && waited < 15000; waited += 100) await sleep(100);
  t.equal(onDisk(), N, `all ${N} toggle lines are on disk while serve still runs`);
  // A batch's lines go in before its head record (audit.head) is replaced; a SIGKILL between the
  // two leaves lines that `audit verify` rightly reports as past the head until the next append
  // explains them. Kill once the head covers the file, so the verify below checks the chain itself.
  const headCovers = () => {
    try {
      const head = JSON.parse(readFileSync(join(env.MEDIAGATE_STATE_DIR, 'audit.head'), 'utf8'));
      return head.size === statSync(join(env.MEDIAGATE_STATE_DIR, 'audit.jsonl')).size;
    } catch { return false; }
  };
  for (let waited = 0; !headCovers() && waited < 15000; waited += 50) await sleep(50);
  t.ok(headCovers(), 'the head record covers every line on disk');
  await srv.stop('SIGKILL');
  const events = (await auditEvents(env, ['--action', 'player.toggle', '--limit', String(N * 2)]));
  const byId = new Map();
  for (const e of events) byId.set(e.requestId, (byId.get(e.requestId) ?? 0) + 1);
  t.equal(events.length, N, `${events.length} audit lines for ${N} requests`);
  t.ok(sent.every((s) => byId.get(s.id) === 1), 'each request id exactly once');
  t.equal(events.filter((e) => e.outcome === 'error').length, N * 0.1, 'the refused ones audited as errors');
  t.same(await auditEvents(env, ['--action', 'audit.dropped']), [], 'no audit.dropped event: the queue never overflowed');
  const v = await runCli(['audit', 'verify'], { env });
  t.equal(v.code, 0, `audit verify: ${v.stdout}${v.stderr}`);
});

t.test('re-reads that find the same state push nothing; a seek and a real change do', async (t) => {
  const { mpd, token, srv } = await stack(t);
  const c = await connect(`${srv.url.replace(/^http/, 'ws')}/api/ws`, { token });
  t.teardown(() => c.close());
  c.send({ type: 'subscribe' });
  const first = (await c.next((m) => m.type === 'status', 5000, 'the first status')).data;
  t.equal(first.status, 'playing');
  const conn = await MpdConnection.open({ kind: 'tcp', host: mpd.host, port: mpd.port }, { timeoutMs: 5000, display: 'test' });
  t.teardown(() => conn.close());
  const statusPushes = () => c.messages.filter((m) => m.type === 'status').length;
  const pushed = statusPushes();

  // `crossfade 0` when it is 0 already: MPD reports "options" changed, serve re-reads, finds the same state.
  // Spaced past serve's 25 ms debounce, so each one is a re-read of its own.
  const EVENTS = 40;
  for (let i = 0; i < EVENTS; i++) { await conn.command('crossfade', 0); await sleep(60); }
  await sleep(300);
  t.equal(statusPushes() - pushed, 0, `${EVENTS} re-reads of MPD playing on: no status pushed`);

  await conn.command('seekcur', '+10');
  const sought = (await c.next((m) => m.type === 'status' && m.data.position >= first.position + 10, 3000, 'the status after the seek')).data;
  t.not(sought.positionUpdatedAt, first.positionUpdatedAt, 'a seek is pushed, with a new positionUpdatedAt');
  const lag = Math.abs(sought.position + (Date.now() - Date.parse(sought.positionUpdatedAt)) / 1000 - Number((await conn.command('status')).find(([k]) => k === 'elapsed')[1]));
  t.ok(lag < 1, `extrapolated from the pushed pair, the position is MPD's (off by ${lag.toFixed(3)} s)`);

  // MPD's position can lag its seek target for a moment while the decoder catches up; a correction
  // past the tolerance is real news and may be pushed once. Let that settle, then re-reads again push nothing.
  await sleep(1500);
  const settled = c.messages.filter((m) => m.type === 'status').at(-1).data;
  const afterSeek = statusPushes();
  for (let i = 0; i < 10; i++) { await conn.command('crossfade', 0); await sleep(60); }
  await sleep(300);
  // Nothing again after it — except a real correction: under load MPD's null output can fall
  // behind the wall clock by more than the tolerance, and that drift is news. A push that only
  // repeats the extrapolation (what this guards against) has a drift of ~0 and fails here.
  const statuses = c.messages.filter((m) => m.type === 'status').map((m) => m.data);
  const later = statuses.slice(afterSeek);
  let prev = settled;
  for (const s of later) {
    const predicted = prev.position + (prev.status === 'playing' ? (Date.parse(s.positionUpdatedAt) - Date.parse(prev.positionUpdatedAt)) / 1000 : 0);
    t.ok(Math.abs(s.position - predicted) > 0.45, `a push after the settled seek is a real correction (drift ${Math.abs(s.position - predicted).toFixed(3)} s)`);
    prev = s;
  }
  t.ok(later.length <= 1, `and at most one correction in 10 re-reads (${later.length} pushed)`);
  await conn.command('setvol', 37);
  const v = (await c.next((m) => m.type === 'status' && m.data.volume === 37, 3000, 'the status with the new volume')).data;
  const lastPair = c.messages.filter((m) => m.type === 'status' && m.data.volume !== 37).at(-1).data;
  if (Math.abs(v.position + (Date.parse(lastPair.positionUpdatedAt) - Date.parse(v.positionUpdatedAt)) / 1000 - lastPair.position) <= 0.45) {
    t.equal(v.positionUpdatedAt, lastPair.positionUpdatedAt, 'a volume change is pushed; the position pair stays the last one pushed');
  } else t.pass('a volume change is pushed, with a drift past the tolerance taken as news');
});
