// The web remote end to end in real headless Chromium against a real
// `mediagate serve` and a real MPD: open the invite link as a phone would
// after scanning the QR code, pair, then drive MPD from the page (checked with
// mpc) and see mpc's changes in the page within 1 s; seek, volume, player
// picker, media folders; screenshots light and dark (test/artifacts/); the
// first load's transfer size; sign-out revokes the device token.
import t from 'tap';
import { join } from 'node:path';
import { startMpd } from './helpers/mpd.js';
import { makeMusic, tempDir, waitFor } from './helpers/proc.js';
import { runCli } from './helpers/cli.js';
import { api, serveEnv, startServe } from './helpers/serve.js';
import { artifact, launchBrowser, needChromium, phonePage } from './helpers/browser.js';

const mpcState = (mpd) => {
  const m = /^\[(playing|paused)\]/m.exec(mpd.mpc('status'));
  return m ? m[1] : 'stopped';
};
const mpcVolume = (mpd) => Number(/volume:\s*(\d+)%/.exec(mpd.mpc('status'))?.[1]);
const mpcElapsed = (mpd) => {
  const m = /\s(\d+):(\d+)\/\d+:\d+/.exec(mpd.mpc('status'));
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
};
const KB = 1024;

/** Bytes received for every request of `page` (CDP Network.loadingFinished: headers + body as sent). */
async function transferMeter(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map();
  const bytes = new Map();
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.loadingFinished', (e) => bytes.set(e.requestId, e.encodedDataLength));
  return {
    total: () => [...bytes.values()].reduce((a, b) => a + b, 0),
    list: () => [...bytes].map(([id, n]) => `${new URL(urls.get(id)).pathname} ${n}`),
  };
}

const text = (page, sel) => page.textContent(sel).then((s) => s.trim());

