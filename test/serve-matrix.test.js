// The per-route auth matrix against a real `mediagate serve` on a real MPD:
// for EVERY non-public route of routeTable(), one request that is allowed
// (and really does something: mpc sees it, the CLI sees the token) and the
// denials that serve-routes.test.js does not cover per route — a revoked
// token, an expired token and a pairing token presented as a bearer token.
// Each route's requests come from their own loopback address (127.0.1.N):
// the failure lockout counts per address, and three failures stay below it,
// so the allowed request afterwards from the same address also shows that
// those denials did not lock anything by themselves.
import t from 'tap';
import { createServer } from 'node:http';
import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { routeTable } from '../dist/server/routes/index.js';
import { startMpd } from './helpers/mpd.js';
import { makeMusic, tempDir } from './helpers/proc.js';
import { runCli } from './helpers/cli.js';
import { api, auditEvents, cliToken, serveEnv, startServe } from './helpers/serve.js';

// Real daemons and serve processes on a shared, loaded machine: more than the default 120 s.
t.setTimeout(300000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mpcState = (mpd) => {
  const m = /^\[(playing|paused)\]/m.exec(mpd.mpc('status'));
  return m ? m[1] : 'stopped';
};
const mpcVolume = (mpd) => Number(/volume:\s*(\d+)%/.exec(mpd.mpc('status'))?.[1]);

t.test('every route: allowed with the right token; refused with a revoked, an expired or a pairing token', async (t) => {
  const music = makeMusic(join(tempDir(t), 'music'));
  const mpd = await startMpd(t, { musicDir: music });
  const { env, configDir } = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
  writeFileSync(join(configDir, 'config.json'), JSON.stringify({
    server: { rateLimit: { rps: 0 } },
    volume: { backend: 'player' }, // MPD's software mixer: no system mixer here
    media: { folders: { music } },
    mpd: { musicDirectory: music },
    scripts: { hello: { command: ['/bin/echo', 'hello'], scope: 'read' } },
  }), { mode: 0o600 });

  const tok = { read: await cliToken(env, 'reader', 'read'), control: await cliToken(env, 'controller', 'control'), admin: await cliToken(env, 'boss', 'admin') };
  // Denied credentials, all of admin scope so that only their state is wrong.
  const revoked = await cliToken(env, 'revoked', 'admin');
  const rv = await runCli(['token', 'revoke', revoked.id], { env });
  t.equal(rv.code, 0, rv.stderr);
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'pair', '--scope', 'admin', '--json'], { env })).stdout);

  const srv = await startServe(t, env);
  let r = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code }, from: '127.0.0.250' });
  t.equal(r.status, 200, 'redeemed over HTTP');
  const pairing = r.json.pairingToken;
  t.match(pairing, /^mgp_/);
  // Made while serve runs (start-up alone can outlast a short expiry on a loaded machine).
  const expired = await cliToken(env, 'expired', 'admin', ['--expires', '3s']);
  r = await api(srv, 'GET', '/api/auth/whoami', { token: expired.token, from: '127.0.0.251' });
  t.equal(r.status, 200, 'the short token worked before it expired');
  await sleep(Math.max(0, Date.parse(expired.expiresAt) - Date.now()) + 100);

  // Targets for the routes that consume something.
  const spare = async (label, scope) => (await cliToken(env, label, scope));
  const spareInvite = async (label) => JSON.parse((await runCli(['invite', 'create', '--label', label, '--scope', 'read', '--json'], { env })).stdout);

  // One allowed request per route, with what it must have done. `path` may differ
  // from the route's (parameters filled in); `check` looks at the real effect.
  // A real stream for open: a track of the music dir served over HTTP on the loopback (MPD fetches it).
  const stream = createServer((req, res) => { res.writeHead(200, { 'content-type': 'audio/ogg' }); createReadStream(join(music, 'a.ogg')).pipe(res); });
  await new Promise((r) => stream.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => { stream.closeAllConnections?.(); stream.close(r); }));
  const streamUrl = `http://127.0.0.1:${stream.address().port}/matrix-stream.ogg`;
  const specs = {
    'GET /api/auth/whoami': { scope: 'read', check: (res) => t.equal(res.json.id, tok.read.id) },
    'POST /api/auth/logout': {
      scope: 'read',
      setup: async () => ({ token: (await spare('leaving', 'read')) }),
      check: async (res, ctx) => {
        t.equal(res.json.status, 'revoked');
        const list = JSON.parse((await runCli(['token', 'list', '--all', '--json'], { env })).stdout);
        t.equal(list.find((x) => x.id === ctx.token.id)?.status, 'revoked', 'the CLI sees the logout');
      },
    },
    'GET /api/status': { scope: 'read', check: (res) => t.equal(res.json.player, 'mpd') },
    'GET /api/players': { scope: 'read', check: (res) => t.ok(JSON.stringify(res.json).includes('mpd')) },
    'GET /api/volume': { scope: 'read', check: (res) => t.equal(res.json.level, mpcVolume(mpd)) },
    'PUT /api/volume': { scope: 'control', json: { level: 37 }, check: () => t.equal(mpcVolume(mpd), 37, 'mpc sees volume 37') },
    'POST /api/player/play': { scope: 'control', check: () => t.equal(mpcState(mpd), 'playing') },
    'POST /api/player/pause': { scope: 'control', check: () => t.equal(mpcState(mpd), 'paused') },
    'POST /api/player/toggle': { scope: 'control', check: () => t.equal(mpcState(mpd), 'playing') },
    'POST /api/player/stop': { scope: 'control', check: () => t.equal(mpcState(mpd), 'stopped') },
    'POST /api/player/next': {
      scope: 'control',
      setup: () => { mpd.mpc('-q', 'play', '1'); },
      check: () => t.match(mpd.mpc('current', '-f', '%file%'), /b\.flac/, 'the second track'),
    },
    'POST /api/player/previous': { scope: 'control', check: () => t.match(mpd.mpc('current', '-f', '%file%'), /a\.ogg/, 'the first track again') },
    'POST /api/player/seek': {
      scope: 'control',
      json: { position: 12 },
      check: () => t.match(mpd.mpc('status'), /0:1[2-4]\//, 'mpc at 0:12'),
    },
    'POST /api/player/shuffle': { scope: 'control', json: { shuffle: true }, check: (res) => { t.equal(res.json.shuffle, true); t.match(mpd.mpc('status'), /random: on/, 'mpc: random on'); } },
    'POST /api/player/repeat': { scope: 'control', json: { repeat: 'playlist' }, check: (res) => { t.equal(res.json.repeat, 'playlist'); t.match(mpd.mpc('status'), /repeat: on\s+random: \w+\s+single: off/, 'mpc: repeat on, single off'); } },
    // open: the route's minimum is control; the default policy (server.openScope) wants admin.
    'POST /api/player/open': {
      scope: 'admin',
      json: { uri: streamUrl },
      check: (res) => { t.equal(res.json.uri, streamUrl); t.match(mpd.mpc('current', '-f', '%file%'), /matrix-stream\.ogg/, 'MPD plays the URL'); },
    },
    'GET /api/metadata': { scope: 'read', check: (res) => { t.equal(res.json.player, 'mpd'); t.type(res.json.metadata, 'object'); } },
    'GET /api/queue': { scope: 'read', check: (res) => { t.equal(res.json.player, 'mpd'); t.ok(Array.isArray(res.json.queue) && res.json.queue.length >= 3, 'the queue lists MPD\'s tracks'); } },
    'GET /api/mqtt': { scope: 'admin', check: (res) => t.same(res.json, { enabled: false }, 'no broker configured here') },
    'GET /api/media/browse': { scope: 'read', path: '/api/media/browse?folder=music', check: (res) => t.ok(JSON.stringify(res.json).includes('c.mp3')) },
    'POST /api/media/play': { scope: 'control', json: { folder: 'music', path: 'c.mp3' }, check: () => t.match(mpd.mpc('current', '-f', '%file%'), /c\.mp3/) },
    'GET /api/scripts': { scope: 'read', check: (res) => t.ok(JSON.stringify(res.json).includes('hello')) },
    'POST /api/scripts/{name}/run': { scope: 'read', path: '/api/scripts/hello/run', check: (res) => t.match(JSON.stringify(res.json), /hello/) },
    'GET /api/tokens': { scope: 'admin', check: (res) => t.ok(res.json.some((x) => x.id === tok.read.id)) },
    'POST /api/tokens': {
      scope: 'admin',
      json: { label: 'made-by-api', scope: 'read' },
      check: async (res) => {
        const w = await api(srv, 'GET', '/api/auth/whoami', { token: res.json.token });
        t.equal(w.json.label, 'made-by-api', 'the new token works');
      },
    },
    'DELETE /api/tokens/{idOrLabel}': {
      scope: 'admin',
      setup: async () => ({ target: await spare('doomed', 'read') }),
      path: (ctx) => `/api/tokens/${ctx.target.id}`,
      check: async (_res, ctx) => t.equal((await api(srv, 'GET', '/api/auth/whoami', { token: ctx.target.token })).status, 401, 'revoked'),
    },
    'POST /api/tokens/{id}/rotate': {
      scope: 'admin',
      setup: async () => ({ target: await spare('rotated', 'read') }),
      path: (ctx) => `/api/tokens/${ctx.target.id}/rotate`,
      check: async (res, ctx) => {
        t.equal((await api(srv, 'GET', '/api/auth/whoami', { token: ctx.target.token })).status, 401, 'the old secret is dead');
        t.equal((await api(srv, 'GET', '/api/auth/whoami', { token: res.json.token })).status, 200, 'the new one works');
      },
    },
    'GET /api/invites': { scope: 'admin', check: (res) => t.ok(res.json.some((x) => x.id === inv.id)) },
    'POST /api/invites': {
      scope: 'admin',
      json: { label: 'tablet', scope: 'read' },
      check: async (res) => {
        const list = JSON.parse((await runCli(['invite', 'list', '--json'], { env })).stdout);
        t.ok(list.some((x) => x.id === res.json.id), 'the CLI lists it');
      },
    },
    'DELETE /api/invites/{id}': {
      scope: 'admin',
      setup: async () => ({ target: await spareInvite('gone') }),
      path: (ctx) => `/api/invites/${ctx.target.id}`,
      check: async (_res, ctx) => {
        const red = await api(srv, 'POST', '/api/auth/redeem', { json: { code: ctx.target.code }, from: '127.0.0.252' });
        t.equal(red.status, 401, 'a revoked invite does not redeem');
      },
    },
    'POST /api/invites/{id}/rotate': {
      scope: 'admin',
      setup: async () => ({ target: await spareInvite('rotating') }),
      path: (ctx) => `/api/invites/${ctx.target.id}/rotate`,
      check: (res, ctx) => t.not(res.json.code, ctx.target.code, 'a new code'),
    },
    'GET /api/audit': { scope: 'admin', check: (res) => t.ok(res.json.some((e) => e.action === 'server.start')) },
    'GET /api/audit/verify': { scope: 'admin', check: (res) => t.equal(res.json.ok, true) },
  };

  const routes = routeTable().filter((x) => x.scope !== 'public');
  t.same(routes.map((x) => `${x.method} ${x.path}`).sort(), Object.keys(specs).sort(), 'a case for every non-public route (a new route needs one here)');
  const fill = (path) => path.replace(/\{[^}]+\}/g, 'x_1');
  let n = 0;
  for (const route of routes) {
    const what = `${route.method} ${route.path}`;
    const spec = specs[what];
    const from = `127.0.1.${++n}`;
    const path = fill(route.path);
    // Denied, with the state of the token as the only thing wrong.
    for (const [kind, secret, code] of [['revoked', revoked.token, 'auth.token_revoked'], ['expired', expired.token, 'auth.token_expired'], ['pairing', pairing, 'auth.invalid_token']]) {
      r = await api(srv, route.method, path, { token: secret, json: {}, from });
      t.equal(r.status, 401, `${what} with a ${kind} token → 401`);
      t.equal(r.json?.error?.code, code, `${what} ${kind}: ${code}`);
      t.ok(r.json?.error?.requestId, 'with a request id');
    }
    // Allowed, from the same address.
    const ctx = (await spec.setup?.()) ?? {};
    const token = ctx.token ?? tok[spec.scope];
    const realPath = typeof spec.path === 'function' ? spec.path(ctx) : spec.path ?? route.path;
    const res = await api(srv, route.method, realPath, { token: token.token, from, ...(spec.json || route.method !== 'GET' ? { json: spec.json ?? {} } : {}) });
    t.ok(res.status >= 200 && res.status < 300, `${what} with a ${spec.scope} token → ${res.status} ${res.json?.error?.code ?? ''}`);
    if (res.status < 300) await spec.check(res, ctx);
  }

  // Every one of those denials is in the audit log, under its own address, with a request id.
  const failures = (await auditEvents(env, ['--action', 'auth.failure'])).filter((e) => e.ip.startsWith('127.0.1.'));
  t.equal(failures.length, routes.length * 3, `${failures.length} auth failures recorded`);
  for (let i = 1; i <= routes.length; i++) t.equal(failures.filter((e) => e.ip === `127.0.1.${i}`).length, 3, `127.0.1.${i}: three`);
  t.ok(failures.every((e) => e.requestId), 'each with a request id');
  t.notOk(JSON.stringify(failures).includes(pairing.slice(4, 24)), 'no pairing token in the audit log');
  t.equal((await srv.stop()).code, 0);
});
