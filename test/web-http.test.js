// The web remote over plain HTTP against a real `mediagate serve`: the pages'
// exact headers and CSP, no inline script in any page, hashed assets cached
// for a year, the manifest; and the cookie mode of the API — what it lets
// through and what it refuses (CSRF header, Origin, Sec-Fetch-Site, revoked
// cookie, Bearer unaffected, WebSocket by cookie, TLS cookie).
import t from 'tap';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { runCli } from './helpers/cli.js';
import { agentFor, api, auditEvents, cliToken, selfSigned, serveEnv, startServe } from './helpers/serve.js';
import { connect } from './helpers/ws.js';
import { checkAnswer } from './helpers/openapi.js';

const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; manifest-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; require-trusted-types-for 'script'";
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** GET `path` raw (no JSON parsing), optionally with gzip. */
async function raw(srv, path, { gzip = false, method = 'GET', ca } = {}) {
  const res = await request(`${srv.url}${path}`, { method, headers: gzip ? { 'accept-encoding': 'gzip' } : {}, dispatcher: agentFor(undefined, ca) });
  const buf = Buffer.from(await res.body.arrayBuffer());
  await checkAnswer({ method, path, status: res.statusCode, headers: res.headers, text: res.headers['content-encoding'] === 'gzip' ? '' : buf.toString('utf8') });
  return { status: res.statusCode, headers: res.headers, body: res.headers['content-encoding'] === 'gzip' ? gunzipSync(buf) : buf, bytes: buf.length };
}

/** Every src/href a page refers to, as a path on the server (they are relative: the remote works under any sub-path). */
const refs = (html, page) => [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1], `http://x${page}`).pathname);

/** Redeem an invite and exchange it in cookie mode from `origin`; returns {res, cookie}. */
async function pairCookie(srv, env, { origin = srv.url, csrf = true, ca } = {}) {
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', `w${Math.random().toString(36).slice(2, 8)}`, '--scope', 'control', '--json'], { env })).stdout);
  const r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code }, ca });
  const headers = { ...(origin ? { origin } : {}), ...(csrf ? { 'x-mediagate-csrf': '1' } : {}) };
  const res = await api(srv, 'POST', '/api/auth/exchange', { json: { pairingToken: r.json.pairingToken, device: 'Test phone', cookie: true }, headers, ca });
  const set = [res.headers['set-cookie']].flat().filter(Boolean);
  const cookie = set[0]?.split(';')[0];
  return { res, set, cookie, pairingToken: r.json.pairingToken };
}

