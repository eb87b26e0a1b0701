// The API contract (issue 15): every route carries request and answer
// schemas; the OpenAPI 3.1 document generated from them is valid (checked by
// @seriousme/openapi-schema-validator against the official 3.1 schema); a
// route without them cannot be served or documented; the document is public
// at GET /api/openapi.json (and the WebSocket message schemas beside it) and
// reveals nothing but the route list; the request checks come from the same
// schemas; and the answer checks that test/helpers/serve.js runs on every
// answer do catch an answer the document does not describe.
import t from 'tap';
import { hostname } from 'node:os';
import { ROUTES } from '../dist/server/routes/index.js';
import { compileContracts } from '../dist/server/contract/validate.js';
import { openApiDocument } from '../dist/server/contract/openapi.js';
import { wsMessagesDocument } from '../dist/server/contract/ws-messages.js';
import { checkAnswer, contract } from './helpers/openapi.js';
import { api, cliToken, serveEnv, startServe } from './helpers/serve.js';
import { tempDir } from './helpers/proc.js';
import { launchBrowser, needChromium, phonePage } from './helpers/browser.js';
import { createServer } from 'node:http';

const json = { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r1' };
const errorText = (code) => JSON.stringify({ error: { code, message: 'm', requestId: 'r1' } });

t.test('the document is valid OpenAPI 3.1 and lists every route with its schemas', async (t) => {
  const { document, validity } = await contract();
  t.same(validity, { valid: true }, 'valid against the OpenAPI 3.1 schema');
  t.equal(document.openapi, '3.1.0');
  for (const r of ROUTES) {
    const op = document.paths[r.path]?.[r.method.toLowerCase()];
    t.ok(op, `${r.method} ${r.path} is documented`);
    if (!op) continue;
    t.ok(op.summary, `${r.method} ${r.path} has a summary`);
    t.ok(Object.keys(op.responses).some((s) => Number(s) < 400), `${r.method} ${r.path}: a success answer`);
    t.ok(Object.keys(op.responses).some((s) => Number(s) >= 400), `${r.method} ${r.path}: its errors`);
    for (const [status, resp] of Object.entries(op.responses)) {
      if (Number(status) >= 400) t.same(resp.content['application/json'].schema, { $ref: '#/components/schemas/Error' }, `${r.method} ${r.path} ${status}: the Error shape`);
    }
    t.equal(op['x-mediagate-scope'], r.scope);
    t.same(op.security, r.scope === 'public' ? [] : [{ bearer: [] }, { cookie: [] }]);
    if (r.method !== 'GET') t.ok(op.requestBody || !r.contract.request?.body, `${r.method} ${r.path}: the body, when it takes one`);
  }
  t.equal(Object.values(document.paths).reduce((n, ops) => n + Object.keys(ops).length, 0), ROUTES.length, 'nothing but the routes');
  t.same(new Set(Object.values(document.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId))).size, ROUTES.length, 'operation ids are unique');
});

t.test('a route without schemas cannot be served or documented', async (t) => {
  const bare = { method: 'GET', path: '/api/forgotten', scope: 'read', handler: () => 1 };
  t.throws(() => compileContracts([...ROUTES, bare]), /GET \/api\/forgotten: every route needs a contract/, 'serve refuses to start');
  t.throws(() => openApiDocument([...ROUTES, bare]), /GET \/api\/forgotten: every route needs a contract/, 'the document cannot be written');
  const noAnswers = { ...bare, contract: { summary: 'x', answers: {} } };
  t.throws(() => compileContracts([noAnswers]), /needs a contract/, 'a contract without answers is none');
  const unknownAnswer = { ...bare, contract: { summary: 'x', answers: { 200: { json: 'Nonexistent' } } } };
  t.throws(() => openApiDocument([unknownAnswer]), /'Nonexistent' is not in contract\/answers\.ts/);
  const badSchema = { ...bare, method: 'POST', contract: { summary: 'x', request: { body: { schema: { type: 'object', properties: { a: { type: 'strng' } } } } }, answers: { 200: { json: 'Health' } } } };
  t.throws(() => compileContracts([badSchema]), /POST \/api\/forgotten body: invalid schema/, 'a schema that does not compile');
  const wrongParam = { ...bare, contract: { summary: 'x', request: { params: { id: { type: 'string' } } }, answers: { 200: { json: 'Health' } } } };
  t.throws(() => compileContracts([wrongParam]), /no path parameter \{id\}/);
  t.doesNotThrow(() => compileContracts(ROUTES));
});

