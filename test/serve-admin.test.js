// Admin API of a real `mediagate serve`: token and invite CRUD with the
// CLI's JSON shapes, the audit log (every change and denial, verify passes),
// the first-start admin token (printed once, stored only as a hash, never
// logged), scripts with their own scope, and graceful shutdown.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { runCli } from './helpers/cli.js';
import { api, auditEvents, cliToken, filesUnder, serveEnv, startServe } from './helpers/serve.js';

const keys = (o) => Object.keys(o).sort();

t.test('first start prints an admin token once; it is stored only as a hash and never logged', async (t) => {
  const { env, configDir, stateDir } = await serveEnv(t);
  const s1 = await startServe(t, env);
  const token = s1.adminToken;
  t.match(token, /^mg_[A-Za-z0-9_-]{43}$/, 'printed on stderr');
  t.match(s1.err(), /admin \(first start\)/);
  t.match(s1.err(), new RegExp(`curl -H "Authorization: Bearer ${token}" ${s1.url}/api/status`), 'with how to use it');
  t.match(s1.err(), /mediagate remote add/);
  t.equal(s1.out().includes(token), false, 'not on stdout');
  let r = await api(s1, 'GET', '/api/auth/whoami', { token });
  t.same({ label: r.json.label, scope: r.json.scope }, { label: 'admin (first start)', scope: 'admin' });
  r = await api(s1, 'GET', `/api/tokens?x=${token.slice(0, 10)}`, { token });
  t.equal(r.status, 200);
  t.equal((await s1.stop()).code, 0);
  t.match(s1.out(), /GET \/api\/auth\/whoami 200 [\d.]+ms rid=\S+ actor="admin \(first start\)"/, 'request log line');
  t.notMatch(s1.out(), /\?x=|mg_/, 'no query string and no token in the request log');
  for (const f of [...filesUnder(configDir), ...filesUnder(stateDir)]) {
    t.notOk(f.text.includes(token), `${f.path.slice(f.path.lastIndexOf('/') + 1)} does not hold the token`);
    t.notOk(f.text.includes(token.slice(3, 30)), `nor a piece of it`);
  }
  t.ok(filesUnder(stateDir).some((f) => f.path.endsWith('tokens.json') && /"hash": ?"[0-9a-f]{64}"/.test(f.text)), 'tokens.json holds its hash');

  const s2 = await startServe(t, env);
  t.notMatch(s2.err(), /mg_|first start/, 'the second start prints nothing about it');
  t.equal((await s2.stop()).code, 0);
  // Even with every admin token revoked, no new one is minted silently.
  await runCli(['token', 'revoke', 'admin (first start)'], { env });
  const s3 = await startServe(t, env);
  t.notMatch(s3.err(), /mg_/, 'no new token after the owner revoked it');
  t.match(s3.err(), /no admin token is active/);
});

