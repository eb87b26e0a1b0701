// Route table: every route declares a scope, 404 / 405 + Allow, path
// normalisation that refuses (never resolves) dot segments, encoded slashes, NUL.
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { Router, routeError, parsePath } from '../dist/server/router.js';
import { sendError, sendJson } from '../dist/server/http-error.js';

const h = (name) => () => name;
// The design's routes, as the assembly will declare them.
const DESIGN_ROUTES = [
  { method: 'GET', path: '/api/health', scope: 'public', handler: h('health') },
  { method: 'GET', path: '/api/status', scope: 'read', handler: h('status') },
  { method: 'GET', path: '/api/players', scope: 'read', handler: h('players') },
  ...['play', 'pause', 'toggle', 'stop', 'next', 'previous', 'seek'].map((a) => ({ method: 'POST', path: `/api/player/${a}`, scope: 'control', handler: h(a) })),
  { method: 'GET', path: '/api/volume', scope: 'read', handler: h('volume.get') },
  { method: 'PUT', path: '/api/volume', scope: 'control', handler: h('volume.put') },
  { method: 'GET', path: '/api/artwork', scope: 'public', handler: h('artwork'), stream: true },
  { method: 'GET', path: '/api/media/browse', scope: 'read', handler: h('browse') },
  { method: 'POST', path: '/api/media/play', scope: 'control', handler: h('media.play') },
  { method: 'GET', path: '/api/scripts', scope: 'read', handler: h('scripts') },
  { method: 'POST', path: '/api/scripts/{name}/run', scope: 'control', handler: h('script.run') },
  { method: 'GET', path: '/api/tokens', scope: 'admin', handler: h('tokens.list') },
  { method: 'POST', path: '/api/tokens', scope: 'admin', handler: h('tokens.create') },
  { method: 'DELETE', path: '/api/tokens/{id}', scope: 'admin', handler: h('tokens.revoke') },
  { method: 'POST', path: '/api/tokens/{id}/rotate', scope: 'admin', handler: h('tokens.rotate') },
  { method: 'GET', path: '/api/tokens/mine', scope: 'read', handler: h('tokens.mine') },
  { method: 'GET', path: '/api/audit', scope: 'admin', handler: h('audit') },
  { method: 'POST', path: '/api/auth/redeem', scope: 'public', handler: h('redeem') },
  { method: 'POST', path: '/api/auth/exchange', scope: 'public', handler: h('exchange') },
  { method: 'GET', path: '/api/auth/whoami', scope: 'read', handler: h('whoami') },
  { method: 'POST', path: '/api/auth/logout', scope: 'read', handler: h('logout') },
];
const router = new Router(DESIGN_ROUTES);

t.test('every route in the table declares a valid scope', async (t) => {
  const table = router.table();
  t.equal(table.length, DESIGN_ROUTES.length);
  for (const r of table) t.ok(['public', 'read', 'control', 'admin'].includes(r.scope), `${r.method} ${r.path}: ${r.scope}`);
  t.same(table.find((r) => r.path === '/api/artwork'), { method: 'GET', path: '/api/artwork', scope: 'public', stream: true });
  t.notOk('handler' in table[0], 'the table does not expose handlers');
});

t.test('a route without a valid scope cannot be registered', async (t) => {
  const base = { method: 'GET', path: '/api/x', handler: h('x') };
  for (const scope of [undefined, null, '', 'Admin', 'root', 'none', 0, ['read']]) {
    t.throws(() => new Router([...DESIGN_ROUTES, { ...base, scope }]), { name: 'TypeError', message: /must declare scope/ }, `scope ${JSON.stringify(scope)} refused`);
  }
  t.throws(() => new Router([{ ...base, scope: 'read', method: 'FETCH' }]), /unknown method/);
  t.throws(() => new Router([{ ...base, scope: 'read', handler: undefined }]), /no handler/);
  t.throws(() => new Router([{ ...base, scope: 'read', path: 'api/x' }]), /must start with/);
  t.throws(() => new Router([{ ...base, scope: 'read', path: '/api/../x' }]), /invalid path segment/);
  t.throws(() => new Router([{ ...base, scope: 'read', path: '/api/x{id}' }]), /invalid path segment/);
  t.throws(() => new Router([{ ...base, scope: 'read', path: '/api/{id}/{id}' }]), /appears twice/);
  t.throws(() => new Router([{ ...base, scope: 'read' }, { ...base, scope: 'admin' }]), /duplicate route/);
  t.throws(() => new Router([{ ...base, scope: 'read', path: '/a/{x}' }, { ...base, scope: 'read', path: '/a/{y}' }]), /duplicate route/);
});

