// Denied, in real headless Chromium: a page on another origin of the same
// machine (127.0.0.1, another port — the same *site*, so the SameSite=Strict
// cookie IS sent with its requests) can neither read nor drive the API with
// the paired browser's cookie: not by fetch (CORS or no-cors), not with the
// custom header (preflight refused), not by a form POST, not by WebSocket.
// The audit log proves the cookie arrived and was refused by the CSRF check.
// Allowed: the remote's own page, in the same browser, still works.
import t from 'tap';
import { startMpd } from './helpers/mpd.js';
import { waitFor } from './helpers/proc.js';
import { runCli } from './helpers/cli.js';
import { auditEvents, serveEnv, startServe } from './helpers/serve.js';
import { launchBrowser, needChromium, phonePage, startOtherOrigin } from './helpers/browser.js';

const mpcState = (mpd) => {
  const m = /^\[(playing|paused)\]/m.exec(mpd.mpc('status'));
  return m ? m[1] : 'stopped';
};

const attackPage = (api) => `<!doctype html><html><body><p>another site</p><script>
const API = ${JSON.stringify(api)};
const out = {};
async function attempt(name, fn) {
  try { out[name] = await fn(); } catch (e) { out[name] = 'blocked: ' + e.name; }
}
(async () => {
  await attempt('read status (cors)', async () => (await fetch(API + '/api/status', { credentials: 'include' })).text());
  await attempt('read whoami (cors)', async () => (await fetch(API + '/api/auth/whoami', { credentials: 'include' })).text());
  await attempt('pause (no-cors)', async () => (await fetch(API + '/api/player/pause', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{}' })).type);
  await attempt('pause with the CSRF header', async () => (await fetch(API + '/api/player/pause', { method: 'POST', credentials: 'include', headers: { 'x-mediagate-csrf': '1', 'content-type': 'application/json' }, body: '{}' })).status);
  await attempt('logout (no-cors)', async () => (await fetch(API + '/api/auth/logout', { method: 'POST', mode: 'no-cors', credentials: 'include' })).type);
  await attempt('websocket', () => new Promise((resolve) => {
    const ws = new WebSocket(API.replace('http', 'ws') + '/api/ws', 'mediagate.v1');
    const got = [];
    ws.onmessage = (m) => got.push(String(m.data).slice(0, 40));
    ws.onopen = () => { ws.send(JSON.stringify({ type: 'subscribe' })); ws.send(JSON.stringify({ type: 'command', action: 'pause' })); setTimeout(() => resolve('open, got ' + got.length), 500); };
    ws.onclose = (e) => resolve('closed ' + e.code + (got.length ? ' after ' + got.length + ' messages' : ''));
  }));
  out.cookie = document.cookie;
  window.done = out;
})();
</script></body></html>`;

const formPage = (api, path) => `<!doctype html><html><body>
<form method="post" action="${api}${path}" enctype="text/plain"><input name='{"x":"' value='"}'></form>
<script>document.forms[0].submit();</script></body></html>`;

t.test('another origin cannot read or drive the API with the cookie; the own page can', async (t) => {
  if (!needChromium(t)) return;
  const mpd = await startMpd(t);
  mpd.mpc('-q', 'play');
  const { env } = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) }, { 'server.rateLimit.rps': 0 });
  const srv = await startServe(t, env);
  const other = await startOtherOrigin(t, { '/': attackPage(srv.url), '/form-pause': formPage(srv.url, '/api/player/pause'), '/form-logout': formPage(srv.url, '/api/auth/logout') });
  t.not(new URL(other).port, new URL(srv.url).port, 'another origin, the same site (127.0.0.1)');

  const browser = await launchBrowser(t);
  const { context, page } = await phonePage(browser);
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'phone', '--scope', 'control', '--json'], { env })).stdout);
  await page.goto(inv.link);
  await page.waitForSelector('#pair:not([hidden])');
  await page.click('#submit');
  await page.waitForSelector('#conn[data-state="open"]');
  const [cookie] = await context.cookies();
  t.ok(cookie?.httpOnly, 'paired: the browser holds the cookie');

  // --- fetch and WebSocket from the other origin, in the same browser
  const evil = await context.newPage();
  await evil.goto(`${other}/`);
  const out = await evil.waitForFunction(() => window.done, null, { timeout: 15000 }).then((h) => h.jsonValue());
  t.comment(JSON.stringify(out));
  t.equal(out['read status (cors)'], 'blocked: TypeError', 'cannot read /api/status (no CORS grant)');
  t.equal(out['read whoami (cors)'], 'blocked: TypeError', 'cannot read who the device is');
  // A no-cors POST is sent blind (its answer is opaque, or dropped by Chrome's opaque-response blocking).
  t.match(out['pause (no-cors)'], /^(opaque|blocked: TypeError)$/, 'a no-cors POST gets nothing back…');
  t.equal(out['pause with the CSRF header'], 'blocked: TypeError', 'the custom header needs a preflight, which is refused');
  t.match(out['logout (no-cors)'], /^(opaque|blocked: TypeError)$/);
  t.match(out.websocket, /^closed 1006$/, 'the WebSocket upgrade is refused (Origin)');
  t.equal(out.cookie, '', 'and the cookie is invisible to it');

  // --- form POSTs (top-level navigations that carry the cookie)
  for (const path of ['/form-pause', '/form-logout']) {
    await evil.goto(`${other}${path}`);
    await evil.waitForURL((u) => u.origin === srv.url);
    const body = JSON.parse(await evil.textContent('body'));
    t.equal(body.error.code, 'auth.csrf', `${path}: refused by the CSRF check`);
  }

  // Nothing happened: MPD still plays, the device token is still active…
  t.equal(mpcState(mpd), 'playing', 'MPD was not paused');
  const dev = JSON.parse((await runCli(['token', 'list', '--json'], { env })).stdout).find((d) => d.label.startsWith('Chrome on'));
  t.equal(dev?.status, 'active', 'the device was not signed out');
  // …and the cookie did reach the server (same site), where the CSRF check refused it.
  const denied = (await auditEvents(env, ['--outcome', 'denied'])).filter((e) => e.action === 'auth.csrf');
  t.ok(denied.some((e) => /cookie refused: the x-mediagate-csrf header is missing/.test(e.detail ?? '')), 'audit: cookie requests refused for want of the header');

  // --- allowed: the own page, same browser, same cookie
  await page.click('#toggle');
  await waitFor(() => mpcState(mpd) === 'paused', { timeoutMs: 5000, what: 'MPD paused by the remote page' });
  t.pass('the remote page itself still drives MPD');
});
