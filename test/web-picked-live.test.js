// The web remote, with a player picked that is not the active one, shows
// that player's own changes live: the page follows it over the WebSocket
// (a per-player subscription), it does not wait for the active player to
// change. Real MPD (paused: not the active player) next to an MPRIS player
// that plays, on a private bus; headless Chromium.
import t from 'tap';
import { startSessionBus } from './helpers/dbus.js';
import { startMpd } from './helpers/mpd.js';
import { runCli } from './helpers/cli.js';
import { serveEnv, startArtPlayer, startServe } from './helpers/serve.js';
import { launchBrowser, needChromium, phonePage } from './helpers/browser.js';

t.test('a picked, non-active player: its own changes are live on the page', async (t) => {
  if (!needChromium(t)) return;
  const bus = await startSessionBus(t);
  await startArtPlayer(t, bus, {});
  const mpd = await startMpd(t);
  mpd.mpc('-q', 'play');
  mpd.mpc('-q', 'pause');
  const { env } = await serveEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) }, { 'server.rateLimit.rps': 0 });
  const srv = await startServe(t, env);
  const browser = await launchBrowser(t);
  const { page, problems } = await phonePage(browser);
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'phone', '--scope', 'control', '--json'], { env })).stdout);
  await page.goto(inv.link);
  await page.waitForSelector('#pair:not([hidden])');
  await page.click('#submit');
  await page.waitForURL(`${srv.url}/`);
  await page.waitForSelector('#conn[data-state="open"]');
  problems.length = 0; // the connect page asks whoami before pairing (401)
  await page.waitForFunction(() => document.querySelector('#title').textContent === 'Art Track');
  t.pass('automatic: the playing MPRIS player is shown');

  await page.focus('#player');
  await page.waitForSelector('#player option[value="mpd"]', { state: 'attached' });
  await page.selectOption('#player', 'mpd');
  await page.waitForFunction(() => document.querySelector('#title').textContent === 'SineA' && /^Paused on mpd/.test(document.querySelector('#playstate').textContent));
  t.pass('picked mpd: SineA, paused');

  // A change on mpd alone (still paused, still not the active player): a seek.
  t.equal(await page.textContent('#elapsed'), '0:00');
  mpd.mpc('-q', 'seek', '0:03');
  t.match(mpd.mpc('status'), /\[paused\]/, 'mpd stays paused');
  await page.waitForFunction(() => document.querySelector('#elapsed').textContent === '0:03', null, { timeout: 10000 });
  t.pass('the page shows mpd\'s new position without a reload');

  // Back to automatic: the active player again, and its changes still arrive.
  await page.selectOption('#player', '');
  await page.waitForFunction(() => document.querySelector('#title').textContent === 'Art Track');
  t.pass('automatic again: the active player');
  t.same(problems, [], 'no CSP violation or error');
});
