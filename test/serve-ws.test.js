// The WebSocket module as mounted by a real `mediagate serve` (its own
// behaviour is tested in ws-*.test.js): auth by header and by subprotocol,
// no auth refused before the upgrade, status pushed after an mpc change,
// revocation with the CLI closes the socket, shutdown closes with 1001.
import t from 'tap';
import WebSocket from 'ws';
import { startMpd } from './helpers/mpd.js';
import { runCli } from './helpers/cli.js';
import { cliToken, serveEnv, startServe } from './helpers/serve.js';

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