t.test('pair by the invite link, control MPD, follow mpc, sign out', async (t) => {
  if (!needChromium(t)) return;
  const music = makeMusic(join(tempDir(t), 'music'));
  const mpd = await startMpd(t, { musicDir: music });
  mpd.mpc('-q', 'volume', '50');
  mpd.mpc('-q', 'play', '1');
  const { env } = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) }, {
    'server.rateLimit.rps': 0, 'volume.backend': 'player', 'media.folders.music': music, 'mpd.musicDirectory': music,
  });
  const srv = await startServe(t, env);
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'phone', '--scope', 'control', '--json'], { env })).stdout);
  t.match(inv.link, `${srv.url}/connect#code=`, 'the invite link leads to this serve');

  const browser = await launchBrowser(t);
  const { context, page, problems } = await phonePage(browser);

  // --- pairing: the "scan" is opening the link
  const meter = await transferMeter(page);
  await page.goto(inv.link);
  await page.waitForSelector('#pair:not([hidden])');
  t.equal(new URL(page.url()).hash, '', 'the code is removed from the address bar at once');
  t.ok(await page.isHidden('#code-row'), 'the code came from the link: not asked for');
  t.match(await page.inputValue('#device'), /^Chrome on /, 'a device name is prefilled');
  await page.screenshot({ path: artifact('connect-phone-light.png') });
  const connectBytes = meter.total();
  await page.fill('#device', 'Kitchen phone');
  await page.click('#submit');
  await page.waitForURL(`${srv.url}/`);
  await page.waitForSelector('#conn[data-state="open"]');
  // The pairing page asks whoami first; its 401 ("not paired yet") is the one error Chrome logs there.
  t.same(problems.splice(0).filter((p) => !/status of 401/.test(p)), [], 'pairing page: no console error, page error or CSP violation');
  t.comment(`pairing page first load: ${(connectBytes / KB).toFixed(1)} KiB transferred`);

  const devices = JSON.parse((await runCli(['token', 'list', '--json'], { env })).stdout);
  const device = devices.find((d) => d.label === 'Kitchen phone');
  t.ok(device, 'token list shows the browser by the name given');
  t.equal(device?.scope, 'control', 'with the invite\'s scope');
  const cookies = await context.cookies();
  t.equal(cookies.length, 1, 'one cookie');
  t.match(cookies[0], { name: 'mediagate', httpOnly: true, sameSite: 'Strict', path: '/', secure: false });
  t.match(cookies[0].value, /^mg_/);
  t.equal(await page.evaluate(() => document.cookie), '', 'page script cannot read the cookie');
  t.same(await page.evaluate(() => Object.keys(localStorage).concat(Object.keys(sessionStorage))), [], 'nothing in web storage');

  // --- now playing
  await page.waitForFunction(() => document.querySelector('#playstate')?.textContent === 'Playing on mpd');
  t.equal(await text(page, '#title'), 'SineA');
  t.equal(await text(page, '#artist'), 'Probe');
  t.equal(await page.getAttribute('#toggle', 'aria-label'), 'Pause');
  // MPD's song has no cover: the server gives no artwork link for it (it asked MPD first), so the page shows the placeholder — no broken image, no 404 in the console.
  await page.waitForFunction(() => { const a = document.querySelector('#art'); return a.getAttribute('src') === a.dataset.placeholder && a.complete && a.naturalWidth > 0; }, null, { timeout: 5000 });
  t.pass('no cover: the placeholder is shown');

  // --- pressing pause pauses the real MPD
  await page.click('#toggle');
  await waitFor(() => mpcState(mpd) === 'paused', { timeoutMs: 5000, what: 'MPD paused by the page' });
  t.pass('pause in the page → MPD paused (mpc)');
  await page.waitForFunction(() => document.querySelector('#toggle').getAttribute('aria-label') === 'Play');

  // --- mpc changes show in the page within 1 s (pushed over the WebSocket)
  let t0 = Date.now();
  mpd.mpc('-q', 'play');
  await page.waitForFunction(() => document.querySelector('#toggle').getAttribute('aria-label') === 'Pause', null, { timeout: 1000 });
  t.comment(`mpc play → page shows playing after ${Date.now() - t0} ms`);
  t0 = Date.now();
  mpd.mpc('-q', 'next');
  await page.waitForFunction(() => document.querySelector('#title').textContent === 'SineB', null, { timeout: 1000 });
  t.comment(`mpc next → page shows the new title after ${Date.now() - t0} ms`);
  t0 = Date.now();
  mpd.mpc('-q', 'volume', '70');
  await page.waitForFunction(() => document.querySelector('#volume').value === '70', null, { timeout: 1000 });
  t.comment(`mpc volume 70 → slider at 70 after ${Date.now() - t0} ms`);

  // --- the seek bar moves by itself between pushes (extrapolation, no polling)
  const before = Number(await page.inputValue('#seek'));
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.waitForFunction((b) => Number(document.querySelector('#seek').value) >= b + 2, before, { timeout: 5000 });
  t.pass('the seek bar advanced while playing');
  t.same(requests, [], 'without a single request');

  // --- seek, next/previous, volume and mute from the page
  await page.$eval('#seek', (el) => { el.value = '20'; el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); });
  await waitFor(() => mpcElapsed(mpd) >= 20, { timeoutMs: 5000, what: 'MPD at 0:20' });
  t.pass('seek in the page → MPD position (mpc)');
  await page.click('#prev');
  await waitFor(() => /SineA|a\.ogg/.test(mpd.mpc('current')), { timeoutMs: 5000, what: 'previous track' });
  await page.click('#next');
  await waitFor(() => /SineB|b\.flac/.test(mpd.mpc('current')), { timeoutMs: 5000, what: 'next track' });
  t.pass('previous and next');
  await page.$eval('#volume', (el) => { el.value = '35'; el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); });
  await waitFor(() => mpcVolume(mpd) === 35, { timeoutMs: 5000, what: 'MPD volume 35' });
  t.pass('volume slider → MPD volume (mpc)');
  await page.click('#mute');
  await page.waitForFunction(() => document.querySelector('#mute').getAttribute('aria-pressed') === 'true');
  t.equal(await page.getAttribute('#mute', 'aria-label'), 'Unmute');
  await page.click('#mute');
  await page.waitForFunction(() => document.querySelector('#mute').getAttribute('aria-pressed') === 'false');
  await waitFor(() => mpcVolume(mpd) === 35, { timeoutMs: 5000, what: 'volume back after unmute' });
  t.pass('mute and unmute');

  // --- player picker and media folders
  await page.waitForSelector('#player option[value="mpd"]', { state: 'attached' });
  await page.selectOption('#player', 'mpd');
  await page.waitForFunction(() => document.querySelector('#playstate').textContent.endsWith('on mpd'));
  await page.waitForSelector('#browse:not([hidden])');
  await page.click('#entries button:has-text("music")');
  await page.waitForSelector('#entries button:has-text("c.mp3")');
  await page.click('#entries button:has-text("c.mp3")');
  await waitFor(() => /c\.mp3/.test(mpd.mpc('current')), { timeoutMs: 5000, what: 'c.mp3 playing' });
  t.pass('media folder browser: open a folder, play a file');
  await page.selectOption('#player', '');

  // --- keyboard and screen reader: every button is labelled
  const unlabeled = await page.$$eval('button:not([hidden])', (bs) => bs.filter((b) => b.offsetParent !== null && !(b.getAttribute('aria-label') || b.textContent.trim())).length);
  t.equal(unlabeled, 0, 'every visible button has a name');
  t.ok(await page.$eval('#seek', (el) => el.getAttribute('aria-valuetext')?.includes('of')), 'the seek bar speaks the time');
  await page.focus('#prev');
  await page.keyboard.press('Tab');
  t.equal(await page.evaluate(() => document.activeElement.id), 'toggle', 'focus order: previous → play/pause');

  // --- screenshots, light and dark
  mpd.mpc('-q', 'play', '1');
  await page.waitForFunction(() => document.querySelector('#title').textContent === 'SineA');
  await page.screenshot({ path: artifact('remote-phone-light.png'), fullPage: true });
  const dark = await phonePage(browser, { colorScheme: 'dark' });
  await dark.context.addCookies(cookies);
  await dark.page.goto(`${srv.url}/`);
  await dark.page.waitForSelector('#conn[data-state="open"]');
  await dark.page.waitForFunction(() => document.querySelector('#title').textContent === 'SineA');
  const bg = await dark.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  t.equal(bg, 'rgb(22, 23, 27)', 'dark colours by prefers-color-scheme');
  t.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(245, 245, 247)', 'light colours');
  await dark.page.screenshot({ path: artifact('remote-phone-dark.png'), fullPage: true });
  t.same(dark.problems, [], 'dark page: no console error, page error or CSP violation');

  // --- first load of the remote, cache empty: under 100 KB
  const fresh = await phonePage(browser);
  await fresh.context.addCookies(cookies);
  const m2 = await transferMeter(fresh.page);
  await fresh.page.goto(`${srv.url}/`);
  await fresh.page.waitForSelector('#conn[data-state="open"]');
  await fresh.page.waitForLoadState('networkidle');
  const remoteBytes = m2.total();
  t.comment(`remote first load: ${(remoteBytes / KB).toFixed(1)} KiB transferred (${m2.list().join(', ')})`);
  t.ok(remoteBytes < 100 * KB, `first load ${remoteBytes} bytes < 100 KB`);
  t.ok(connectBytes < 100 * KB, `pairing page ${connectBytes} bytes < 100 KB`);

  // --- sign out: the token is revoked, the cookie gone, the page says so
  await page.click('#signout');
  await page.waitForSelector('#signed-out:not([hidden])');
  t.match(await text(page, '#signed-out-why'), /Signed out/);
  const after = JSON.parse((await runCli(['token', 'list', '--json', '--all'], { env })).stdout).find((d) => d.id === device.id);
  t.equal(after.status, 'revoked', 'token list: revoked');
  t.same(await context.cookies(), [], 'the cookie is cleared');
  const old = await api(srv, 'GET', '/api/status', { token: cookies[0].value });
  t.equal(old.status, 401, 'the old token is dead');
  // The other pages of the same browser learn it over their WebSocket (closed with 4401).
  await dark.page.waitForSelector('#signed-out:not([hidden])', { timeout: 5000 });
  t.pass('another open page of the device drops to "signed out" by itself');
  t.same(problems, [], 'no console error, page error or CSP violation');
});
