// The pairing page (/connect) in real headless Chromium against a real
// `mediagate serve`: codes that do not work get a plain explanation (expired,
// used up, unknown), a code can be typed when the link had none, pairing again
// signs out the old pairing, and the failure lockout reaches the page.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { api, serveEnv, startServe } from './helpers/serve.js';
import { launchBrowser, needChromium, phonePage } from './helpers/browser.js';

async function invite(env, label, extra = []) {
  const r = await runCli(['invite', 'create', '--label', label, '--scope', 'control', '--json', ...extra], { env });
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

/** Open `url`, press Pair, and return the explanation shown. */
async function tryPair(page, url) {
  await page.goto(url);
  await page.waitForSelector('#pair:not([hidden])');
  await page.waitForSelector('#problem', { state: 'hidden' });
  await page.click('#submit');
  await page.waitForSelector('#problem:not([hidden])');
  return (await page.textContent('#problem')).trim();
}

t.test('codes that do not work are explained; a typed code works; re-pairing signs the old one out', async (t) => {
  if (!needChromium(t)) return;
  const { env, stateDir } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const srv = await startServe(t, env);
  const browser = await launchBrowser(t);
  const { page } = await phonePage(browser);

  // Expired: the invite's expiry moved into the past (as if a day had gone by).
  const expired = await invite(env, 'old-phone');
  const file = join(stateDir, 'invites.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  doc.invites.find((i) => i.id === expired.id).expiresAt = new Date(Date.now() - 60_000).toISOString();
  writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
  let why = await tryPair(page, expired.link);
  t.match(why, /This invite has expired\. Ask the owner of the server for a new one/, 'expired: explained');
  t.ok(await page.isVisible('#code'), 'and a field to type another code appears');

  // Used up: a one-use invite already redeemed.
  const once = await invite(env, 'once', ['--uses', '1']);
  t.equal((await api(srv, 'POST', '/api/auth/redeem', { json: { code: once.code } })).status, 200);
  why = await tryPair(page, once.link);
  t.match(why, /already been used as many times as it allows/, 'used up: explained');

  // Unknown and malformed codes.
  why = await tryPair(page, `${srv.url}/connect#code=ABCD-EFGH-JKMN-PQRS`);
  t.match(why, /not known to the server/, 'unknown: explained');
  why = await tryPair(page, `${srv.url}/connect#code=nonsense`);
  t.match(why, /not an invite code/i, 'malformed: explained');

  // No code in the link: the page asks for it; case, dashes and look-alikes do not matter.
  const typed = await invite(env, 'typed');
  await page.goto(`${srv.url}/connect`);
  await page.waitForSelector('#code-row:not([hidden])');
  await page.fill('#code', typed.code.replace(/-/g, '').toLowerCase());
  await page.fill('#device', 'Typed phone');
  await page.click('#submit');
  await page.waitForURL(`${srv.url}/`);
  await page.waitForSelector('#conn[data-state="open"]');
  t.pass('pairs with a typed code');
  const first = JSON.parse((await runCli(['token', 'list', '--json'], { env })).stdout).find((d) => d.label === 'Typed phone');
  t.ok(first);

  // Pairing again from the same browser: the page says so, and the old token is signed out.
  const second = await invite(env, 'second');
  await page.goto(second.link);
  await page.waitForSelector('#already:not([hidden])');
  t.equal((await page.textContent('#already-name')).trim(), 'Typed phone', 'the page says it is already paired, and as whom');
  await page.fill('#device', 'Renamed phone');
  await page.click('#submit');
  await page.waitForURL(`${srv.url}/`);
  await page.waitForSelector('#conn[data-state="open"]');
  const all = JSON.parse((await runCli(['token', 'list', '--json', '--all'], { env })).stdout);
  t.equal(all.find((d) => d.id === first.id)?.status, 'revoked', 'the old pairing is revoked');
  t.equal(all.find((d) => d.label === 'Renamed phone')?.status, 'active', 'the new one is active');

  // The remote without a pairing: it says how to pair.
  const other = await phonePage(browser);
  await other.page.goto(`${srv.url}/`);
  await other.page.waitForSelector('#signed-out:not([hidden])');
  t.match(await other.page.textContent('#signed-out-why'), /open an invite link on this device/);
  t.ok(await other.page.isHidden('#remote'), 'no remote controls without a pairing');
});

t.test('the failure lockout reaches the page', async (t) => {
  if (!needChromium(t)) return;
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const srv = await startServe(t, env);
  const good = await invite(env, 'good');
  for (let i = 0; i < 10; i++) await api(srv, 'POST', '/api/auth/redeem', { json: { code: 'ZZZZ-ZZZZ-ZZZZ-ZZZZ' } });
  const browser = await launchBrowser(t);
  const { page } = await phonePage(browser);
  const why = await tryPair(page, good.link);
  t.match(why, /Too many attempts from this network\. Try again in \d+ minutes\./, 'locked out: explained, with the wait');
  const list = JSON.parse((await runCli(['invite', 'list', '--json'], { env })).stdout);
  t.equal(list.find((i) => i.id === good.id)?.uses, 0, 'even the right code is refused while locked, and not spent');
});
