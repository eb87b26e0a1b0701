// serve's TLS profile against a real `mediagate serve --tls-cert … --tls-key …`
// (EC P-256 certificate from openssl): what each profile accepts and refuses
// (checked first against a weak node server, to show the probe can succeed
// where serve refuses), the certificate reload on SIGHUP (good and bad pair,
// open connections kept), and what is compressed (BREACH).
import t from 'tap';
import { createServer } from 'node:https';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import WebSocket from 'ws';
import { runCli } from './helpers/cli.js';
import { waitFor } from './helpers/proc.js';
import { auditEvents, cliToken, serveEnv, startServe } from './helpers/serve.js';
import { ecCertificate, fingerprintOf, tlsProbe } from './helpers/tls.js';

// Eight real serves, one after the other (about 85 s under load).
t.setTimeout(6 * 60_000);

const CBC = 'ECDHE-ECDSA-AES128-SHA';
const GCM = 'ECDHE-ECDSA-AES128-GCM-SHA256';

async function tlsServe(t, profile) {
  const cert = ecCertificate(t);
  const { env } = await serveEnv(t, {}, profile ? { 'server.tlsProfile': profile } : {});
  const srv = await startServe(t, env, { args: ['--tls-cert', cert.cert, '--tls-key', cert.key] });
  return { srv, env, cert };
}