t.test('the answer check catches what the document does not describe', async (t) => {
  t.equal(await checkAnswer({ method: 'GET', path: '/api/health', status: 200, headers: json, text: '{"ok":true}' }), 'getHealth', 'a described answer passes');
  await t.rejects(checkAnswer({ method: 'GET', path: '/api/health', status: 200, headers: json, text: '{"ok":true,"version":"0.1.0"}' }), /additional properties/, 'an extra field');
  await t.rejects(checkAnswer({ method: 'GET', path: '/api/volume', status: 200, headers: json, text: '{"level":"40","muted":false,"target":"system","backend":"pulse"}' }), /level must be integer/, 'a wrong type');
  await t.rejects(checkAnswer({ method: 'GET', path: '/api/health', status: 418, headers: json, text: errorText('x.y') }), /status 418 is not documented/, 'an undocumented status');
  await t.rejects(checkAnswer({ method: 'GET', path: '/api/status', status: 401, headers: json, text: '{"message":"no"}' }), /error/, 'an error that is not the Error shape');
  await t.rejects(checkAnswer({ method: 'GET', path: '/api/health', status: 200, headers: { 'content-type': 'application/json' }, text: '{"ok":true}' }), /X-Request-ID/, 'no request id');
  await t.rejects(checkAnswer({ method: 'GET', path: '/', status: 200, headers: json, text: '{}' }), /text\/html/, 'the wrong media type');
  await t.rejects(checkAnswer({ method: 'GET', path: '/api/nowhere', status: 200, headers: json, text: '{}' }), /matches no operation/, 'a success off the route table');
  t.equal(await checkAnswer({ method: 'GET', path: '/api/nowhere', status: 404, headers: json, text: errorText('route.not_found') }), null, 'a 404 off the table is an error');
  t.equal(await checkAnswer({ method: 'DELETE', path: '/api/tokens/tok_1', status: 404, headers: json, text: errorText('token.not_found') }), 'deleteTokensIdOrLabel', 'path templates match');
});

t.test('a twin serve answering off the contract fails the tests that reach it (api() and the browser pages)', async (t) => {
  // A stand-in for serve whose handlers answer one field too many, an undocumented status, and a bare error.
  const answers = {
    '/api/health': [200, '{"ok":true,"uptime":12}'],
    '/api/status': [418, errorText('x.teapot')],
    '/api/volume': [401, '{"message":"no"}'],
    '/api/auth/whoami': [200, '{"id":"tok_1","label":"a","scope":"read","expiresAt":null}'],
  };
  const twin = createServer((req, res) => {
    const [status, body] = answers[new URL(req.url, 'http://x').pathname] ?? [404, errorText('route.not_found')];
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'twin-1' }).end(body);
  });
  await new Promise((resolve) => twin.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => { twin.closeAllConnections(); twin.close(() => resolve()); }));
  const url = `http://127.0.0.1:${twin.address().port}`;
  await t.rejects(api(url, 'GET', '/api/health'), /additional properties/, 'api(): an extra field fails the request');
  await t.rejects(api(url, 'GET', '/api/status'), /status 418 is not documented/, 'api(): an undocumented status');
  await t.rejects(api(url, 'GET', '/api/volume'), /error/, 'api(): an error that is not the Error shape');
  t.equal((await api(url, 'GET', '/api/nowhere')).status, 404, 'a described error passes');
  if (!needChromium(t)) return;
  const browser = await launchBrowser(t);
  const { page, problems, settled } = await phonePage(browser);
  // (Each answer checked before the next navigation: a page gone takes its unread body with it.)
  await page.goto(`${url}/api/health`);
  await settled();
  await page.goto(`${url}/api/nowhere`);
  await settled();
  const contract = problems.filter((p) => p.startsWith('contract:'));
  t.equal(contract.length, 1, 'the browser page: one answer off the contract…');
  t.match(contract[0], /GET \/api\/health → 200: .*additional properties/, '…the extra field, named');
});