t.test('matching: literals, params, HEAD, 404, 405 with Allow', async (t) => {
  const m = router.match('GET', '/api/status?player=mpd');
  t.equal(m.kind, 'found');
  t.equal(m.route.handler(), 'status');
  t.equal(m.query.get('player'), 'mpd');
  t.equal(router.match('HEAD', '/api/status').route.handler(), 'status', 'HEAD answered by GET');

  const run = router.match('POST', '/api/scripts/lights-on/run');
  t.equal(run.route.handler(), 'script.run');
  t.same({ ...run.params }, { name: 'lights-on' });
  t.same({ ...router.match('POST', '/api/scripts/caf%C3%A9/run').params }, { name: 'café' }, 'params are decoded');
  t.equal(router.match('GET', '/api/tokens/mine').route.handler(), 'tokens.mine', 'literal beats param');
  t.equal(router.match('DELETE', '/api/tokens/tok_1').route.handler(), 'tokens.revoke');

  for (const path of ['/', '/api', '/api/nope', '/api/status/', '/api/scripts/x/run/extra', '/api/scripts//run', '/API/STATUS', '/api/player']) {
    const r = router.match('GET', path);
    t.ok(r.kind === 'not_found' || r.kind === 'bad_path', `${path}: ${r.kind}`);
  }
  const wrong = router.match('DELETE', '/api/volume');
  t.same([wrong.kind, wrong.allow], ['method_not_allowed', 'GET, HEAD, PUT']);
  t.equal(router.match('GET', '/api/scripts/x/run').allow, 'POST');
  t.equal(router.match('GET', '/api/tokens/tok_1').allow, 'DELETE');
  t.equal(router.match('PATCH', '/api/tokens/mine').allow, 'DELETE, GET, HEAD', 'literal and pattern methods both listed');
  t.equal(router.match('POST', '/api/status').kind, 'method_not_allowed');
});

t.test('path normalisation refuses instead of resolving', async (t) => {
  const refused = [
    ['/api/../api/tokens', 'dot segment'],
    ['/api/./status', 'dot segment'],
    ['/api/%2e%2e/api/tokens', 'dot segment'],
    ['/api/%2E/status', 'dot segment'],
    ['/api/.%2e/x', 'dot segment'],
    ['/api/scripts/..%2f..%2ftokens/run', 'encoded slash'],
    ['/api/scripts/a%2Fb/run', 'encoded slash'],
    ['/api/scripts/a%5cb/run', 'encoded slash'],
    ['/api/scripts/a%00b/run', 'NUL'],
    ['/api/scripts/a\\b/run', 'backslash'],
    ['/api//status', 'empty segment'],
    ['/api/scripts/%zz/run', 'malformed'],
    ['/api/scripts/%e2%82/run', 'malformed'],
    ['/api/scripts/a%0ab/run', 'control'],
    ['api/status', 'must start with /'],
    ['http://evil.example/api/status', 'must start with /'],
    ['*', 'must start with /'],
  ];
  for (const [path, why] of refused) {
    const r = router.match('GET', path);
    t.equal(r.kind, 'bad_path', `${path} refused (${why})`);
    t.equal(r.error.status, 400);
    t.equal(r.error.code, 'request.bad_path');
  }
  const long = router.match('GET', `/api/${'a'.repeat(3000)}`);
  t.equal(long.error.status, 414, 'overlong path → 414');
  t.same(parsePath('/api/st%61tus'), { ok: true, segments: ['api', 'status'] }, 'plain percent-encoding is decoded');
  t.equal(router.match('GET', '/api/st%61tus').kind, 'found');
  t.equal(router.match('GET', '/api/status?a=../../x').kind, 'found', 'the query is not the path');
});

t.test('404 / 405 / 400 as JSON on a real server', async (t) => {
  const server = http.createServer((req, res) => {
    const m = router.match(req.method, req.url);
    const err = routeError(m);
    if (err) return sendError(res, err, 'rid-r');
    sendJson(res, 200, { handler: m.route.handler(), params: m.params });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  const port = server.address().port;
  const raw = (line) => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(`${line}\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let out = '';
    s.on('data', (d) => { out += d; });
    s.on('close', () => {
      const [head, body] = out.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), head, body: body ? JSON.parse(body) : undefined });
    });
  });
  const ok = await raw('POST /api/scripts/lights/run HTTP/1.1');
  t.same(ok.body, { handler: 'script.run', params: { name: 'lights' } }, 'allowed');
  const nf = await raw('GET /api/nothing HTTP/1.1');
  t.equal(nf.status, 404);
  t.same(nf.body, { error: { code: 'route.not_found', message: 'no such API endpoint', requestId: 'rid-r' } });
  const na = await raw('DELETE /api/volume HTTP/1.1');
  t.equal(na.status, 405);
  t.match(na.head, /\r\nAllow: GET, HEAD, PUT\r\n/i);
  t.equal(na.body.error.code, 'route.method_not_allowed');
  const dot = await raw('GET /api/../api/tokens HTTP/1.1');
  t.equal(dot.status, 400, 'raw dot segments reach the router and are refused');
  t.equal(dot.body.error.code, 'request.bad_path');
  const enc = await raw('GET /api/scripts/..%2F..%2Ftokens/run HTTP/1.1');
  t.equal(enc.status, 400);
});
