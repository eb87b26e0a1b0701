// The route table: every route declares a scope (one documented exception
// checks a finer scope inside), and against a real `mediagate serve` no
// non-public route answers without a token, or to a token of too low a scope.
import t from 'tap';
import { ROUTES, routeTable } from '../dist/server/routes/index.js';
import { Router, isRouteScope } from '../dist/server/router.js';
import { api, cliToken, serveEnv, startServe } from './helpers/serve.js';

const RANK = { public: -1, read: 0, control: 1, admin: 2 };
const concrete = (path) => path.replace(/\{[^}]+\}/g, 'x_1');

t.test('every route declares a scope', async (t) => {
  t.ok(ROUTES.length >= 30, `${ROUTES.length} routes`);
  for (const r of ROUTES) t.ok(isRouteScope(r.scope), `${r.method} ${r.path}: ${r.scope}`);
  // The routes whose real scope is decided inside the handler, and why: open
  // (config server.openScope, admin by default) and a script (its own scope).
  const inside = routeTable().filter((r) => r.scopeCheckedInHandler);
  t.same(inside.map((r) => `${r.method} ${r.path} ${r.scope}`).sort(), ['POST /api/player/open control', 'POST /api/scripts/{name}/run read']);
  t.match(inside.find((r) => r.path === '/api/player/open').scopeCheckedInHandler, /server\.openScope \(default admin\)/);
  t.match(inside.find((r) => r.path === '/api/scripts/{name}/run').scopeCheckedInHandler, /script's own scope/);
  // Public routes are exactly these: four API routes, the API's two descriptions (test/openapi.test.js
  // shows they reveal nothing else), and the web remote's pages and files (no data in them).
  t.same(ROUTES.filter((r) => r.scope === 'public').map((r) => `${r.method} ${r.path}`).sort(),
    ['GET /', 'GET /api/artwork', 'GET /api/health', 'GET /api/openapi.json', 'GET /api/ws-messages.json', 'GET /assets/{file}', 'GET /connect', 'GET /manifest.webmanifest', 'POST /api/auth/exchange', 'POST /api/auth/redeem']);
  for (const r of ROUTES) if (!r.path.startsWith('/api/')) t.equal(r.method, 'GET', `${r.path}: a web remote file, GET only`);
  // Admin-only surfaces.
  for (const r of ROUTES) {
    if (/^\/api\/(tokens|invites|audit)/.test(r.path)) t.equal(r.scope, 'admin', `${r.method} ${r.path} is admin`);
    if (/^\/api\/player\//.test(r.path) || (r.path === '/api/volume' && r.method === 'PUT')) t.equal(r.scope, 'control', `${r.method} ${r.path} is control`);
  }
  // The router refuses a table with a route that has no scope.
  t.throws(() => new Router([...ROUTES, { method: 'GET', path: '/api/forgotten', handler: () => 1 }]), /scope/);
  t.doesNotThrow(() => new Router(ROUTES));
});

t.test('no route is reachable without a token or with too low a scope', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const read = await cliToken(env, 'reader', 'read');
  const control = await cliToken(env, 'controller', 'control');
  const admin = await cliToken(env, 'admin', 'admin');
  const srv = await startServe(t, env);
  for (const r of ROUTES) {
    const path = concrete(r.path);
    const what = `${r.method} ${r.path}`;
    if (r.scope === 'public') {
      const res = await api(srv, r.method, path);
      t.not(res.status, 401, `${what} is public`);
      continue;
    }
    let res = await api(srv, r.method, path);
    t.equal(res.status, 401, `${what} without a token → 401`);
    t.equal(res.json?.error?.code, 'auth.missing_token');
    res = await api(srv, r.method, `${path}?token=${admin.token}`);
    t.equal(res.status, 401, `${what} with the token in the query string → 401`);
    t.equal(res.json?.error?.code, 'auth.token_in_url');
    res = await api(srv, r.method, `${path}?access_token=${admin.token}`, { token: admin.token, json: {} });
    t.equal(res.status, 401, `${what} with a valid header AND a token in the query string → 401 all the same`);
    t.equal(res.json?.error?.code, 'auth.token_in_url');
    // Logging out revokes the caller's token: use throw-away ones there.
    const tokens = r.path === '/api/auth/logout'
      ? [await cliToken(env, 'r2', 'read'), await cliToken(env, 'c2', 'control'), await cliToken(env, 'a2', 'admin')]
      : [read, control, admin];
    for (const tok of tokens) {
      res = await api(srv, r.method, path, { token: tok.token, json: {} });
      // open: the route's minimum is control, the default policy (server.openScope) admin.
      const needed = r.path === '/api/player/open' ? 'admin' : r.scope;
      if (RANK[tok.scope] < RANK[needed]) {
        t.equal(res.status, 403, `${what} with a ${tok.scope} token → 403`);
        t.equal(res.json?.error?.code, 'auth.insufficient_scope');
      } else {
        t.notOk([401, 403].includes(res.status), `${what} with a ${tok.scope} token passes auth (${res.status} ${res.json?.error?.code ?? ''})`);
      }
    }
  }
  t.equal((await srv.stop()).code, 0);
});
