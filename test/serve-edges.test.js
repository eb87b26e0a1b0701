// Edges of a real `mediagate serve` that only an in-process harness covered
// before: WS upgrades from a foreign Origin and malformed WS messages; the
// redeem lockout refusing even a VALID code (and not consuming it); an invite
// revoked with the CLI while serve runs; artwork links expiring and ETags
// following the file's content.
import t from 'tap';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startSessionBus } from './helpers/dbus.js';
import { tempDir, waitFor } from './helpers/proc.js';
import { runCli } from './helpers/cli.js';
import { connect } from './helpers/ws.js';
import { api, auditEvents, cliToken, serveEnv, startArtPlayer, startServe, writePng } from './helpers/serve.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const CLOCK_SKIP = fileURLToPath(new URL('./fixtures/clock-skip.mjs', import.meta.url));

t.test('WS on a real serve: a foreign Origin is refused before the upgrade; a malformed message gets an error and the socket stays open', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.corsOrigins': 'https://panel.example.net' });
  const reader = await cliToken(env, 'ws-reader', 'read');
  const control = await cliToken(env, 'ws-control', 'control');
  const srv = await startServe(t, env);
  const url = `${srv.url.replace(/^http/, 'ws')}/api/ws`;

  const foreign = await connect(url, { token: reader.token, origin: 'https://evil.example.com' });
  t.ok(foreign.refused, 'a foreign Origin: no upgrade');
  t.equal(foreign.status, 403);
  t.equal(foreign.body?.error?.code, 'auth.origin_denied');
  t.notOk(JSON.stringify(foreign.body).includes(reader.token), 'no token echoed');
  const lookalike = await connect(url, { token: reader.token, origin: 'https://panel.example.net.evil.example.com' });
  t.equal(lookalike.status, 403, 'a look-alike of the allowed origin is foreign too');

  // A control token: malformed commands must fail on their shape, not on scope.
  const allowed = await connect(url, { token: control.token, origin: 'https://panel.example.net' });
  t.notOk(allowed.refused, 'the allow-listed Origin is accepted');
  const plain = await connect(url, { token: reader.token });
  t.notOk(plain.refused, 'no Origin (not a browser) is accepted');
  t.teardown(() => { allowed.close(); plain.close(); });

  for (const [what, raw] of [['not JSON', '{"type": "subscribe"'], ['an unknown type', '{"type":"launch"}'], ['an array', '[1,2,3]'], ['a command without action', '{"type":"command"}'], ['an unknown action', '{"type":"command","action":"explode"}']]) {
    allowed.send(raw);
    const err = await allowed.next((m) => m.type === 'error', 3000, `an error for ${what}`);
    t.ok(err.code && err.code !== 'auth.insufficient_scope', `${what}: error ${err.code}`);
    t.ok(err.message, 'with a message');
    t.ok(allowed.isOpen, `${what}: the socket stays open`);
  }
  allowed.send({ type: 'subscribe' });
  const status = await allowed.next((m) => m.type === 'status', 3000, 'status after the errors');
  t.ok('data' in status, 'and it still answers a valid message');

  const events = await auditEvents(env, ['--outcome', 'denied']);
  t.ok(events.some((e) => /origin/.test(e.action + (e.detail ?? '')) && e.ip === '127.0.0.1'), 'the foreign Origin is audited');
  t.equal((await srv.stop()).code, 0);
});

t.test('redeem lockout: a valid code from a locked address is refused and not consumed; another address redeems it', async (t) => {
  const { env } = await serveEnv(t);
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'once', '--scope', 'read', '--uses', '1', '--json'], { env })).stdout);
  const srv = await startServe(t, env);
  const locked = '127.0.0.20';
  for (let i = 0; i < 10; i++) {
    const bad = `ZZZZ-ZZZZ-ZZZZ-ZZ${String(i).padStart(2, '0')}`;
    const r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: bad }, from: locked });
    t.equal(r.status, 401, `bad code ${i + 1} → 401`);
  }
  let r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code }, from: locked });
  t.equal(r.status, 429, 'the valid code is refused while the address is locked');
  t.equal(r.json.error.code, 'auth.locked');
  t.ok(Number(r.headers['retry-after']) > 0, 'with Retry-After');
  t.notOk(r.text.includes('pairingToken') || r.text.includes('mgp_'), 'no pairing token');
  const listed = JSON.parse((await runCli(['invite', 'list', '--json'], { env })).stdout).find((x) => x.id === inv.id);
  t.equal(listed.status, 'active', 'the invite is still active');
  r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code }, from: '127.0.0.21' });
  t.equal(r.status, 200, 'another address redeems it: the refused attempt consumed nothing');
  t.match(r.json.pairingToken, /^mgp_/);
  r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code }, from: '127.0.0.22' });
  t.equal(r.json?.error?.code, 'invite.used_up', 'and that one use was the only one');
  const events = await auditEvents(env);
  t.notOk(events.some((e) => e.action === 'invite.redeem' && e.outcome === 'ok' && e.ip === locked), 'no successful redeem from the locked address');
  t.ok(events.some((e) => e.action === 'auth.locked' && e.ip === locked), 'the refusal is audited');
});

