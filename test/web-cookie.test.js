// The web remote's cookie and CSRF rules as pure functions (cookie-auth.ts):
// each with what it lets through and what it refuses. End to end: web-csrf.test.js.
import t from 'tap';
import {
  clearedCookie, COOKIE_MAX_AGE_SECONDS, cookiePolicy, readCookie, SameOrigin, sessionCookie,
} from '../dist/server/cookie-auth.js';

const req = (headers) => ({ headers });
const TOKEN = `mg_${'A'.repeat(43)}`;

t.test('readCookie: finds the one cookie; refuses it twice', async (t) => {
  t.equal(readCookie(`a=1; mediagate=${TOKEN}; b=2`, 'mediagate'), TOKEN);
  t.equal(readCookie(`mediagate=${TOKEN}`, 'mediagate'), TOKEN);
  t.equal(readCookie('a=1', 'mediagate'), undefined, 'absent');
  t.equal(readCookie(undefined, 'mediagate'), undefined);
  t.equal(readCookie('xmediagate=1; mediagatex=2', 'mediagate'), undefined, 'a prefix or suffix is another cookie');
  t.equal(readCookie(`mediagate=${TOKEN}; mediagate=mg_other`, 'mediagate'), null, 'sent twice (cookie tossing): refused');
});

t.test('sessionCookie / clearedCookie: HttpOnly, SameSite=Strict, Path=/; Secure and __Host- only under TLS', async (t) => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  const plain = cookiePolicy(false);
  const tls = cookiePolicy(true);
  t.equal(sessionCookie(TOKEN, plain, { nowMs: now }), `mediagate=${TOKEN}; Max-Age=${COOKIE_MAX_AGE_SECONDS}; Path=/; HttpOnly; SameSite=Strict`);
  t.equal(sessionCookie(TOKEN, tls, { nowMs: now, expiresAt: '2030-01-02T00:00:00Z' }), `__Host-mediagate=${TOKEN}; Max-Age=86400; Path=/; HttpOnly; SameSite=Strict; Secure`, 'kept until the token expires');
  t.equal(clearedCookie(plain), 'mediagate=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict');
  t.equal(clearedCookie(tls), '__Host-mediagate=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict; Secure');
  t.equal(tls.name, '__Host-mediagate');
});

t.test('cookiePolicy: an https public URL makes it Secure; a sub-path scopes it (__Secure-, not __Host-, which needs Path=/)', async (t) => {
  t.same(cookiePolicy(false, 'https://media.example.org'), { name: '__Host-mediagate', secure: true, path: '/' }, 'a TLS proxy in front, at the root');
  t.same(cookiePolicy(false, 'https://host.example/mediagate'), { name: '__Secure-mediagate', secure: true, path: '/mediagate/' }, 'a TLS proxy on a sub-path');
  t.same(cookiePolicy(true, 'https://host.example/a/b/'), { name: '__Secure-mediagate', secure: true, path: '/a/b/' }, 'serve\'s own TLS, deeper path, trailing slash');
  t.same(cookiePolicy(false, 'http://127.0.0.1:8080/mediagate'), { name: 'mediagate', secure: false, path: '/mediagate/' }, 'plain HTTP: no prefix, the path still');
  t.same(cookiePolicy(false, 'http://box.lan:8420'), { name: 'mediagate', secure: false, path: '/' });
  const sub = cookiePolicy(false, 'https://host.example/mediagate');
  t.equal(sessionCookie(TOKEN, sub, { nowMs: 0, expiresAt: new Date(60_000).toISOString() }), `__Secure-mediagate=${TOKEN}; Max-Age=60; Path=/mediagate/; HttpOnly; SameSite=Strict; Secure`);
  t.equal(clearedCookie(sub), '__Secure-mediagate=; Max-Age=0; Path=/mediagate/; HttpOnly; SameSite=Strict; Secure', 'cleared on the same path (else the browser keeps it)');
  // Never a Domain: host-only, whatever the policy.
  for (const p of [cookiePolicy(false), cookiePolicy(true), sub]) t.notMatch(sessionCookie(TOKEN, p), /Domain=/i);
});

