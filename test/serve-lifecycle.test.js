// A real `mediagate serve` from start to stop: settings from config alone
// (server.host, server.port, server.tlsCert, server.tlsKey — no flags), an
// incomplete TLS config refused at start, SIGINT shutdown with a request in
// flight, and the 30 s limit on a request whose body stalls.
import t from 'tap';
import net from 'node:net';
import { freePort } from './helpers/mpd.js';
import { runCli } from './helpers/cli.js';
import { api, auditEvents, cliToken, selfSigned, serveEnv, startServe } from './helpers/serve.js';

// Real daemons and serve processes on a shared, loaded machine: more than the default 120 s.
t.setTimeout(300000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A raw HTTP/1.1 connection to 127.0.0.1:port: write by hand, collect the answer. */
async function rawConnection(port) {
  const sock = net.connect(port, '127.0.0.1');
  let answer = '';
  sock.setEncoding('utf8').on('data', (d) => { answer += d; });
  sock.on('error', () => {});
  const ended = new Promise((r) => sock.on('close', () => r(performance.now())));
  await new Promise((r) => sock.once('connect', r));
  return { sock, ended, answer: () => answer };
}

t.test('server.host and server.port from config, no flags', async (t) => {
  const port = await freePort('127.0.0.3');
  const { env } = await serveEnv(t, {}, { 'server.host': '127.0.0.3', 'server.port': port });
  const tok = await cliToken(env, 'r', 'read');
  const srv = await startServe(t, env, { port: null });
  t.equal(srv.url, `http://127.0.0.3:${port}`, 'listening where the config says');
  const r = await api(srv, 'GET', '/api/auth/whoami', { token: tok.token });
  t.equal(r.status, 200);
  t.notOk(r.headers['strict-transport-security'], 'plain HTTP: no HSTS');
  const other = await api(`http://127.0.0.1:${port}`, 'GET', '/api/health').catch((e) => e);
  t.ok(other instanceof Error, 'and nowhere else (127.0.0.1 on that port is refused)');
  t.equal((await srv.stop()).code, 0);
});

t.test('server.tlsCert and server.tlsKey from config serve HTTPS; only one of them refuses to start', async (t) => {
  const tls = selfSigned(t);
  const { env } = await serveEnv(t, {}, { 'server.tlsCert': tls.cert, 'server.tlsKey': tls.key });
  const tok = await cliToken(env, 'r', 'read');
  const srv = await startServe(t, env);
  t.match(srv.url, /^https:\/\/127\.0\.0\.1:\d+$/, 'HTTPS from config alone');
  const r = await api(srv, 'GET', '/api/auth/whoami', { token: tok.token, ca: tls.certPem });
  t.equal(r.status, 200, 'a client trusting the certificate gets through');
  t.match(r.headers['strict-transport-security'], /max-age=/, 'HSTS under TLS');
  const untrusted = await api(srv, 'GET', '/api/health').catch((e) => e);
  t.ok(untrusted instanceof Error, 'a client that does not trust the certificate does not');
  t.equal((await srv.stop()).code, 0);

  // Only the certificate (and, separately, only the key): refused before listening.
  for (const [key, value, missing] of [['server.tlsCert', tls.cert, 'key'], ['server.tlsKey', tls.key, 'certificate']]) {
    const { env: e2 } = await serveEnv(t, {}, { [key]: value });
    const bad = await startServe(t, e2, { expectExit: true });
    t.not(bad.code, 0, `only ${key}: exit ${bad.code}`);
    t.equal(bad.url, null, 'never listened');
    t.match(bad.err(), /TLS needs both a certificate and a key/);
    t.match(bad.err(), new RegExp(`only the ${missing === 'key' ? 'certificate' : 'key'} was given`));
    t.notMatch(bad.err(), /listening on/);
  }
});

t.test('SIGINT: the in-flight request finishes, exit 0, server.stop audited last, audit verifies', async (t) => {
  const { env } = await serveEnv(t);
  const admin = await cliToken(env, 'boss', 'admin');
  const srv = await startServe(t, env);
  // Headers now, body after the signal.
  const body = JSON.stringify({ label: 'in-flight', scope: 'read' });
  const c = await rawConnection(srv.port);
  c.sock.write(`POST /api/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin.token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
  await sleep(300);
  srv.child.kill('SIGINT');
  await sleep(300);
  t.equal(srv.child.exitCode, null, 'still running while the request is in flight');
  c.sock.write(body);
  await c.ended;
  t.match(c.answer(), /^HTTP\/1\.1 200 /, 'the in-flight request finished');
  const created = JSON.parse(c.answer().slice(c.answer().indexOf('\r\n\r\n') + 4));
  t.equal(created.label, 'in-flight');
  const { code, signal } = await srv.exited;
  t.equal(code, 0, 'exit 0');
  t.equal(signal, null, 'not killed by the signal');
  t.match(srv.err(), /SIGINT/);
  const list = JSON.parse((await runCli(['token', 'list', '--json'], { env })).stdout);
  t.ok(list.some((x) => x.id === created.id), 'the token made during shutdown is stored');
  const events = await auditEvents(env);
  t.ok(events.some((e) => e.action === 'token.create' && e.target === created.id), 'the request is audited');
  t.equal(events.at(-1).action, 'server.stop', 'server.stop is the last record');
  t.equal(events.at(-1).outcome, 'ok');
  const v = await runCli(['audit', 'verify'], { env });
  t.equal(v.code, 0, v.stderr);
});

t.test('a request whose body stalls gets a JSON timeout error after 30 s and the connection is closed', async (t) => {
  t.setTimeout(120000);
  const { env } = await serveEnv(t);
  const admin = await cliToken(env, 'boss', 'admin');
  const srv = await startServe(t, env);
  const body = JSON.stringify({ label: 'never-finished', scope: 'read' });
  const c = await rawConnection(srv.port);
  const t0 = performance.now();
  c.sock.write(`POST /api/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin.token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
  // Meanwhile the server answers others.
  await sleep(1000);
  t.equal((await api(srv, 'GET', '/api/health')).status, 200, 'other requests are served meanwhile');
  const closedAt = await c.ended;
  const s = (closedAt - t0) / 1000;
  t.comment(`answered and closed after ${s.toFixed(1)} s`);
  t.ok(s >= 29 && s < 45, `after about 30 s (${s.toFixed(1)} s)`);
  const text = c.answer();
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1]);
  // 503 when the handler's own 30 s timer fires first (request-timeout.ts), 408 when node's requestTimeout does.
  t.ok(status === 408 || status === 503, `a timeout status (${status})`);
  t.comment(`status ${status}`);
  t.match(text, /content-type: application\/json/i);
  const json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
  t.equal(json.error.code, 'request.timeout');
  t.ok(json.error.requestId, 'with a request id');
  t.notOk(text.includes(admin.token), 'no secret echoed');
  const list = JSON.parse((await runCli(['token', 'list', '--json'], { env })).stdout);
  t.notOk(list.some((x) => x.label === 'never-finished'), 'nothing was created');
  t.equal((await srv.stop()).code, 0);
});
