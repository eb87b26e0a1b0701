// The web remote in headless Chromium: artwork through the signed URL and
// the Media Session (MPRIS player on a private bus), and the connection
// state — the page says it is disconnected, and reconnects by itself when
// the server is back.
import t from 'tap';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startSessionBus } from './helpers/dbus.js';
import { tempDir, waitFor } from './helpers/proc.js';
import { runCli } from './helpers/cli.js';
import { serveEnv, startArtPlayer, startServe, writePng } from './helpers/serve.js';
import { launchBrowser, needChromium, phonePage } from './helpers/browser.js';

async function pair(page, env, srv, scope = 'control') {
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'phone', '--scope', scope, '--json'], { env })).stdout);
  await page.goto(inv.link);
  await page.waitForSelector('#pair:not([hidden])');
  await page.click('#submit');
  await page.waitForURL(`${srv.url}/`);
  await page.waitForSelector('#conn[data-state="open"]');
}

t.test('artwork by signed URL under the page CSP, and the Media Session', async (t) => {
  if (!needChromium(t)) return;
  const bus = await startSessionBus(t);
  const png = writePng(join(tempDir(t), 'cover.png'));
  await startArtPlayer(t, bus, { artUrl: pathToFileURL(png).href });
  const { env } = await serveEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address }, { 'server.rateLimit.rps': 0 });
  const srv = await startServe(t, env);
  const browser = await launchBrowser(t);
  const { page, problems } = await phonePage(browser);
  await pair(page, env, srv);
  problems.length = 0;
  await page.waitForFunction(() => document.querySelector('#title').textContent === 'Art Track');
  await page.waitForFunction(() => document.querySelector('#art').getAttribute('src').startsWith('/api/artwork?'));
  await page.waitForFunction(() => document.querySelector('#art').complete && document.querySelector('#art').naturalWidth === 1);
  t.pass('the cover is loaded from the signed /api/artwork URL');
  t.match(await page.getAttribute('#art', 'alt'), /^Cover of /);
  const ms = await page.evaluate(() => ({
    state: navigator.mediaSession.playbackState,
    title: navigator.mediaSession.metadata?.title,
    art: navigator.mediaSession.metadata?.artwork?.[0]?.src,
  }));
  t.equal(ms.state, 'playing', 'Media Session: playback state');
  t.equal(ms.title, 'Art Track', 'Media Session: metadata');
  t.match(ms.art, `${srv.url}/api/artwork?`, 'Media Session: artwork');
  t.same(problems, [], 'no CSP violation or error');
});

t.test('a read-scope device watches but cannot control', async (t) => {
  if (!needChromium(t)) return;
  const bus = await startSessionBus(t);
  await startArtPlayer(t, bus, {});
  const { env } = await serveEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address }, { 'server.rateLimit.rps': 0 });
  const srv = await startServe(t, env);
  const browser = await launchBrowser(t);
  const { page } = await phonePage(browser);
  await pair(page, env, srv, 'read');
  await page.waitForFunction(() => document.querySelector('#title').textContent === 'Art Track');
  t.ok(await page.isVisible('#readonly'), 'it says so');
  for (const id of ['toggle', 'prev', 'next', 'seek']) t.ok(await page.isDisabled(`#${id}`), `#${id} disabled`);
  const allowed = await page.evaluate(async () => (await fetch('/api/player/pause', { method: 'POST', headers: { 'x-mediagate-csrf': '1', 'content-type': 'application/json' }, body: '{}' })).status);
  t.equal(allowed, 403, 'and the server refuses control from it anyway (scope)');
});

t.test('disconnected, then back: the page says so and reconnects by itself', async (t) => {
  if (!needChromium(t)) return;
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  let srv = await startServe(t, env);
  const browser = await launchBrowser(t);
  const { page } = await phonePage(browser);
  await pair(page, env, srv);
  const port = srv.port;
  await srv.stop();
  await page.waitForSelector('#conn[data-state="waiting"]', { timeout: 10000 });
  t.match(await page.textContent('#conn'), /^(Disconnected: reconnecting in \d+ s…|Reconnecting…)$/, 'the page says it is disconnected and will retry');
  t.ok(await page.evaluate(() => document.body.classList.contains('stale')), 'what it shows is marked stale');
  t.equal(await page.getAttribute('#conn', 'role'), 'status', 'announced to screen readers (role=status)');
  let back;
  await waitFor(async () => {
    try { back = await startServe(t, env, { port }); return true; } catch { return false; }
  }, { timeoutMs: 20000, what: 'serve back on the same port' });
  srv = back;
  await page.waitForSelector('#conn[data-state="open"]', { timeout: 30000 });
  t.equal(await page.textContent('#conn'), 'Live', 'reconnected by itself');
  t.notOk(await page.evaluate(() => document.body.classList.contains('stale')));
  t.ok(await page.isVisible('#remote'), 'still paired: same token, new server process');
});