t.test('pages: exact CSP, no-store, no inline script; assets immutable; manifest installable', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const srv = await startServe(t, env);
  const seen = new Set();
  for (const path of ['/', '/connect']) {
    const r = await raw(srv, path);
    t.equal(r.status, 200, path);
    t.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    t.equal(r.headers['content-security-policy'], PAGE_CSP, `${path}: the page CSP, exactly`);
    t.equal(r.headers['cache-control'], 'no-store', `${path}: pages are not cached`);
    t.equal(r.headers['x-frame-options'], 'DENY');
    t.equal(r.headers['x-content-type-options'], 'nosniff');
    t.equal(r.headers['referrer-policy'], 'no-referrer');
    t.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
    t.equal(r.headers['cross-origin-resource-policy'], 'same-origin');
    t.notOk(r.headers['strict-transport-security'], 'no HSTS over plain HTTP');
    const html = r.body.toString('utf8');
    // No inline script or style of any kind.
    const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)];
    t.ok(scripts.length >= 1, `${path}: has a script`);
    for (const [tag, body] of scripts) {
      t.match(tag, /\ssrc="assets\/[a-z]+\.[0-9a-f]{12}\.js"/, `${path}: script from a hashed file of this server, by a relative URL`);
      t.equal(body.trim(), '', `${path}: the script element has no inline code`);
    }
    t.notMatch(html, /<style[\s>]/i, `${path}: no <style>`);
    t.notMatch(html, /\sstyle\s*=/i, `${path}: no style attribute`);
    t.notMatch(html, /\son[a-z]+\s*=/i, `${path}: no event-handler attribute`);
    t.notMatch(html, /javascript:/i);
    t.notMatch(html, /https?:\/\//, `${path}: nothing from another origin (no CDN)`);
    t.notMatch(html, /\s(?:src|href)="\//, `${path}: no root-relative URL (they would leave a sub-path)`);
    for (const ref of refs(html, path)) seen.add(ref);
    // Pages are never compressed (BREACH: web.ts), even when gzip is accepted.
    const gz = await raw(srv, path, { gzip: true });
    t.equal(gz.headers['content-encoding'], undefined, `${path}: not compressed although gzip is accepted`);
    t.same(gz.body, r.body, 'the same page');
    t.equal(gz.headers.vary, 'Origin');
    const head = await raw(srv, path, { method: 'HEAD' });
    t.equal(head.status, 200);
    t.equal(head.bytes, 0, 'HEAD: headers only');
  }
  // Every file the pages refer to is served by this server; hashed ones for a year.
  for (const ref of seen) {
    if (ref === '/') continue;
    const r = await raw(srv, ref);
    t.equal(r.status, 200, ref);
    if (ref.startsWith('/assets/')) {
      t.match(ref, /^\/assets\/[a-z0-9-]+\.[0-9a-f]{12}\.[a-z]+$/, `${ref}: content-hashed name`);
      t.equal(r.headers['cache-control'], IMMUTABLE, `${ref}: cached for a year, immutable`);
      if (/\.(js|css)$/.test(ref)) {
        const gz = await raw(srv, ref, { gzip: true });
        t.equal(gz.headers['content-encoding'], 'gzip', `${ref}: a hashed asset is gzip-compressed when accepted`);
        t.same(gz.body, r.body, 'the same bytes');
        t.ok(gz.bytes < r.bytes);
        t.equal(gz.headers.vary, 'Origin, Accept-Encoding');
      }
    }
  }
  const m = await raw(srv, '/manifest.webmanifest');
  t.equal(m.headers['content-type'], 'application/manifest+json');
  t.equal(m.headers['cache-control'], 'no-cache');
  const manifest = JSON.parse(m.body.toString('utf8'));
  t.equal(manifest.id, './', 'relative to the manifest: a sub-path deployment is its own app');
  t.equal(manifest.scope, './');
  t.equal(manifest.start_url, './');
  t.equal(manifest.display, 'standalone');
  const sizes = manifest.icons.map((i) => i.sizes);
  t.ok(sizes.includes('192x192') && sizes.includes('512x512'), 'icons of 192 and 512 px');
  t.ok(manifest.icons.some((i) => i.purpose === 'maskable'));
  for (const icon of manifest.icons) {
    const r = await raw(srv, `/${icon.src}`);
    t.equal(r.headers['content-type'], icon.type, `${icon.src}: ${icon.type}`);
    if (icon.type === 'image/png') {
      t.same([...r.body.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
      t.equal(r.body.readUInt32BE(16), Number(icon.sizes.split('x')[0]), 'of the size it claims');
    }
  }
  // Unknown asset: 404 JSON; the API keeps its own CSP.
  const missing = await api(srv, 'GET', '/assets/remote.000000000000.js');
  t.equal(missing.status, 404);
  t.equal(missing.json.error.code, 'web.not_found');
  t.equal((await api(srv, 'POST', '/connect')).status, 405, 'pages are GET only');
  const health = await raw(srv, '/api/health');
  t.equal(health.headers['content-security-policy'], API_CSP, 'API answers keep the deny-all CSP');
  t.equal(health.headers['cache-control'], 'no-store');
});

t.test('cookie mode: allowed from the own page, refused otherwise; Bearer unchanged', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const srv = await startServe(t, env);

  // --- the exchange: the token goes into the cookie, never the body
  const p = await pairCookie(srv, env);
  t.equal(p.res.status, 200, p.res.text);
  t.notOk('token' in p.res.json, 'cookie mode: no token in the JSON');
  t.notMatch(p.res.text, /mg_[A-Za-z0-9_-]{20}/, 'no token anywhere in the body');
  t.same(Object.keys(p.res.json).sort(), ['cookie', 'id', 'label', 'scope']);
  t.equal(p.set.length, 1);
  t.match(p.set[0], /^mediagate=mg_[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/, 'HttpOnly, SameSite=Strict, Path=/, no Secure over HTTP');
  const list = JSON.parse((await runCli(['token', 'list', '--json'], { env })).stdout);
  t.ok(list.some((x) => x.id === p.res.json.id && x.label === 'Test phone' && x.status === 'active'), 'the device list shows the browser by name');

  // Denied exchanges: no CSRF header, another origin. The pairing token is not spent by a refusal.
  let d = await pairCookie(srv, env, { csrf: false });
  t.equal(d.res.status, 403, 'cookie exchange without X-Mediagate-CSRF');
  t.equal(d.res.json.error.code, 'auth.csrf');
  t.notOk(d.res.headers['set-cookie']);
  const again = await api(srv, 'POST', '/api/auth/exchange', { json: { pairingToken: d.pairingToken, device: 'x', cookie: true }, headers: { origin: srv.url, 'x-mediagate-csrf': '1' } });
  t.equal(again.status, 200, 'the refused pairing token still works from the page');
  d = await pairCookie(srv, env, { origin: 'http://127.0.0.1:1' });
  t.equal(d.res.status, 403, 'cookie exchange from another origin');
  t.equal(d.res.json.error.code, 'auth.csrf');
  const bad = await api(srv, 'POST', '/api/auth/exchange', { json: { pairingToken: d.pairingToken, device: 'x', cookie: 'yes' } });
  t.equal(bad.status, 422, 'cookie must be a boolean');

  // --- requests with the cookie
  const cookie = p.cookie;
  const h = (extra) => ({ cookie, ...extra });
  const allowed = [
    ['page GET (no Origin, Sec-Fetch-Site same-origin)', { 'x-mediagate-csrf': '1', 'sec-fetch-site': 'same-origin' }],
    ['page GET on a LAN address (neither header)', { 'x-mediagate-csrf': '1' }],
    ['page POST (own Origin)', { 'x-mediagate-csrf': '1', origin: srv.url, 'sec-fetch-site': 'same-origin' }],
  ];
  for (const [what, headers] of allowed) {
    const r = await api(srv, 'GET', '/api/auth/whoami', { headers: h(headers) });
    t.equal(r.status, 200, `allowed: ${what}`);
    t.equal(r.json.label, 'Test phone');
  }
  const denied = [
    ['no custom header', { origin: srv.url }],
    ['custom header with another value', { 'x-mediagate-csrf': 'true', origin: srv.url }],
    ['another origin (another port)', { 'x-mediagate-csrf': '1', origin: 'http://127.0.0.1:1' }],
    ['the null origin', { 'x-mediagate-csrf': '1', origin: 'null' }],
    ['Sec-Fetch-Site: same-site', { 'x-mediagate-csrf': '1', 'sec-fetch-site': 'same-site' }],
    ['Sec-Fetch-Site: cross-site', { 'x-mediagate-csrf': '1', 'sec-fetch-site': 'cross-site' }],
  ];
  for (const [what, headers] of denied) {
    const r = await api(srv, 'POST', '/api/auth/logout', { headers: h(headers) });
    t.equal(r.status, 403, `denied: ${what}`);
    t.equal(r.json.error.code, 'auth.csrf');
    t.notOk(r.headers['set-cookie'], 'the cookie is left alone');
  }
  t.equal((await api(srv, 'GET', '/api/auth/whoami', { headers: h({ 'x-mediagate-csrf': '1' }) })).status, 200, 'none of the refused logouts happened');
  const dup = await api(srv, 'GET', '/api/auth/whoami', { headers: { cookie: `${cookie}; ${cookie.replace(/.$/, 'x')}`, 'x-mediagate-csrf': '1' } });
  t.equal(dup.status, 401, 'the cookie twice: refused');
  const events = await auditEvents(env, ['--outcome', 'denied']);
  t.ok(events.some((e) => e.action === 'auth.csrf'), 'CSRF refusals are audited');

  // Bearer is unchanged and wins over a cookie.
  const ctl = await cliToken(env, 'script', 'control');
  let r = await api(srv, 'GET', '/api/auth/whoami', { token: ctl.token, headers: { cookie: 'mediagate=garbage' } });
  t.equal(r.status, 200, 'Bearer, with a bad cookie beside it, needs no CSRF header');
  t.equal(r.json.label, 'script');

  // --- WebSocket by cookie: own origin only
  const wsUrl = `${srv.url.replace('http', 'ws')}/api/ws`;
  let ws = await connect(wsUrl, { protocols: ['mediagate.v1'], origin: srv.url, headers: { cookie } });
  t.notOk(ws.refused, 'WS upgrade with the cookie from the own origin');
  ws.close?.();
  ws = await connect(wsUrl, { protocols: ['mediagate.v1'], origin: 'http://127.0.0.1:1', headers: { cookie } });
  t.equal(ws.status, 403, 'WS from another origin: refused');
  ws = await connect(wsUrl, { protocols: ['mediagate.v1'], headers: { cookie } });
  t.equal(ws.status, 401, 'WS without Origin: the cookie is not a credential');

  // --- sign out: revokes and clears; the revoked cookie then clears itself
  r = await api(srv, 'POST', '/api/auth/logout', { headers: h({ 'x-mediagate-csrf': '1', origin: srv.url }) });
  t.equal(r.status, 200);
  t.equal(r.json.status, 'revoked');
  t.equal(r.headers['set-cookie'], 'mediagate=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict', 'logout clears the cookie');
  r = await api(srv, 'GET', '/api/auth/whoami', { headers: h({ 'x-mediagate-csrf': '1' }) });
  t.equal(r.status, 401, 'the revoked cookie no longer works');
  t.equal(r.json.error.code, 'auth.token_revoked');
  t.equal(r.headers['set-cookie'], 'mediagate=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict', 'and is cleared');
  const after = JSON.parse((await runCli(['token', 'list', '--json', '--all'], { env })).stdout).find((x) => x.id === p.res.json.id);
  t.equal(after?.status, 'revoked', 'token list shows it revoked');
});

t.test('under TLS: __Host- cookie with Secure', async (t) => {
  const tls = selfSigned(t);
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const srv = await startServe(t, env, { args: ['--tls-cert', tls.cert, '--tls-key', tls.key] });
  t.match(srv.url, /^https:/);
  const p = await pairCookie(srv, env, { ca: tls.certPem });
  t.equal(p.res.status, 200, p.res.text);
  t.match(p.set[0], /^__Host-mediagate=mg_[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
  let r = await api(srv, 'GET', '/api/auth/whoami', { headers: { cookie: p.cookie, 'x-mediagate-csrf': '1', origin: srv.url }, ca: tls.certPem });
  t.equal(r.status, 200, 'allowed: the TLS cookie from the own https origin');
  r = await api(srv, 'GET', '/api/auth/whoami', { headers: { cookie: p.cookie, 'x-mediagate-csrf': '1', origin: srv.url.replace('https', 'http') }, ca: tls.certPem });
  t.equal(r.status, 403, 'denied: the http:// twin of the origin');
  r = await api(srv, 'GET', '/api/auth/whoami', { headers: { cookie: p.cookie.replace('__Host-', ''), 'x-mediagate-csrf': '1' }, ca: tls.certPem });
  t.equal(r.status, 401, 'denied: the plain-HTTP cookie name is not read under TLS');
  const page = await raw(srv, '/', { ca: tls.certPem });
  t.equal(page.headers['strict-transport-security'], 'max-age=31536000', 'HSTS on pages under TLS');
  t.equal(page.headers['content-security-policy'], PAGE_CSP);
});

t.test('invite links from the local CLI lead to this serve (real port), and not after it stopped', async (t) => {
  const { env } = await serveEnv(t, {}, {});
  const srv = await startServe(t, env);
  const r = await runCli(['invite', 'create', '--label', 'phone', '--scope', 'control', '--qr'], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`^${srv.url.replace(/[.]/g, '\\.')}/connect#code=[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$`, 'm'), 'the link is the running serve\'s origin');
  const page = await raw(srv, '/connect');
  t.equal(page.status, 200, 'and it answers there');
  await srv.stop();
  const j = JSON.parse((await runCli(['invite', 'create', '--label', 'phone2', '--scope', 'control', '--json'], { env })).stdout);
  t.match(j.link, /^http:\/\/127\.0\.0\.1:8420\/connect#code=/, 'no serve running: the default base');
  await runCli(['config', 'set', 'server.publicUrl', 'https://media.example.org'], { env });
  const k = JSON.parse((await runCli(['invite', 'create', '--label', 'phone3', '--scope', 'control', '--json'], { env })).stdout);
  t.match(k.link, /^https:\/\/media\.example\.org\/connect#code=/, 'server.publicUrl wins');
});