t.test('the probe itself: a weak server accepts TLS 1.1 and CBC from the same client', async (t) => {
  const cert = ecCertificate(t);
  const weak = createServer({ cert: cert.certPem, key: readFileSync(cert.key), minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, (_q, r) => r.end('x'));
  await new Promise((r) => weak.listen(0, '127.0.0.1', r));
  t.teardown(() => weak.close());
  const port = weak.address().port;
  const v11 = await tlsProbe(port, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' });
  t.equal(v11.ok && v11.protocol, 'TLSv1.1', 'TLS 1.1 handshake possible with this client');
  const cbc = await tlsProbe(port, { maxVersion: 'TLSv1.2', ciphers: CBC });
  t.equal(cbc.ok && cbc.cipher, CBC, 'a CBC suite possible with this client');
});

t.test('intermediate (default): TLS 1.2 AEAD and TLS 1.3 accepted; TLS 1.1, CBC, RSA key exchange refused', async (t) => {
  const { srv, env } = await tlsServe(t);
  const aead = await tlsProbe(srv.port, { maxVersion: 'TLSv1.2', ciphers: GCM });
  t.same([aead.ok, aead.protocol, aead.cipher], [true, 'TLSv1.2', GCM], 'allowed: TLS 1.2 ECDHE-ECDSA-AES128-GCM');
  const chacha = await tlsProbe(srv.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' });
  t.equal(chacha.ok && chacha.cipher, 'ECDHE-ECDSA-CHACHA20-POLY1305', 'allowed: TLS 1.2 ChaCha20-Poly1305');
  const v13 = await tlsProbe(srv.port, {});
  t.equal(v13.ok && v13.protocol, 'TLSv1.3', 'allowed: TLS 1.3');
  const v11 = await tlsProbe(srv.port, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' });
  t.equal(v11.ok, false, `denied: TLS 1.1 (${v11.error})`);
  const v10 = await tlsProbe(srv.port, { minVersion: 'TLSv1', maxVersion: 'TLSv1' });
  t.equal(v10.ok, false, 'denied: TLS 1.0');
  for (const c of [CBC, 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES128-SHA256']) {
    const r = await tlsProbe(srv.port, { maxVersion: 'TLSv1.2', ciphers: c });
    t.equal(r.ok, false, `denied: CBC suite ${c}`);
  }
  const rsaKx = await tlsProbe(srv.port, { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' });
  t.equal(rsaKx.ok, false, 'denied: RSA key exchange (AES128-GCM-SHA256)');
  const start = (await auditEvents(env, ['--action', 'server.start'])).at(-1);
  t.match(start.detail, /TLS intermediate/, 'the profile is in the server.start audit event');
});

t.test('an RSA certificate gets the ECDHE-RSA AEAD suites, and no CBC', async (t) => {
  const { selfSigned } = await import('./helpers/serve.js');
  const cert = selfSigned(t);
  const { env } = await serveEnv(t);
  const srv = await startServe(t, env, { args: ['--tls-cert', cert.cert, '--tls-key', cert.key] });
  const gcm = await tlsProbe(srv.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' });
  t.equal(gcm.ok && gcm.cipher, 'ECDHE-RSA-AES256-GCM-SHA384', 'allowed: ECDHE-RSA-AES256-GCM');
  const cbc = await tlsProbe(srv.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA' });
  t.equal(cbc.ok, false, 'denied: ECDHE-RSA-AES128-SHA (CBC)');
});

t.test('modern: TLS 1.3 only — TLS 1.2 refused, even with an AEAD suite', async (t) => {
  const { srv } = await tlsServe(t, 'modern');
  const v13 = await tlsProbe(srv.port, {});
  t.equal(v13.ok && v13.protocol, 'TLSv1.3', 'allowed: TLS 1.3');
  const v12 = await tlsProbe(srv.port, { maxVersion: 'TLSv1.2', ciphers: GCM });
  t.equal(v12.ok, false, `denied: TLS 1.2 (${v12.error})`);
});

t.test('server.tlsProfile: validated, listed with its default', async (t) => {
  const { env } = await serveEnv(t);
  const bad = await runCli(['config', 'set', 'server.tlsProfile', 'old'], { env });
  t.not(bad.code, 0, 'denied: an unknown profile');
  t.match(bad.stderr, /intermediate, modern/);
  const all = await runCli(['config', 'list', '--all'], { env });
  t.match(all.stdout, /server\.tlsProfile\s+\(default: intermediate\)/, 'config list --all shows the default');
  const ok = await runCli(['config', 'set', 'server.tlsProfile', 'modern'], { env });
  t.equal(ok.code, 0, 'allowed: modern');
});

t.test('SIGHUP: a new certificate for new handshakes; an open keep-alive connection and WebSocket survive', async (t) => {
  const { srv, env, cert } = await tlsServe(t);
  const tok = await cliToken(env, 'reload', 'read');
  const first = fingerprintOf(cert.cert);
  t.equal((await tlsProbe(srv.port)).fingerprint256, first, 'the first certificate');
  // One keep-alive HTTP connection and one WebSocket, opened before the reload.
  const agent = new Agent({ connect: { ca: cert.certPem }, keepAliveTimeout: 60000, connections: 1, pipelining: 1 });
  t.teardown(() => agent.close());
  let sockets = 0;
  agent.on('connect', () => { sockets++; });
  const get = async () => {
    const r = await request(`${srv.url}/api/auth/whoami`, { headers: { authorization: `Bearer ${tok.token}` }, dispatcher: agent });
    await r.body.text();
    return r.statusCode;
  };
  t.equal(await get(), 200);
  const ws = new WebSocket(`${srv.url.replace('https', 'wss')}/api/ws`, ['mediagate.v1', `mediagate.token.${tok.token}`], { ca: cert.certPem, perMessageDeflate: false });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let wsClosed = false;
  ws.on('close', () => { wsClosed = true; });
  const wsReply = () => new Promise((resolve) => {
    ws.once('message', (d) => resolve(JSON.parse(d.toString())));
    ws.send(JSON.stringify({ type: 'subscribe', id: `s${Date.now()}`, topic: 'status' }));
  });
  t.ok(await wsReply(), 'the WebSocket answers');

  // The ACME client renews: new files in place, then SIGHUP.
  const renewed = ecCertificate(t, { days: 200 });
  copyFileSync(renewed.cert, cert.cert);
  copyFileSync(renewed.key, cert.key);
  const second = fingerprintOf(cert.cert);
  t.not(second, first);
  srv.child.kill('SIGHUP');
  await waitFor(() => /SIGHUP: reloaded the TLS certificate/.test(srv.err()), { what: 'the reload message' });
  t.equal((await tlsProbe(srv.port)).fingerprint256, second, 'allowed: a new handshake presents the new certificate');
  t.equal(await get(), 200, 'the keep-alive connection still answers');
  t.equal(sockets, 1, 'on the same connection (no reconnect)');
  t.ok(await wsReply(), 'the WebSocket still answers');
  t.equal(wsClosed, false, 'the WebSocket was not closed');
  t.equal(srv.child.exitCode, null, 'serve still runs');
  const ev = (await auditEvents(env, ['--action', 'server.tls_reload'])).at(-1);
  t.equal(ev.outcome, 'ok', 'the reload is audited');
  ws.close();
});

t.test('SIGHUP with a bad certificate or key: the old one stays, with a clear error', async (t) => {
  const { srv, env, cert } = await tlsServe(t);
  const first = fingerprintOf(cert.cert);
  const other = ecCertificate(t, { days: 100 });
  // A key that does not match the certificate.
  copyFileSync(other.key, cert.key);
  srv.child.kill('SIGHUP');
  await waitFor(() => /SIGHUP: error: .*key values mismatch.*still serving the previous certificate/.test(srv.err()), { what: 'the mismatch error' });
  t.equal((await tlsProbe(srv.port)).fingerprint256, first, 'denied: the mismatched pair is not used; the old certificate is presented');
  let ev = (await auditEvents(env, ['--action', 'server.tls_reload'])).at(-1);
  t.equal(ev.outcome, 'error', 'the refused reload is audited');
  t.match(ev.detail, /kept the current certificate/);
  t.notMatch(ev.detail, /PRIVATE KEY/, 'no key material in the audit');
  // Garbage instead of a certificate.
  writeFileSync(cert.cert, 'not a certificate\n');
  srv.child.kill('SIGHUP');
  await waitFor(() => (srv.err().match(/SIGHUP: error/g) ?? []).length >= 2, { what: 'the second error' });
  t.equal((await tlsProbe(srv.port)).fingerprint256, first, 'denied: an unparsable certificate is not used');
  t.equal(srv.child.exitCode, null, 'serve still runs');
  t.notMatch(srv.err(), /PRIVATE KEY|not a certificate/, 'no file content on stderr');
  // A good pair afterwards is taken.
  copyFileSync(other.cert, cert.cert);
  srv.child.kill('SIGHUP');
  await waitFor(() => /SIGHUP: reloaded/.test(srv.err()), { what: 'the reload message' });
  t.equal((await tlsProbe(srv.port)).fingerprint256, fingerprintOf(other.cert), 'allowed: then a matching pair is taken');
  ev = (await auditEvents(env, ['--action', 'server.tls_reload'])).at(-1);
  t.equal(ev.outcome, 'ok');
});

t.test('compression (BREACH): authenticated API answers never compressed; hashed static assets may be', async (t) => {
  const { srv, env, cert } = await tlsServe(t);
  const tok = await cliToken(env, 'gz', 'admin');
  const agent = new Agent({ connect: { ca: cert.certPem } });
  t.teardown(() => agent.close());
  const get = async (path, headers = {}) => {
    const r = await request(`${srv.url}${path}`, { headers: { 'accept-encoding': 'gzip, deflate, br', ...headers }, dispatcher: agent });
    return { status: r.statusCode, headers: r.headers, body: Buffer.from(await r.body.arrayBuffer()) };
  };
  for (const path of ['/api/auth/whoami', '/api/tokens', '/api/invites', '/api/audit']) {
    const r = await get(path, { authorization: `Bearer ${tok.token}` });
    t.equal(r.status, 200, path);
    t.equal(r.headers['content-encoding'], undefined, `denied: ${path} (authenticated) is not compressed`);
    t.doesNotThrow(() => JSON.parse(r.body.toString('utf8')), 'plain JSON');
  }
  const created = await request(`${srv.url}/api/invites`, { method: 'POST', headers: { authorization: `Bearer ${tok.token}`, 'content-type': 'application/json', 'accept-encoding': 'gzip' }, body: JSON.stringify({ label: 'phone', scope: 'read' }), dispatcher: agent });
  t.equal(created.headers['content-encoding'], undefined, 'denied: an answer carrying an invite code is not compressed');
  await created.body.text();
  for (const path of ['/', '/connect']) {
    const r = await get(path);
    t.equal(r.headers['content-encoding'], undefined, `${path} (a page) is not compressed`);
  }
  const page = (await get('/')).body.toString('utf8');
  // Pages use relative URLs (sub-path deployments): src="assets/…".
  const script = `/${/src="(?:\.?\/)?(assets\/[^"]+\.js)"/.exec(page)[1]}`;
  const js = await get(script);
  t.equal(js.headers['content-encoding'], 'gzip', `allowed: the hashed asset ${script} is gzip-compressed`);
  t.ok(gunzipSync(js.body).length > js.body.length);
});
