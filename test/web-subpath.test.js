// Sub-path deployments (issue 15): server.publicUrl on a sub-path
// (http://127.0.0.1:N/mediagate), a real nginx in front proxying /mediagate/
// to a real serve (prefix stripped, WebSocket upgrade included), and the web
// remote in real Chromium through it: pairing by the invite link, control
// and live updates, every page, asset, API and WebSocket URL under the path;
// the cookie scoped to the path (another application on the same host never
// receives it) and the CSRF/Origin checks still refusing a foreign page.
// Also: serve itself answers at the sub-path (a proxy that passes it on), and
// the links it prints and answers (invite links, artwork) carry it.
import t from 'tap';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request } from 'undici';
import { startMpd } from './helpers/mpd.js';
import { startSessionBus } from './helpers/dbus.js';
import { makeMusic, tempDir, waitFor } from './helpers/proc.js';
import { runCli } from './helpers/cli.js';
import { api, auditEvents, cliToken, serveEnv, startArtPlayer, startServe, writePng } from './helpers/serve.js';
import { launchBrowser, needChromium, phonePage, startOtherOrigin } from './helpers/browser.js';
import { nginxPort, startNginx } from './helpers/nginx.js';
import { connect } from './helpers/ws.js';

// nginx, MPD, a D-Bus bus, two serves and Chromium twice: past 120 s on a loaded 2-core machine.
t.setTimeout(360000);

const mpcState = (mpd) => {
  const m = /^\[(playing|paused)\]/m.exec(mpd.mpc('status'));
  return m ? m[1] : 'stopped';
};

/** Wait for the remote after pressing Pair; a problem the page shows fails at once, saying what it is. */
async function pairedAt(page, publicUrl) {
  const shown = page.waitForSelector('#problem:not([hidden])', { timeout: 30000 }).then(async () => { throw new Error(`pairing failed: ${await page.textContent('#problem')}`); }, () => {});
  await Promise.race([page.waitForURL(`${publicUrl}/`), shown]);
}

/** A serve whose public URL is nginx's /mediagate, and that nginx. */
async function behindNginx(t, extraEnv = {}, config = {}) {
  const port = await nginxPort();
  const publicUrl = `http://127.0.0.1:${port}/mediagate`;
  const { env } = await serveEnv(t, extraEnv, { 'server.rateLimit.rps': 0, 'server.publicUrl': publicUrl, ...config });
  const srv = await startServe(t, env);
  const nginx = await startNginx(t, { port, upstream: srv.url, prefix: 'mediagate' });
  return { env, srv, nginx, publicUrl };
}