t.test('GET /api/openapi.json: public, and nothing in it but the API', async (t) => {
  const music = tempDir(t, 'mg-secret-music-');
  const { env, configDir, stateDir } = await serveEnv(t, {}, {
    'server.rateLimit.rps': 0, 'server.publicUrl': 'https://very-private-host.example.org/hidden-prefix',
    'media.folders.privatefolder': music, 'mpd.host': 'mpd-secret-host.example',
  });
  const admin = await cliToken(env, 'owner-label-xyz', 'admin');
  const srv = await startServe(t, env);

  // Allowed: anyone, no token; the served document is the generated one.
  let r = await api(srv, 'GET', '/api/openapi.json');
  t.equal(r.status, 200, 'no token needed');
  t.match(r.headers['content-type'], /^application\/json/);
  t.equal(r.headers['cache-control'], 'no-store');
  t.same(r.json, openApiDocument(ROUTES), 'the document generated from the route table');
  const ws = await api(srv, 'GET', '/api/ws-messages.json');
  t.equal(ws.status, 200);
  t.same(ws.json, wsMessagesDocument(), 'the WebSocket message schemas, public too');
  const withToken = await api(srv, 'GET', '/api/openapi.json', { token: admin.token });
  t.equal(withToken.text, r.text, 'the same for an admin: nothing more for a token');

  // Denied: nothing about this server — no version, config, names, addresses or paths.
  const pkg = JSON.parse((await import('node:fs')).readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  for (const text of [r.text, ws.text]) {
    for (const secret of ['very-private-host', 'hidden-prefix', 'privatefolder', music, 'mpd-secret-host', 'owner-label-xyz', admin.id,
      configDir, stateDir, '/tmp/', '/work/', hostname(), String(srv.port), `"${pkg.version}"`, 'Node.js', process.versions.node, process.version]) {
      t.notOk(text.includes(secret), `does not reveal ${secret.length > 40 ? `${secret.slice(0, 40)}…` : secret}`);
    }
  }
  t.equal(r.json.info.version, '1', 'info.version is the API\'s version, not the software\'s');
  t.same(r.json.servers, [{ url: '..', description: r.json.servers[0].description }], 'servers relative to the document: no address');

  // Denied: it is read-only and takes no token in the URL.
  for (const method of ['POST', 'PUT', 'DELETE']) {
    r = await api(srv, method, '/api/openapi.json', { json: {} });
    t.equal(r.status, 405, `${method}: 405`);
    t.equal(r.headers.allow, 'GET, HEAD');
  }
  r = await api(srv, 'HEAD', '/api/openapi.json');
  t.equal(r.status, 200, 'HEAD');
});

t.test('request checks come from the schemas: the field, its rule, and the message', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const admin = await cliToken(env, 'owner', 'admin');
  const srv = await startServe(t, env);
  const cases = [
    ['PUT', '/api/volume', { level: 150 }, 422, 'usage.invalid_field', "invalid field 'level': must be a whole number from 0 to 100"],
    ['PUT', '/api/volume', { level: 10, change: 5 }, 422, 'usage.invalid_volume', 'give level or change, not both'],
    ['PUT', '/api/volume', {}, 422, 'usage.invalid_volume', /^nothing to change/],
    ['PUT', '/api/volume', { muted: 'yes' }, 422, 'usage.invalid_field', "invalid field 'muted': must be true or false"],
    ['PUT', '/api/volume', { muted: true, target: 'speakers' }, 422, 'usage.invalid_target', "invalid field 'target': must be one of: system, player"],
    ['POST', '/api/player/seek', { position: 10, percent: 5 }, 422, 'usage.invalid_seek', /^give exactly one of position/],
    ['POST', '/api/player/seek', { offset: -2e7 }, 422, 'usage.invalid_field', "invalid field 'offset': must be a number from −10000000 to 10000000"],
    ['POST', '/api/player/shuffle', { shuffle: 'yes' }, 422, 'usage.invalid_field', "invalid field 'shuffle': must be true, false or \"toggle\""],
    ['POST', '/api/player/shuffle', {}, 422, 'usage.invalid_field', "missing field 'shuffle'"],
    ['POST', '/api/player/repeat', { repeat: 'all' }, 422, 'usage.invalid_field', "invalid field 'repeat': must be \"off\", \"track\", \"playlist\" or \"toggle\""],
    ['POST', '/api/player/open', { uri: 42 }, 422, 'usage.invalid_uri', "invalid field 'uri': must be a URI of 1–4096 characters"],
    ['POST', '/api/player/pause', { ignore: 'mpv' }, 422, 'usage.invalid_field', "invalid field 'ignore': must be a list of at most 32 player names (1–256 printable characters each)"],
    ['POST', '/api/player/pause', { ignore: ['mpv', ' '] }, 422, 'usage.invalid_field', /^invalid field 'ignore'/],
    ['GET', '/api/players?ignore=mpv,,vlc', undefined, 422, 'usage.invalid_field', "invalid query parameter 'ignore': must be at most 32 comma-separated player names (1–256 printable characters each)"],
    ['GET', `/api/players?ignore=${Array.from({ length: 33 }, (_, i) => `p${i}`).join(',')}`, undefined, 422, 'usage.invalid_field', /^invalid query parameter 'ignore': at most 32/],
    ['POST', '/api/tokens', { scope: 'read' }, 422, 'usage.invalid_field', "missing field 'label'"],
    ['POST', '/api/tokens', { label: 'x'.repeat(257), scope: 'read' }, 422, 'usage.invalid_field', "invalid field 'label': must be a non-empty string of at most 256 characters"],
    ['POST', '/api/invites', { label: 'p', scope: 'read', uses: 1.5 }, 422, 'usage.invalid_field', "invalid field 'uses': must be a whole number from 1 to 100"],
    ['GET', '/api/audit?limit=0', undefined, 422, 'usage.invalid_field', "invalid query parameter 'limit': must be a whole number from 1 to 10000"],
    ['GET', '/api/audit?outcome=maybe', undefined, 422, 'usage.invalid_field', "invalid query parameter 'outcome': must be one of: ok, denied, error"],
    ['GET', '/api/audit?limit=1&limit=2', undefined, 422, 'usage.invalid_field', "query parameter 'limit' is given more than once"],
    ['GET', '/api/tokens?all=perhaps', undefined, 422, 'usage.invalid_field', "invalid query parameter 'all': must be empty, 1, true, 0 or false"],
  ];
  for (const [method, path, body, status, code, message] of cases) {
    const r = await api(srv, method, path, { token: admin.token, ...(body ? { json: body } : {}) });
    t.equal(r.status, status, `${method} ${path} ${JSON.stringify(body ?? '')}: ${status}`);
    t.equal(r.json.error.code, code);
    if (typeof message === 'string') t.equal(r.json.error.message, message); else t.match(r.json.error.message, message);
  }
  const hint = await api(srv, 'GET', '/api/audit?outcome=maybe', { token: admin.token });
  t.equal(hint.json.error.hint, 'use ok, denied or error', 'the field\'s hint from its schema');
  // What the schema allows passes: null is "not given", flags and integers arrive as text.
  const ok = await api(srv, 'GET', '/api/audit?limit=2&outcome=ok', { token: admin.token });
  t.equal(ok.status, 200);
  t.ok(ok.json.length <= 2);
  t.equal((await api(srv, 'GET', '/api/tokens?all', { token: admin.token })).status, 200);
  const ignored = await api(srv, 'GET', '/api/players?ignore=mpd,vlc.instance2', { token: admin.token });
  t.equal(ignored.status, 200, 'an ignore list of names passes: ' + JSON.stringify(ignored.json));
  t.not((await api(srv, 'POST', '/api/player/pause', { token: admin.token, json: { ignore: ['mpd'] } })).status, 422, 'an ignore list in a body passes its check');
  t.equal((await api(srv, 'POST', '/api/tokens', { token: admin.token, json: { label: 'n', scope: 'read', expiresIn: null } })).status, 200, 'null is not given');
});