t.test('SameOrigin.isSelf: the listen address, the public URL, scheme://Host — nothing else', async (t) => {
  const so = new SameOrigin(false, ['http://127.0.0.1:8420', 'https://media.example.org/']);
  t.ok(so.isSelf('http://127.0.0.1:8420', '127.0.0.1:8420'), 'the address listened on');
  t.ok(so.isSelf('https://media.example.org', '127.0.0.1:8420'), 'server.publicUrl (TLS proxy in front)');
  t.ok(so.isSelf('http://192.168.1.5:8420', '192.168.1.5:8420'), 'scheme://Host of the request (a LAN address)');
  t.notOk(so.isSelf('http://127.0.0.1:9999', '127.0.0.1:8420'), 'another port of the same host');
  t.notOk(so.isSelf('https://192.168.1.5:8420', '192.168.1.5:8420'), 'another scheme');
  t.notOk(so.isSelf('http://evil.example', '127.0.0.1:8420'), 'another host');
  t.notOk(so.isSelf('null', '127.0.0.1:8420'), "the 'null' origin");
  t.notOk(so.isSelf(undefined, '127.0.0.1:8420'), 'no Origin');
  t.notOk(so.isSelf('http://127.0.0.1:8420/path', '127.0.0.1:8420'), 'not an origin');
  t.notOk(so.isSelf('http://a@127.0.0.1:9', 'a@127.0.0.1:9'), 'user info in Host');
  const tls = new SameOrigin(true);
  t.ok(tls.isSelf('https://box.lan:8420', 'box.lan:8420'));
  t.notOk(tls.isSelf('http://box.lan:8420', 'box.lan:8420'), 'plain http origin on a TLS server');
});

t.test('csrfProblem: custom header required; Origin and Sec-Fetch-Site, when sent, must be own', async (t) => {
  const so = new SameOrigin(false, ['http://127.0.0.1:8420']);
  const host = '127.0.0.1:8420';
  // allowed
  t.equal(so.csrfProblem(req({ host, 'x-mediagate-csrf': '1', origin: 'http://127.0.0.1:8420', 'sec-fetch-site': 'same-origin' })), null, 'POST from the page');
  t.equal(so.csrfProblem(req({ host, 'x-mediagate-csrf': '1', 'sec-fetch-site': 'same-origin' })), null, 'same-origin GET (no Origin)');
  t.equal(so.csrfProblem(req({ host: '192.168.1.5:8420', 'x-mediagate-csrf': '1' })), null, 'plain-HTTP LAN GET: neither header is sent by browsers');
  // denied
  t.match(so.csrfProblem(req({ host, origin: 'http://127.0.0.1:8420', 'sec-fetch-site': 'same-origin' })), /x-mediagate-csrf/, 'no custom header');
  t.match(so.csrfProblem(req({ host, 'x-mediagate-csrf': 'yes', origin: 'http://127.0.0.1:8420' })), /x-mediagate-csrf/, 'custom header with another value');
  t.match(so.csrfProblem(req({ host, 'x-mediagate-csrf': '1', origin: 'http://127.0.0.1:9999' })), /cross-origin/, 'another origin');
  t.match(so.csrfProblem(req({ host, 'x-mediagate-csrf': '1', origin: 'null' })), /cross-origin/, "the 'null' origin");
  t.match(so.csrfProblem(req({ host, 'x-mediagate-csrf': '1', 'sec-fetch-site': 'same-site' })), /Sec-Fetch-Site/, 'same-site is not same-origin');
  t.match(so.csrfProblem(req({ host, 'x-mediagate-csrf': '1', 'sec-fetch-site': 'cross-site' })), /Sec-Fetch-Site/);
});

t.test('wsCookie: only for an upgrade from the own origin', async (t) => {
  const so = new SameOrigin(false, ['http://127.0.0.1:8420']);
  const cookie = `mediagate=${TOKEN}`;
  t.equal(so.wsCookie(req({ host: '127.0.0.1:8420', origin: 'http://127.0.0.1:8420', cookie }), 'mediagate'), TOKEN);
  t.equal(so.wsCookie(req({ host: '127.0.0.1:8420', origin: 'http://127.0.0.1:9999', cookie }), 'mediagate'), undefined, 'another origin: the cookie is not looked at');
  t.equal(so.wsCookie(req({ host: '127.0.0.1:8420', cookie }), 'mediagate'), undefined, 'no Origin: not a page of ours');
});
