// The WebSocket module as mounted by a real `mediagate serve` (its own
// behaviour is tested in ws-*.test.js): auth by header and by subprotocol,
// no auth refused before the upgrade, status pushed after an mpc change,
// revocation with the CLI closes the socket, shutdown closes with 1001.
import t from 'tap';
import WebSocket from 'ws';
import { startMpd } from './helpers/mpd.js';
import { runCli } from './helpers/cli.js';
import { auditEvents, cliToken, serveEnv, startServe } from './helpers/serve.js';

function open(url, opts) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts.protocols ?? ['mediagate.v1'], { headers: opts.headers ?? {} });
    const messages = [];
    const waiters = [];
    ws.on('message', (d) => {
      const m = JSON.parse(String(d));
      messages.push({ at: Date.now(), m });
      for (const w of [...waiters]) if (w.pred(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve({ at: Date.now(), m }); }
    });
    ws.once('open', () => resolve({
      ws, messages,
      next: (pred, ms = 3000) => new Promise((res, rej) => {
        const hit = messages.find((x) => pred(x.m));
        if (hit) return res(hit);
        const w = { pred, resolve: res };
        waiters.push(w);
        setTimeout(() => rej(new Error('no such message')), ms).unref();
      }),
      closed: new Promise((res) => ws.once('close', (code, reason) => res({ code, reason: String(reason), at: Date.now() }))),
    }));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

t.test('WebSocket /api/ws on a real serve', async (t) => {
  const mpd = await startMpd(t);
  const { env } = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
  const reader = await cliToken(env, 'ws-reader', 'read');
  const other = await cliToken(env, 'ws-other', 'read');
  const srv = await startServe(t, env);
  const wsUrl = `${srv.url.replace(/^http/, 'ws')}/api/ws`;

  const refused = await open(wsUrl, {}).catch((e) => e);
  t.equal(refused.status, 401, 'no token: refused before the upgrade');

  const a = await open(wsUrl, { headers: { authorization: `Bearer ${reader.token}` } });
  t.equal(a.ws.protocol, 'mediagate.v1', 'header auth');
  const b = await open(wsUrl, { protocols: ['mediagate.v1', `mediagate.token.${other.token}`] });
  t.equal(b.ws.protocol, 'mediagate.v1', 'subprotocol auth, answered mediagate.v1');

  a.ws.send(JSON.stringify({ type: 'subscribe' }));
  const first = await a.next((m) => m.type === 'status');
  t.equal(first.m.data.player, 'mpd');
  t.ok('artwork' in first.m.data, 'the GET /api/status shape');
  const t0 = Date.now();
  mpd.mpc('play');
  const pushed = await a.next((m) => m.type === 'status' && m.data?.status === 'playing');
  t.comment(`status pushed ${pushed.at - t0} ms after mpc play`);
  t.ok(pushed.at - t0 < 1000, 'pushed after an mpc change');

  a.ws.send(JSON.stringify({ type: 'command', action: 'pause' }));
  const err = await a.next((m) => m.type === 'error');
  t.equal(err.m.code, 'auth.insufficient_scope', 'a read token cannot send commands');
  t.equal(a.ws.readyState, WebSocket.OPEN, 'the socket stays open');

  const r = await runCli(['token', 'revoke', reader.id], { env });
  t.equal(r.code, 0, r.stderr);
  // The revocation takes effect when tokens.json is written, before the CLI process has exited.
  const revokedAt = Date.now();
  const closed = await a.closed;
  t.ok(closed.at - revokedAt <= 1000, `closed ${Math.max(0, closed.at - revokedAt)} ms after \`token revoke\` returned`);
  t.equal(b.ws.readyState, WebSocket.OPEN, 'the other token stays connected');

  const stopped = srv.stop();
  const bc = await b.closed;
  t.equal(bc.code, 1001, 'shutdown closes with 1001');
  t.equal((await stopped).code, 0);
});

t.test('subscribe with a player, and to the audit log (admin scope), on a real serve', async (t) => {
  const mpd = await startMpd(t);
  const { env } = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
  const reader = await cliToken(env, 'ws-player', 'read');
  const admin = await cliToken(env, 'ws-admin', 'admin');
  const srv = await startServe(t, env);
  const wsUrl = `${srv.url.replace(/^http/, 'ws')}/api/ws`;
  const auth = (tok) => ({ headers: { authorization: `Bearer ${tok.token}` } });

  // A player by name: its status, pushed on change; a name with no player: null, and the socket stays open.
  const p = await open(wsUrl, auth(reader));
  p.ws.send(JSON.stringify({ type: 'subscribe', player: 'mpd', id: 's' }));
  t.equal((await p.next((m) => m.type === 'status')).m.data.player, 'mpd');
  t.same((await p.next((m) => m.type === 'result')).m, { type: 'result', id: 's', ok: true, data: { subscribed: true } });
  mpd.mpc('-q', 'play');
  const pushed = await p.next((m) => m.type === 'status' && m.data?.status === 'playing');
  t.equal(pushed.m.data.player, 'mpd', 'the change is pushed for that player');
  const none = await open(wsUrl, auth(reader));
  none.ws.send(JSON.stringify({ type: 'subscribe', player: 'nosuch' }));
  t.same((await none.next((m) => m.type === 'status')).m, { type: 'status', data: null }, 'no such player: null');
  none.ws.send(JSON.stringify({ type: 'subscribe', player: 42 }));
  t.equal((await none.next((m) => m.type === 'error')).m.code, 'request.invalid_message', 'a bad player name: an error');
  t.equal(none.ws.readyState, WebSocket.OPEN, 'the socket stays open');

  // The audit log: a read token is refused (and the refusal audited); an admin token gets the backlog, then new events.
  p.ws.send(JSON.stringify({ type: 'subscribe', topic: 'audit', id: 'a' }));
  const denied = await p.next((m) => m.type === 'error' && m.id === 'a');
  t.equal(denied.m.code, 'auth.insufficient_scope', 'read scope may not follow the audit log');
  t.equal(p.ws.readyState, WebSocket.OPEN);
  t.notOk(p.messages.some((x) => x.m.type === 'audit'), 'and got no event');

  const a = await open(wsUrl, auth(admin));
  a.ws.send(JSON.stringify({ type: 'subscribe', topic: 'audit', backlog: 3, filter: { action: 'token' }, id: 'f' }));
  await a.next((m) => m.type === 'result' && m.id === 'f');
  const backlog = a.messages.filter((x) => x.m.type === 'audit');
  t.ok(backlog.length >= 1 && backlog.length <= 3, `the backlog: ${backlog.length} past token event(s), at most 3`);
  t.ok(backlog.every((x) => x.m.data.action.startsWith('token.')), 'matching the filter');
  const made = await cliToken(env, 'made-while-following', 'read');
  const ev = await a.next((m) => m.type === 'audit' && m.data.action === 'token.create' && m.data.target === made.id, 5000);
  t.equal(ev.m.data.outcome, 'ok', 'a new event is pushed as it is written');
  const end = Date.now() + 5000;
  let refusals = [];
  while (Date.now() < end && refusals.length === 0) {
    refusals = (await auditEvents(env, ['--action', 'audit.follow'])).filter((e) => e.outcome === 'denied' && e.actor.id === `token:${reader.id}`);
    if (refusals.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(refusals.length, 1, 'the refusal is audited with the token that asked');
});