t.test('the WebSocket message schemas and the protocol parser agree', async (t) => {
  const { parseEnvelope, parseCommand } = await import('../dist/server/ws-protocol.js');
  const { checkWsMessage } = await import('./helpers/openapi.js');
  const parses = (m) => {
    try {
      const env = parseEnvelope(typeof m === 'string' ? m : JSON.stringify(m));
      if (env.type === 'command') parseCommand(env);
      return true;
    } catch { return false; }
  };
  const fits = (m) => { try { checkWsMessage('client', m); return true; } catch { return false; } };
  const accepted = [
    { type: 'subscribe' }, { type: 'subscribe', id: 1, player: 'mpd' }, { type: 'subscribe', id: null, topic: null },
    { type: 'subscribe', topic: 'audit', backlog: 0, filter: { outcome: 'ok', since: '1h' } }, { type: 'unsubscribe', topic: 'audit' },
    { type: 'command', action: 'pause' }, { type: 'command', id: 'a', action: 'next', args: { player: 'mpv' } },
    { type: 'command', action: 'seek', args: { offset: -10 } }, { type: 'command', action: 'seek', args: { percent: 50, player: null } },
    { type: 'command', action: 'volume', args: { toggleMute: true, target: 'system' } }, { type: 'command', action: 'volume', args: { change: -100 } },
    { type: 'command', action: 'shuffle', args: { shuffle: 'toggle' } }, { type: 'command', id: 2, action: 'shuffle', args: { shuffle: false, player: 'mpd' } },
    { type: 'command', action: 'repeat', args: { repeat: 'playlist' } }, { type: 'command', action: 'open', args: { uri: 'https://example.test/a.ogg' } },
  ];
  const refused = [
    {}, [], 'text', { type: 'dance' }, { type: 'subscribe', lvl: 1 }, { type: 'subscribe', topic: 'x' }, { type: 'subscribe', id: {} }, { type: 'subscribe', id: '' },
    { type: 'subscribe', topic: 'audit', backlog: 10001 }, { type: 'subscribe', topic: 'audit', filter: { outcome: 'maybe' } }, { type: 'subscribe', player: '   ' },
    { type: 'command' }, { type: 'command', action: 'fly' }, { type: 'command', action: 'pause', args: 5 }, { type: 'command', action: 'pause', args: { bogus: 1 } },
    { type: 'command', action: 'pause', args: { player: '' } }, { type: 'command', action: 'seek', args: {} }, { type: 'command', action: 'seek', args: { position: -1 } },
    { type: 'command', action: 'seek', args: { position: 1, offset: 1 } }, { type: 'command', action: 'seek', args: { offset: 86401 } },
    { type: 'command', action: 'volume', args: { level: 150 } }, { type: 'command', action: 'volume', args: { level: 1.5 } },
    { type: 'command', action: 'volume', args: { toggleMute: false } }, { type: 'command', action: 'volume', args: { level: 1, muted: true } },
    { type: 'command', action: 'volume', args: { muted: true, target: 'speakers' } },
    { type: 'command', action: 'shuffle' }, { type: 'command', action: 'shuffle', args: { shuffle: 'yes' } }, { type: 'command', action: 'shuffle', args: { shuffle: true, repeat: 'off' } },
    { type: 'command', action: 'repeat', args: { repeat: 'all' } }, { type: 'command', action: 'open', args: {} }, { type: 'command', action: 'open', args: { uri: '  ' } },
    { type: 'command', action: 'open', args: { uri: 'https://a.test/\nx' } }, { type: 'command', action: 'open', args: { uri: 'x'.repeat(4097) } },
  ];
  for (const m of accepted) t.ok(parses(m) && fits(m), `accepted by both: ${JSON.stringify(m)}`);
  for (const m of refused) t.ok(!parses(m) && !fits(m), `refused by both: ${JSON.stringify(m)}`);
});