t.test('behind nginx at /mediagate/: pair by the invite link, control, live updates, cookie scoped to the path', async (t) => {
  if (!needChromium(t)) return;
  const music = makeMusic(join(tempDir(t), 'music'));
  const mpd = await startMpd(t, { musicDir: music });
  mpd.mpc('-q', 'volume', '50');
  mpd.mpc('-q', 'play', '1');
  const { env, srv, nginx, publicUrl } = await behindNginx(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) }, { 'volume.backend': 'player' });

  // The link mediagate prints (and puts in the QR code) carries the path.
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'phone', '--scope', 'control', '--json'], { env })).stdout);
  t.match(inv.link, `${publicUrl}/connect#code=`, 'the invite link is under the sub-path');
  const qr = await runCli(['invite', 'create', '--label', 'phone2', '--scope', 'control', '--qr'], { env });
  t.match(qr.stdout + qr.stderr, `${publicUrl}/connect#code=`, 'and so is the one under the QR code');

  const browser = await launchBrowser(t);
  const { context, page, problems, settled } = await phonePage(browser, { base: publicUrl });
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));

  await page.goto(inv.link);
  await page.waitForSelector('#pair:not([hidden])');
  await page.fill('#device', 'Proxied phone');
  await page.click('#submit');
  await pairedAt(page, publicUrl);
  await page.waitForSelector('#conn[data-state="open"]');
  t.pass('paired through nginx; the remote is open at /mediagate/');
  t.ok(JSON.parse((await runCli(['token', 'list', '--json'], { env })).stdout).some((d) => d.label === 'Proxied phone'), 'the device token exists');

  // Every URL the pages used stayed under the sub-path (pages, assets, manifest, API, WebSocket).
  const outside = requests.filter((u) => !u.startsWith(`${publicUrl}/`));
  t.same(outside, [], 'no request left /mediagate/');
  t.ok(requests.some((u) => /\/mediagate\/assets\/remote\.[0-9a-f]{12}\.js$/.test(u)), 'assets from /mediagate/assets/');
  const manifestUrl = await page.evaluate(() => document.querySelector('link[rel=manifest]').href);
  t.equal(manifestUrl, `${publicUrl}/manifest.webmanifest`, 'the manifest link under /mediagate/');
  const manifest = await (await request(manifestUrl)).body.json();
  for (const u of [manifest.start_url, manifest.scope, manifest.id, ...manifest.icons.map((i) => i.src)]) {
    t.ok(new URL(u, manifestUrl).href.startsWith(`${publicUrl}/`), `manifest: ${u} resolves under /mediagate/`);
  }
  t.ok(requests.some((u) => u.startsWith(`${publicUrl}/api/`)), 'the API at /mediagate/api/');
  t.same(sockets, [`${publicUrl.replace('http', 'ws')}/api/ws`], 'the WebSocket at /mediagate/api/ws');

  // The cookie: HttpOnly, SameSite=Strict, scoped to /mediagate/.
  const cookies = await context.cookies();
  t.equal(cookies.length, 1);
  t.match(cookies[0], { name: 'mediagate', path: '/mediagate/', httpOnly: true, sameSite: 'Strict', secure: false });

  // Control: the page pauses the real MPD; mpc's changes come back live over the proxied WebSocket.
  await page.waitForFunction(() => document.querySelector('#playstate')?.textContent === 'Playing on mpd');
  await page.click('#toggle');
  await waitFor(() => mpcState(mpd) === 'paused', { timeoutMs: 5000, what: 'MPD paused by the page' });
  t.pass('pause in the page → MPD paused');
  mpd.mpc('-q', 'play');
  await page.waitForFunction(() => document.querySelector('#toggle').getAttribute('aria-label') === 'Pause', null, { timeout: 5000 });
  mpd.mpc('-q', 'next');
  await page.waitForFunction(() => document.querySelector('#title').textContent === 'SineB', null, { timeout: 5000 });
  t.pass('mpc play and next pushed to the page through nginx');

  // Denied: another application on the same host (/other/ on the same nginx) does not get the cookie.
  const other = await context.newPage();
  await other.goto(`${nginx.url}/other/`);
  t.equal((await other.textContent('body')).trim(), 'cookie=[]', 'the cookie is not sent outside /mediagate/');
  await other.close();
  // …nor does serve's own root when reached through the same origin: the cookie stays on its path.
  const atRoot = await page.evaluate(async () => (await fetch('/mediagate/api/auth/whoami', { headers: { 'x-mediagate-csrf': '1' } })).status);
  t.equal(atRoot, 200, 'allowed: the remote\'s own request under the path');

  // Denied: a foreign page (another origin on this machine) cannot drive it, although its requests carry the cookie (same site).
  const foreign = await startOtherOrigin(t, { '/': '<!doctype html><title>other</title>' });
  const evil = await context.newPage();
  await evil.goto(`${foreign}/`);
  const tries = await evil.evaluate(async (base) => {
    const out = {};
    const attempt = async (name, fn) => { try { out[name] = await fn(); } catch (e) { out[name] = `blocked: ${e.message}`; } };
    await attempt('pause with the CSRF header', async () => (await fetch(`${base}/api/player/pause`, { method: 'POST', credentials: 'include', headers: { 'x-mediagate-csrf': '1', 'content-type': 'application/json' }, body: '{}' })).status);
    await attempt('pause, no-cors', async () => (await fetch(`${base}/api/player/pause`, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{}' })).type);
    await attempt('read status', async () => (await fetch(`${base}/api/status`, { credentials: 'include' })).text());
    await attempt('websocket', () => new Promise((resolve) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/api/ws`, 'mediagate.v1');
      ws.onopen = () => { ws.close(); resolve('opened'); };
      ws.onerror = () => resolve('refused');
    }));
    return out;
  }, publicUrl);
  t.match(tries['pause with the CSRF header'], /^blocked/, 'the preflight for the CSRF header is refused');
  t.equal(tries['read status'].startsWith('blocked'), true, 'a cross-origin read is blocked');
  t.equal(tries.websocket, 'refused', 'a WebSocket from the foreign page is refused (its Origin)');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(mpcState(mpd), 'playing', 'MPD still playing: nothing the foreign page sent paused it');
  const denied = await auditEvents(env, ['--outcome', 'denied']);
  t.ok(denied.some((e) => e.action === 'auth.csrf' || e.action === 'cors.denied'), 'the refusals are audited');
  await evil.close();

  // Sign out: the cookie is cleared on its own path.
  await page.click('#signout');
  await page.waitForFunction(async () => !document.querySelector('#signed-out').hidden, null, { timeout: 5000 }).catch(() => {});
  await waitFor(async () => (await context.cookies()).length === 0, { timeoutMs: 5000, what: 'the cookie cleared' });
  t.pass('sign out clears the cookie at /mediagate/');

  await settled();
  t.same(problems.filter((p) => p.startsWith('contract:')), [], 'every answer the page received is described by the OpenAPI document');
  t.same(problems.filter((p) => !/status of 40[13]/.test(p)), [], 'no console error, page error or CSP violation');
  t.ok(srv.pid && nginx.pid);
});

t.test('artwork links carry the sub-path and load through nginx', async (t) => {
  if (!needChromium(t)) return;
  const bus = await startSessionBus(t);
  const png = writePng(join(tempDir(t), 'cover.png'));
  await startArtPlayer(t, bus, { artUrl: pathToFileURL(png).href });
  const { env, srv, publicUrl } = await behindNginx(t, { DBUS_SESSION_BUS_ADDRESS: bus.address });
  const reader = await cliToken(env, 'reader', 'read');
  const status = await waitFor(async () => {
    const r = await api(srv, 'GET', '/api/status', { token: reader.token });
    return r.json?.artwork ? r.json : null;
  }, { timeoutMs: 10000, what: 'a status with artwork' });
  t.match(status.artwork, /^\/mediagate\/api\/artwork\?player=artplayer&/, 'the artwork URL starts with the sub-path');
  const img = await request(`${new URL(publicUrl).origin}${status.artwork}`);
  t.equal(img.statusCode, 200, 'and loads through nginx');
  t.equal(img.headers['content-type'], 'image/png');
  await img.body.arrayBuffer();

  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'phone', '--scope', 'read', '--json'], { env })).stdout);
  const browser = await launchBrowser(t);
  const { page, problems, settled } = await phonePage(browser, { base: publicUrl });
  await page.goto(inv.link);
  await page.waitForSelector('#pair:not([hidden])');
  await page.click('#submit');
  await pairedAt(page, publicUrl);
  await page.waitForFunction(() => document.querySelector('#art').getAttribute('src').startsWith('/mediagate/api/artwork?'));
  await page.waitForFunction(() => document.querySelector('#art').complete && document.querySelector('#art').naturalWidth === 1);
  t.pass('the page shows the cover from /mediagate/api/artwork');
  const art = await page.evaluate(() => navigator.mediaSession.metadata?.artwork?.[0]?.src);
  t.match(art, `${publicUrl}/api/artwork?`, 'Media Session artwork under the sub-path');
  await settled();
  t.same(problems.filter((p) => !/status of 401/.test(p)), []);
});

t.test('serve answers at its public sub-path too (a proxy that passes the path on)', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0, 'server.publicUrl': 'https://media.example.org/mediagate' });
  const srv = await startServe(t, env);
  const admin = await cliToken(env, 'owner', 'admin');
  const base = `${srv.url}/mediagate`;
  t.equal((await api(base, 'GET', '/api/health')).status, 200, 'GET /mediagate/api/health');
  t.equal((await api(base, 'GET', '/api/auth/whoami', { token: admin.token })).status, 200, 'an authenticated route');
  t.equal((await api(srv, 'GET', '/api/health')).status, 200, 'and at the root (a proxy that strips the path)');
  const page = await request(`${base}/`);
  t.equal(page.statusCode, 200, 'the remote at /mediagate/');
  t.match(await page.body.text(), /src="assets\/remote\.[0-9a-f]{12}\.js"/);
  const bare = await request(`${base}?x=1`);
  await bare.body.text();
  t.equal(bare.statusCode, 308, '/mediagate alone redirects…');
  t.equal(bare.headers.location, '/mediagate/?x=1', '…to /mediagate/, where the relative links resolve');
  t.equal((await api(srv, 'GET', '/mediagatex/api/health')).status, 404, 'a path that only starts alike is not the sub-path');
  const ws = await connect(`${base.replace('http', 'ws')}/api/ws`, { token: admin.token, protocols: ['mediagate.v1'] });
  t.equal(ws.protocol, 'mediagate.v1', 'the WebSocket at /mediagate/api/ws');
  ws.send({ type: 'subscribe', id: 1 });
  t.match(await ws.next((m) => m.type === 'result'), { id: 1, ok: true });
  ws.close();
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'p', '--scope', 'read', '--json'], { env })).stdout);
  t.match(inv.link, 'https://media.example.org/mediagate/connect#code=', 'invite link under the sub-path');

  // Under TLS on a sub-path the cookie is __Secure-mediagate with Path=/mediagate/ (__Host- needs Path=/).
  const r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code } });
  const ex = await api(srv, 'POST', '/api/auth/exchange', {
    json: { pairingToken: r.json.pairingToken, device: 'tls phone', cookie: true },
    headers: { origin: 'https://media.example.org', 'x-mediagate-csrf': '1' },
  });
  t.equal(ex.status, 200);
  t.match(ex.headers['set-cookie'], /^__Secure-mediagate=mg_[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/mediagate\/; HttpOnly; SameSite=Strict; Secure$/, 'an https public URL on a sub-path: __Secure-, the path, Secure');
  const cookie = ex.headers['set-cookie'].split(';')[0];
  t.equal((await api(srv, 'GET', '/api/auth/whoami', { headers: { cookie, 'x-mediagate-csrf': '1' } })).status, 200, 'allowed: that cookie, from the page');
  t.equal((await api(srv, 'GET', '/api/auth/whoami', { headers: { cookie: cookie.replace('__Secure-', '__Host-'), 'x-mediagate-csrf': '1' } })).status, 401, 'denied: another prefix is another cookie');
  t.equal((await api(srv, 'GET', '/api/auth/whoami', { headers: { cookie, 'x-mediagate-csrf': '1', origin: 'https://evil.example' } })).status, 403, 'denied: a foreign Origin');
});