t.test('an invite revoked with the CLI while serve runs is refused over HTTP within 1 s', async (t) => {
  const { env } = await serveEnv(t);
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'many', '--scope', 'read', '--uses', '100', '--json'], { env })).stdout);
  const srv = await startServe(t, env);
  let r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code }, from: '127.0.0.30' });
  t.equal(r.status, 200, 'redeems before');
  const rv = await runCli(['invite', 'revoke', inv.id], { env });
  t.equal(rv.code, 0, rv.stderr);
  const revokedAt = Date.now();
  let ms;
  let n = 0;
  // One address per attempt: refused redeems count toward the lockout.
  while (Date.now() - revokedAt < 3000) {
    r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code }, from: `127.0.3.${++n}` });
    if (r.status !== 200) { ms = Date.now() - revokedAt; break; }
    await sleep(20);
  }
  t.ok(ms !== undefined && ms <= 1000, `refused ${ms} ms after \`invite revoke\` returned (${n} attempts)`);
  t.equal(r.status, 401);
  t.equal(r.json.error.code, 'invite.revoked');
  t.notOk(r.text.includes('mgp_'), 'no pairing token');
});

t.test('artwork: the ETag follows the content; If-None-Match gets 304; an expired link is refused', async (t) => {
  const bus = await startSessionBus(t);
  const dir = tempDir(t, 'mg-art-');
  const png = writePng(join(dir, 'cover.png'));
  await startArtPlayer(t, bus, { artUrl: pathToFileURL(png).href });
  // serve's clock moves 10 minutes forward on SIGUSR2 (test/fixtures/clock-skip.mjs): artwork links live ~5 minutes.
  const { env } = await serveEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, NODE_OPTIONS: `--import=${pathToFileURL(CLOCK_SKIP).href}` });
  const tok = (await cliToken(env, 'r', 'read')).token;
  const srv = await startServe(t, env);

  let r = await api(srv, 'GET', '/api/status', { token: tok });
  const link = r.json.artwork;
  t.match(link, /^\/api\/artwork\?/);
  r = await api(srv, 'GET', link);
  t.equal(r.status, 200);
  const etag1 = r.headers.etag;
  t.match(etag1, /^"[A-Za-z0-9_-]{32}"$/);
  r = await api(srv, 'GET', link, { headers: { 'if-none-match': etag1 } });
  t.equal(r.status, 304, 'If-None-Match with the current ETag → 304');
  t.equal(r.text, '', 'no body');

  // Same file, same link, new content (a PNG with a trailing chunk of bytes).
  await sleep(20); // a different mtime, as a real rewrite would have
  writeFileSync(png, Buffer.concat([readFileSync(png), Buffer.from('-changed')]));
  r = await api(srv, 'GET', link, { headers: { 'if-none-match': etag1 } });
  t.equal(r.status, 200, 'the old ETag no longer matches: the new image is sent');
  const etag2 = r.headers.etag;
  t.not(etag2, etag1, 'a new ETag for new content');
  t.ok(r.text.endsWith('-changed'), 'the new content');
  r = await api(srv, 'GET', link, { headers: { 'if-none-match': etag2 } });
  t.equal(r.status, 304, 'and the new ETag gets 304');
  // The same content again → the same ETag (it is derived from the content, not the time).
  writeFileSync(png, readFileSync(png).subarray(0, readFileSync(png).length - '-changed'.length));
  r = await api(srv, 'GET', link);
  t.equal(r.headers.etag, etag1, 'the original content has the original ETag');

  // Ten minutes later (serve's clock) the link has expired.
  srv.child.kill('SIGUSR2');
  await waitFor(() => /clock \+10 min/.test(srv.err()), { what: 'the clock to move' });
  r = await api(srv, 'GET', link);
  t.equal(r.status, 403, 'an expired link is refused');
  t.equal(r.json.error.code, 'artwork.bad_signature');
  t.match(r.json.error.message, /expired/);
  r = await api(srv, 'GET', link, { headers: { 'if-none-match': etag1 } });
  t.equal(r.status, 403, 'also with If-None-Match: no 304 for an expired link');
  r = await api(srv, 'GET', '/api/status', { token: tok });
  const fresh = r.json.artwork;
  t.not(fresh, link, 'status hands out a fresh link');
  r = await api(srv, 'GET', fresh);
  t.equal(r.status, 200, 'which works');
  t.equal(r.headers.etag, etag1);
  const events = await auditEvents(env, ['--action', 'artwork']);
  t.ok(events.some((e) => e.outcome === 'denied'), 'the expired link is audited as denied');
  t.equal((await srv.stop()).code, 0);
});