t.test('tokens and invites over the API: the CLI JSON shapes, audited, verify passes', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const admin = await cliToken(env, 'boss', 'admin');
  const reader = await cliToken(env, 'reader', 'read');
  const srv = await startServe(t, env, { args: ['--public-url', 'https://media.example.net'] });
  const tok = admin.token;

  const viaCli = JSON.parse((await runCli(['token', 'create', '--label', 'cli-made', '--scope', 'read', '--json'], { env })).stdout);
  let r = await api(srv, 'POST', '/api/tokens', { token: tok, json: { label: 'kitchen', scope: 'control', expiresIn: '30d' } });
  t.equal(r.status, 200, r.text);
  t.same(keys(r.json), keys(viaCli), 'POST /api/tokens answers what `token create --json` prints');
  t.equal(r.json.scope, 'control');
  t.ok(Date.parse(r.json.expiresAt) > Date.now() + 29 * 86_400_000);
  const kitchen = r.json;
  t.equal((await api(srv, 'GET', '/api/auth/whoami', { token: kitchen.token })).json.label, 'kitchen', 'the new token works');

  r = await api(srv, 'GET', '/api/tokens', { token: tok });
  const cliList = JSON.parse((await runCli(['token', 'list', '--json'], { env })).stdout);
  t.same(r.json.map((x) => x.id).sort(), cliList.map((x) => x.id).sort(), 'the same tokens as `token list`');
  t.same(keys(r.json[0]), keys(cliList[0]), 'with the same fields');
  t.notMatch(r.text, /mg_|hash/, 'no secret or hash in the list');

  r = await api(srv, 'POST', `/api/tokens/${kitchen.id}/rotate`, { token: tok });
  t.same(keys(r.json), keys(viaCli), 'rotate answers like `token rotate --json`');
  t.equal(r.json.id, kitchen.id);
  t.equal((await api(srv, 'GET', '/api/auth/whoami', { token: kitchen.token })).status, 401, 'the old secret stops working');
  t.equal((await api(srv, 'GET', '/api/auth/whoami', { token: r.json.token })).status, 200, 'the new one works');

  const cliRevoke = JSON.parse((await runCli(['token', 'revoke', viaCli.id, '--json'], { env })).stdout);
  r = await api(srv, 'DELETE', `/api/tokens/${encodeURIComponent('kitchen')}`, { token: tok });
  t.equal(r.status, 200, 'revoke by label');
  t.same(keys(r.json), keys(cliRevoke), 'revoke answers like `token revoke --json`');
  t.equal(r.json.status, 'revoked');
  r = await api(srv, 'DELETE', '/api/tokens/tok_nothere', { token: tok });
  t.equal(r.status, 404);
  t.equal(r.json.error.code, 'token.not_found');
  t.ok(r.json.error.hint, 'with the hint the CLI prints');
  r = await api(srv, 'POST', '/api/tokens', { token: tok, json: { label: 'x', scope: 'root' } });
  t.equal(r.status, 422);
  t.equal(r.json.error.code, 'usage.invalid_scope');

  const cliInvite = JSON.parse((await runCli(['invite', 'create', '--label', 'cli-inv', '--scope', 'read', '--json'], { env })).stdout);
  r = await api(srv, 'POST', '/api/invites', { token: tok, json: { label: 'tablet', scope: 'control', uses: 2, expiresIn: '2h' } });
  t.equal(r.status, 200, r.text);
  t.same(keys(r.json), keys(cliInvite), 'POST /api/invites answers what `invite create --json` prints');
  t.match(r.json.link, /^https:\/\/media\.example\.net\/connect#code=/, 'the link uses --public-url');
  t.equal(r.json.maxUses, 2);
  const tablet = r.json;
  r = await api(srv, 'GET', '/api/invites', { token: tok });
  const cliInvites = JSON.parse((await runCli(['invite', 'list', '--json'], { env })).stdout);
  t.same(r.json.map((x) => x.id).sort(), cliInvites.map((x) => x.id).sort());
  t.same(keys(r.json[0]), keys(cliInvites[0]));
  t.notOk(r.text.includes(tablet.code), 'no code in the list');
  r = await api(srv, 'POST', `/api/invites/${tablet.id}/rotate`, { token: tok });
  t.same(keys(r.json), keys(cliInvite));
  t.not(r.json.code, tablet.code);
  r = await api(srv, 'DELETE', `/api/invites/${tablet.id}`, { token: tok });
  const cliInvRevoke = JSON.parse((await runCli(['invite', 'revoke', cliInvite.id, '--json'], { env })).stdout);
  t.same(keys(r.json), keys(cliInvRevoke), 'invite revoke shape');
  t.equal(r.json.status, 'revoked');

  // Denied: a read token on the admin API.
  r = await api(srv, 'POST', '/api/tokens', { token: reader.token, json: { label: 'sneaky', scope: 'admin' } });
  t.equal(r.status, 403);

  // The audit log over the API, with the CLI's filters and shape.
  r = await api(srv, 'GET', '/api/audit?action=token&limit=50', { token: tok });
  t.equal(r.status, 200);
  const cliAudit = await auditEvents(env, ['--action', 'token', '--limit', '50']);
  t.same(r.json.map((e) => e.seq), cliAudit.map((e) => e.seq), 'same events as `audit --action token --json`');
  const fromApi = r.json.filter((e) => e.actor.id === `token:${admin.id}`);
  t.same(fromApi.map((e) => e.action), ['token.create', 'token.rotate', 'token.revoke', 'token.revoke', 'token.create'], 'API changes audited as the caller');
  t.match(fromApi[4], { outcome: 'error', detail: 'usage.invalid_scope' }, 'the refused create (scope root) too');
  t.ok(fromApi.every((e) => e.ip === '127.0.0.1' && e.requestId && e.actor.label === 'boss'), 'with address, request id and label');
  r = await api(srv, 'GET', '/api/audit?outcome=denied', { token: tok });
  t.ok(r.json.some((e) => e.action === 'auth.forbidden' && e.actor.id === `token:${reader.id}`), 'the 403 is there');
  r = await api(srv, 'GET', '/api/audit?since=nonsense', { token: tok });
  t.equal(r.status, 422);
  r = await api(srv, 'GET', '/api/audit/verify', { token: tok });
  t.equal(r.json.ok, true, 'GET /api/audit/verify');
  t.notMatch(r.text, /\/tmp\//, 'file names, not paths');
  const invEvents = (await auditEvents(env, ['--action', 'invite'])).filter((e) => e.actor.id === `token:${admin.id}`);
  t.same(invEvents.map((e) => e.action), ['invite.create', 'invite.rotate', 'invite.revoke']);
  t.notOk(JSON.stringify(await auditEvents(env)).includes(tablet.code), 'no invite code in the audit log');

  t.equal((await srv.stop()).code, 0);
  const v = await runCli(['audit', 'verify'], { env });
  t.equal(v.code, 0, v.stderr);
  const all = await auditEvents(env);
  t.equal(all.at(-1).action, 'server.stop', 'shutdown recorded last');
});

t.test('scripts: listed and run by their own scope, parameters checked, 10 runs a minute', async (t) => {
  const { env, configDir } = await serveEnv(t, {}, {});
  writeFileSync(join(configDir, 'config.json'), JSON.stringify({
    server: { rateLimit: { rps: 0 } },
    scripts: {
      hello: { command: ['/bin/echo', 'hello', '{who}'], params: { who: { pattern: '[a-z]{1,10}', required: true } }, scope: 'control', description: 'say hello' },
      secret: { command: ['/bin/true'] },
    },
  }), { mode: 0o600 });
  const read = await cliToken(env, 'r', 'read');
  const control = await cliToken(env, 'c', 'control');
  const admin = await cliToken(env, 'a', 'admin');
  const srv = await startServe(t, env);
  let r = await api(srv, 'GET', '/api/scripts', { token: read.token });
  t.same(r.json, [], 'a read token sees no script it cannot run');
  r = await api(srv, 'GET', '/api/scripts', { token: control.token });
  t.same(r.json.map((s) => s.name), ['hello']);
  t.notMatch(r.text, /\/bin\/echo/, 'never the command');
  r = await api(srv, 'GET', '/api/scripts', { token: admin.token });
  t.same(r.json.map((s) => s.name).sort(), ['hello', 'secret']);

  r = await api(srv, 'POST', '/api/scripts/hello/run', { token: read.token, json: { params: { who: 'bob' } } });
  t.equal(r.status, 403, "read token: the script's own scope (control) is checked");
  r = await api(srv, 'POST', '/api/scripts/secret/run', { token: control.token });
  t.equal(r.status, 403, 'default script scope is admin');
  r = await api(srv, 'POST', '/api/scripts/hello/run', { token: control.token, json: { params: { who: 'bob; rm -rf /' } } });
  t.equal(r.status, 422, 'a parameter that does not match its pattern');
  r = await api(srv, 'POST', '/api/scripts/hello/run', { token: control.token, json: { params: { who: 'bob' } } });
  t.equal(r.status, 200, r.text);
  t.equal(r.json.stdout, 'hello bob\n');
  t.equal(r.json.exitCode, 0);
  r = await api(srv, 'POST', '/api/scripts/nope/run', { token: admin.token });
  t.equal(r.status, 404);
  // 10 runs a minute per token (the refused ones above counted too).
  const codes = [];
  for (let i = 0; i < 8; i++) codes.push((await api(srv, 'POST', '/api/scripts/hello/run', { token: control.token, json: { params: { who: 'x' } } })).status);
  t.equal(codes.filter((c) => c === 429).length >= 1, true, `runs past 10 a minute → 429 (${codes.join(' ')})`);
  const runs = await auditEvents(env, ['--action', 'script.run']);
  t.ok(runs.some((e) => e.outcome === 'ok' && e.actor.id === `token:${control.id}` && e.ip && e.requestId), 'runs audited as the caller');
  t.ok(runs.some((e) => e.outcome === 'denied' && e.actor.id === `token:${read.id}`), 'refusals too');
});

t.test('scripts over the API: 422 naming the parameter, timeout and truncation, 429 with Retry-After — every refusal audited as script.run', async (t) => {
  const { env, configDir } = await serveEnv(t, {}, {});
  writeFileSync(join(configDir, 'config.json'), JSON.stringify({
    server: { rateLimit: { rps: 0 } },
    scripts: {
      hello: { command: ['/bin/echo', 'hello', '{who}'], params: { who: { pattern: '[a-z]{1,10}', required: true } }, scope: 'control' },
      slow: { command: ['sleep', '30'], timeout: 1, scope: 'control' },
      big: { command: ['sh', '-c', "head -c 5000 /dev/zero | tr '\\0' b"], maxOutput: 100, scope: 'control' },
    },
  }), { mode: 0o600 });
  const control = await cliToken(env, 'c', 'control');
  const other = await cliToken(env, 'o', 'control');
  const srv = await startServe(t, env);
  const run = (name, json, token = control.token) => api(srv, 'POST', `/api/scripts/${name}/run`, { token, json });

  let r = await run('hello', { params: { who: 'bob; rm -rf /' } });
  t.equal(r.status, 422);
  t.equal(r.json.error.code, 'script.invalid_param');
  t.match(r.json.error.message, /parameter 'who' of script 'hello' does not match its pattern/, 'names the parameter');
  t.match(r.json.error.hint, /\[a-z\]\{1,10\}/, 'and says the pattern');
  r = await run('hello', { params: { who: 'bob', bogus: 'x' } });
  t.equal(r.status, 422, 'an undeclared parameter');
  t.equal(r.json.error.code, 'script.unknown_param');
  t.match(r.json.error.message, /script 'hello' has no parameter 'bogus'/);
  r = await run('hello', {});
  t.equal(r.status, 422, 'a required parameter missing');
  t.equal(r.json.error.code, 'script.missing_param');
  t.match(r.json.error.message, /needs parameter 'who'/);
  r = await api(srv, 'POST', '/api/scripts/hello/run', { token: control.token, body: '{"params": {"who": "bob"', headers: { 'content-type': 'application/json' } });
  t.equal(r.status, 400, 'a body that is not JSON');
  t.equal(r.json.error.code, 'request.invalid_json');
  for (const params of ['who=bob', ['bob'], null, 5]) {
    r = await run('hello', { params });
    t.equal(r.status, 422, `params ${JSON.stringify(params)}: 422`);
    t.equal(r.json.error.code, 'script.invalid_param');
  }

  r = await run('slow');
  t.equal(r.status, 200, 'a timed-out run is a result, not an error');
  t.match(r.json, { script: 'slow', timedOut: true, exitCode: null, signal: 'SIGTERM' });
  r = await run('big');
  t.equal(r.status, 200);
  t.match(r.json, { script: 'big', truncated: true, exitCode: 0 });
  t.equal(r.json.stdout, 'b'.repeat(100), 'cut at maxOutput');
  // 5 runs so far for `control` (a body its contract refuses — the 4 bad params — is refused
  // before the limiter and spends none); five more are allowed, then 429.
  for (let i = 6; i <= 10; i++) {
    r = await run('hello', { params: { who: 'ten' } });
    t.equal(r.status, 200, `run ${i}: ${r.text}`);
  }
  r = await run('hello', { params: { who: 'eleven', note: 'n'.repeat(300) } });
  t.equal(r.status, 429);
  t.equal(r.json.error.code, 'rate_limit.exceeded');
  const retry = Number(r.headers['retry-after']);
  t.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After: ${r.headers['retry-after']}`);
  t.equal((await run('hello', { params: { who: 'other' } }, other.token)).status, 200, 'the limit is per token');

  const runs = await auditEvents(env, ['--action', 'script.run']);
  const mine = runs.filter((e) => e.actor.id === `token:${control.id}`);
  const denied = mine.filter((e) => e.outcome === 'denied');
  t.equal(denied.length, 9, 'each refusal is one script.run entry (3 parameter errors, the broken body, 4 bad params, the 429)');
  t.ok(denied.some((e) => /^refused \(request\.invalid_json\): .*; params: \(body not read\)$/.test(e.detail)), 'the unreadable body too');
  t.ok(mine.every((e) => e.ip && e.requestId), 'with address and request id');
  const all429 = runs.filter((e) => e.action === 'script.run' && /rate_limit\.exceeded/.test(e.detail));
  t.equal(all429.length, 1, 'the 429 is audited as script.run');
  t.match(all429[0], { outcome: 'denied', target: 'hello', actor: { id: `token:${control.id}` } });
  t.match(all429[0].detail, /^refused \(rate_limit\.exceeded\): too many script runs in the last minute; params: who="eleven" note="n{64}…"$/, 'with the parameters, capped');
  const notObject = denied.filter((e) => /params: \(not an object/.test(e.detail) || /params: raw/.test(e.detail));
  t.equal(notObject.length, 4, 'params that are not an object are audited with what was sent');
  t.ok(denied.some((e) => /params: \(not an object: "who=bob"\)/.test(e.detail)));
  t.ok(mine.some((e) => e.target === 'slow' && /timed out after 1 s/.test(e.detail)), 'the timeout is audited');
  t.ok(mine.some((e) => e.target === 'big' && /output truncated/.test(e.detail)), 'the truncation too');
  t.equal(runs.filter((e) => e.action.startsWith('rate_limit')).length, 0, 'no separate rate_limit.* entry any more');
});

t.test('graceful shutdown: SIGTERM lets an in-flight request finish, exit 0, audit flushed', async (t) => {
  const { env } = await serveEnv(t);
  const admin = await cliToken(env, 'boss', 'admin');
  const srv = await startServe(t, env);
  // A slow request, written by hand: the headers now, the body later.
  const body = JSON.stringify({ label: 'late', scope: 'read' });
  const sock = net.connect(srv.port, '127.0.0.1');
  let answer = '';
  sock.setEncoding('utf8').on('data', (d) => { answer += d; });
  const ended = new Promise((r) => sock.on('close', r));
  await new Promise((r) => sock.once('connect', r));
  sock.write(`POST /api/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin.token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 300));
  srv.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(srv.child.exitCode, null, 'still running while the request is in flight');
  const refused = await api(srv, 'GET', '/api/health').catch((e) => e);
  t.ok(refused instanceof Error, 'new connections are refused');
  sock.write(body);
  await ended;
  t.match(answer, /^HTTP\/1\.1 200 /, 'the in-flight request finished');
  t.match(answer, /connection: close/i, 'and the connection is not kept alive');
  const created = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
  t.equal(created.label, 'late');
  const { code } = await srv.exited;
  t.equal(code, 0, 'exit 0');
  t.match(srv.err(), /SIGTERM: shutting down/);
  const events = await auditEvents(env);
  t.ok(events.some((e) => e.action === 'token.create' && e.target === created.id), 'the request is in the audit log');
  t.equal(events.at(-1).action, 'server.stop', 'flushed to the end');
  const v = await runCli(['audit', 'verify'], { env });
  t.equal(v.code, 0, v.stderr);
});
