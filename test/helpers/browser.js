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
 * A phone-sized page in a fresh context. Console errors, page errors, CSP
 * violations — and every answer from a mediagate serve (one carrying
 * X-Request-ID) that the OpenAPI document does not describe — are collected
 * in `problems` (a test asserts it stays empty; `settled()` waits for the
 * answer checks still running). `base`: the server's public URL when it is on
 * a sub-path (the part before /api/… is taken off before matching).
 */
export async function phonePage(browser, { colorScheme = 'light', base, ...opts } = {}) {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme, ...opts });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const answers = watchAnswers(page, base, problems);
  return { context, page, problems, settled: answers.settled };
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
 * Check every answer the page receives from a mediagate serve against the
 * OpenAPI document, as api() does for the tests' own requests: those from
 * under `base` (the server's URL, sub-path included) when given, else every
 * answer that carries X-Request-ID (only serve sends it; other origins the
 * tests start do not). Problems go to `problems` (a test asserts none).
 */
export function watchAnswers(page, base, problems = []) {
  const pending = [];
  page.on('response', (res) => {
    const url = res.url();
    const status = res.status();
    if (status >= 300 && status < 400) return;
    if (base !== undefined && !url.startsWith(`${base}/`)) return;
    if (base === undefined && !url.startsWith('http')) return;
    pending.push((async () => {
      const headers = await res.allHeaders().catch(() => null);
      if (headers === null || (base === undefined && !headers['x-request-id'])) return;
      // A body the page never finished reading (it navigated away, a sign-out) is not waited for.
      const body = res.text().then((x) => ({ x }), () => null);
      const got = await Promise.race([body, new Promise((r) => setTimeout(() => r(null), 5000))]);
      if (got === null) return;
      const u = new URL(url);
      const path = base !== undefined ? url.slice(base.length) : `${u.pathname}${u.search}`;
      try {
        const { checkAnswer } = await import('./openapi.js');
        await checkAnswer({ method: res.request().method(), path, status, headers, text: got.x });
      } catch (e) { problems.push(`contract: ${e.message}`); }
    })());
  });
  return { problems, settled: () => Promise.all(pending) };
}
