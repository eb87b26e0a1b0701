// Real headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core, which downloads no browser. Without chromium the web
// tests skip — except under CI=true, where they fail: CI installs it (see the
// README's install line), so a missing browser there is a broken setup.
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test', 'artifacts');
export const PHONE = { width: 390, height: 844 };

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** true when Chromium is there; otherwise skips `t` (fails it under CI=true). */
export function needChromium(t) {
  if (existsSync(CHROMIUM)) return true;
  const ci = /^(1|true)$/i.test(process.env.CI ?? '');
  if (ci) t.fail(`${CHROMIUM} is missing: CI must install chromium (README install line)`);
  else t.skip(`${CHROMIUM} is missing: apt-get install chromium to run the web remote tests`);
  return false;
}

/** Launch Chromium (a fresh temporary profile); closed when `t` ends. */
export async function launchBrowser(t) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60000 });
  t.teardown(() => browser.close().catch(() => {}));
  return browser;
}

/**
 * A phone-sized page in a fresh context. Console errors, page errors and
 * CSP violations are collected in `problems` (a test asserts it stays empty).
 */
export async function phonePage(browser, { colorScheme = 'light', ...opts } = {}) {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme, ...opts });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { context, page, problems };
}

/** Where screenshots go (test/artifacts/, not committed). */
export function artifact(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/**
 * Another origin on this machine (127.0.0.1, another port: the same *site*
 * as the server, so SameSite alone would not stop its requests): a node:http
 * server answering `pages[path]` as HTML. Closed when `t` ends.
 */
export async function startOtherOrigin(t, pages) {
  const server = createServer((req, res) => {
    const body = pages[new URL(req.url, 'http://x').pathname];
    if (body === undefined) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return `http://127.0.0.1:${server.address().port}`;
}

/**
 * Check every answer the page receives from the server at `base` (its
 * URL, sub-path included) against the OpenAPI document, as api() does for
 * the tests' own requests. Returns the problems found (a test asserts none).
 */
export function watchAnswers(page, base) {
  const problems = [];
  const pending = [];
  page.on('response', (res) => {
    const url = res.url();
    if (!url.startsWith(`${base}/`) || res.status() >= 300 && res.status() < 400) return;
    pending.push((async () => {
      let text = '';
      // A body the page never finished reading (it navigated away, a sign-out) is not waited for.
      const body = res.text().then((x) => ({ x }), () => null);
      const got = await Promise.race([body, new Promise((r) => setTimeout(() => r(null), 5000))]);
      if (got === null) return;
      text = got.x;
      const path = url.slice(base.length);
      try {
        const { checkAnswer } = await import('./openapi.js');
        await checkAnswer({ method: res.request().method(), path, status: res.status(), headers: await res.allHeaders(), text });
      } catch (e) { problems.push(e.message); }
    })());
  });
  return { problems, settled: () => Promise.all(pending) };
}
