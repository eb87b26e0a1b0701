// HTTP fuzzing of a real `mediagate serve` (real MPD behind it) over raw
// sockets: generated and mutated methods, paths, headers, framings and
// bodies (fast-check, fixed seed), plus 10 MB uploads. Holds when: no 5xx
// except a deliberate 503, the server never dies, every error is a JSON
// error without stack or absolute path, no secret is echoed, memory and
// descriptors come back to their warm-up level, and /api/health answers
// afterwards. The general rate limit is off here (server.rateLimit.rps 0) so
// the requests reach the handlers; limits-on.test.js keeps the limits on.
import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMpd } from '../helpers/mpd.js';
import { api, cliToken, serveEnv, startServe } from '../helpers/serve.js';
import { runCli } from '../helpers/cli.js';
import { exchange, parseResponses } from './lib/raw-http.js';
import { requestSpec, render } from './lib/http-cases.js';
import { checkResponse, fmtTally, mb, pool, sleep, tally } from './lib/holds.js';
import { alive, fdCount, rssKb, settledFds, tcpConnectionsTo } from './lib/procfs.js';
import { INSPECT_OPTION, inspectorUrl, openInspector } from './lib/inspect.js';
import { Report } from './lib/report.js';
import { SecretBook } from './lib/leaks.js';
import { SEED, SIZE } from './lib/size.js';

t.setTimeout(15 * 60_000);
const report = new Report(t, 'http-fuzz');

/** Loopback addresses: valid-token traffic from one set, guessing from another (the lockout counts per address). */
const cleanAddr = (i) => `127.0.2.${1 + (i % 40)}`;
const dirtyAddr = (i, net = 3) => `127.0.${net}.${1 + (i % 200)}`;
const DIRTY_ROUTES = new Set(['/api/auth/redeem', '/api/auth/exchange']);

async function warmUp(srv, token, n = 400) {
  await pool(Array.from({ length: n }), 8, async (_, i) => {
    await api(srv, 'GET', i % 2 ? '/api/status' : '/api/health', { token });
  });
}

t.test(`${SIZE.fuzzRequests} generated requests (seed ${SEED}) and ${SIZE.hugeBodies} 10 MB bodies`, async (t) => {
  const mpd = await startMpd(t);
  const e = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port), NODE_OPTIONS: INSPECT_OPTION }, { 'server.rateLimit.rps': 0, 'volume.backend': 'player' });
  const book = new SecretBook();
  const tokens = {};
  for (const scope of ['read', 'control', 'admin']) {
    const tk = await cliToken(e.env, `adv-fuzz-${scope}-q7`, scope);
    tokens[scope] = tk.token;
    book.add('token', tk.token, 'cli token create');
  }
  const revoked = await cliToken(e.env, 'adv-fuzz-revoked-q7', 'read');
  book.add('token', revoked.token, 'cli token create');
  t.equal((await runCli(['token', 'revoke', revoked.id], { env: e.env })).code, 0, 'revoked one token');
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'adv-fuzz-phone', '--scope', 'read', '--uses', '100', '--json'], { env: e.env })).stdout);
  book.add('invite code', inv.code, 'cli invite create');

  const srv = await startServe(t, e.env);
  const redeemed = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code }, from: '127.0.4.1' });
  t.equal(redeemed.status, 200, 'pairing token for the fuzzer');
  book.add('pairing token', redeemed.json.pairingToken, 'redeem');
  const ctx = { tokens, pairingToken: redeemed.json.pairingToken, revokedToken: revoked.token };

  // Warm up with other generated requests (seed + 1), so lazily built code and caches exist before the baseline.
  const inspector = await openInspector(inspectorUrl(srv.err()));
  t.teardown(() => inspector.close());
  await warmUp(srv, tokens.read);
  await runCases(fc.sample(requestSpec, { seed: SEED + 1, numRuns: 1500 }), () => {}, 6);
  const baseMem = await inspector.memoryAfterGc();
  const base = { rss: rssKb(srv.pid), fds: fdCount(srv.pid), mpd: tcpConnectionsTo(srv.pid, mpd.port), heap: baseMem.heapUsed };
  t.comment(`serve pid ${srv.pid} after warm-up and a full GC: RSS ${mb(base.rss)}, heap ${mb(base.heap / 1024)}, ${base.fds} fds; seed ${SEED}`);

  async function runCases(list, onAnswer, dirtyNet = 3) {
    await pool(list, SIZE.fuzzConcurrency, async (spec, i) => {
      const c = render(spec, ctx);
      const dirty = !['read', 'control', 'admin', 'none'].includes(spec.authorization) || DIRTY_ROUTES.has(c.label.split(' ')[1]);
      const r = await exchange({ port: srv.port, localAddress: dirty ? dirtyAddr(i, dirtyNet) : cleanAddr(i), bytes: c.bytes, timeoutMs: 15000, expect: c.methods.length, methods: c.methods, halfCloseAfterMs: c.truncated ? 200 : undefined });
      onAnswer(c, r, i);
    });
  }

  const specs = fc.sample(requestSpec, { seed: SEED, numRuns: SIZE.fuzzRequests });
  const statuses = {};
  const codes = {};
  const problems = {};
  const examples = [];
  const perKind = {};
  const example = (kind, text) => {
    perKind[kind] = (perKind[kind] ?? 0) + 1;
    if (perKind[kind] <= 3) examples.push(text);
  };
  let responses = 0;
  let noAnswer = 0;
  let noAnswerExpected = 0;
  let malformedAnswers = 0;
  const started = performance.now();
  await runCases(specs, (c, r, i) => {
    const p = parseResponses(r.data, c.methods);
    if (p.malformed && p.responses.length === 0) malformedAnswers++;
    if (p.responses.length === 0) {
      if (c.truncated || r.error) noAnswerExpected++;
      else {
        noAnswer++;
        tally(problems, 'no answer to a complete request');
        example('no answer', `#${i} no answer: ${c.label}${r.timedOut ? ' (timed out)' : ''}${p.malformed ? ` (${p.malformed})` : ''}${r.error ? ` (${r.error.code})` : ''}`);
      }
    }
    for (const [k, res] of p.responses.entries()) {
      responses++;
      tally(statuses, res.status);
      let code;
      try { code = JSON.parse(res.body)?.error?.code; } catch { /* none */ }
      if (code) tally(codes, code);
      if (/mg_[A-Za-z0-9_-]{43}|mgp_[A-Za-z0-9_-]{43}|[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/.test(res.body)) book.harvest(res.body, `answer to #${i}`);
      const sent = [ctx.tokens.read, ctx.tokens.control, ctx.tokens.admin, ctx.pairingToken, ctx.revokedToken];
      for (const pr of checkResponse(res, { sentSecrets: sent, method: c.methods[k] })) {
        tally(problems, pr.replace(/:.*$/, ''));
        example(pr.replace(/:.*$/, ''), `#${i} ${pr} ← ${c.label}`);
      }
    }
  });
  const secs = (performance.now() - started) / 1000;
  t.comment(`fuzz: ${specs.length} requests in ${secs.toFixed(1)} s (${Math.round(specs.length / secs)}/s), ${responses} answers`);
  t.comment(`statuses: ${fmtTally(statuses, 20)}`);
  t.comment(`error codes: ${fmtTally(codes, 30)}`);
  if (examples.length) t.comment(`examples of failures:\n${examples.join('\n')}`);
  const failures = Object.values(problems).reduce((a, b) => a + b, 0);
  t.same(problems, {}, 'every answer holds (no 5xx but deliberate 503, JSON errors, security headers, no stack/path/secret)');
  t.ok(alive(srv.pid), 'serve is alive after the fuzz');
  report.row('generated requests', specs.length, failures, `${responses} answers; ${fmtTally(statuses, 8)}; no answer to ${noAnswerExpected} deliberately truncated`);

  // 10 MB bodies: announced by Content-Length, and streamed chunked without one.
  const ten = Buffer.alloc(10 * 1024 * 1024, 0x61);
  const hugeStatuses = {};
  let hugeFailures = 0;
  await pool(Array.from({ length: SIZE.hugeBodies }), 2, async (_, i) => {
    const chunkedForm = i % 2 === 1;
    const head = `POST ${i % 3 === 2 ? '/api/auth/redeem' : '/api/tokens'} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: huge-${i}\r\nAuthorization: Bearer ${tokens.admin}\r\nContent-Type: application/json\r\n`
      + (chunkedForm ? 'Transfer-Encoding: chunked\r\n\r\n' : `Content-Length: ${ten.length}\r\n\r\n`);
    const parts = [Buffer.from(head)];
    if (chunkedForm) { for (let o = 0; o < ten.length; o += 1 << 20) parts.push(Buffer.from(`100000\r\n`), ten.subarray(o, o + (1 << 20)), Buffer.from('\r\n')); parts.push(Buffer.from('0\r\n\r\n')); } else parts.push(ten);
    const r = await exchange({ port: srv.port, localAddress: cleanAddr(i), bytes: parts, timeoutMs: 30000, methods: ['POST'] });
    const p = parseResponses(r.data, ['POST']);
    const res = p.responses[0];
    // The server answers 413 and closes without reading the rest; a client still writing may get the
    // reset before it reads the answer (EPIPE). Then the request log says what was answered.
    await sleep(100);
    const logged = new RegExp(`^\\S+ POST \\S+ (\\d{3}) .*rid=huge-${i} `, 'm').exec(srv.out())?.[1];
    const seen = res?.status ?? (r.error && logged ? `${logged} (logged; client saw ${r.error.code})` : `none (${r.error?.code ?? (r.timedOut ? 'timeout' : 'closed')})`);
    tally(hugeStatuses, seen);
    if (!String(seen).startsWith('413') || (res && checkResponse(res).length)) hugeFailures++;
  });
  t.equal(hugeFailures, 0, `10 MB bodies: 413, whether announced or streamed (${fmtTally(hugeStatuses)})`);
  report.row('10 MB bodies (Content-Length and chunked)', SIZE.hugeBodies, hugeFailures, fmtTally(hugeStatuses));

  // After: health, memory and descriptors.
  const health = await api(srv, 'GET', '/api/health', { from: '127.0.4.2' });
  t.equal(health.status, 200, 'GET /api/health fine afterwards');
  const status = await api(srv, 'GET', '/api/status', { token: tokens.read, from: '127.0.4.2' });
  t.equal(status.status, 200, 'GET /api/status fine afterwards');
  const afterMem = await inspector.memoryAfterGc();
  // A 413 answer lingers up to 5 s for the client's close; the MPD pool (at most 3) keeps what load opened.
  const settled = await settledFds(srv.pid, { mpdPort: mpd.port, baseMpd: base.mpd, limit: base.fds + 2 });
  const after = { rss: rssKb(srv.pid), fds: settled.fds, heap: afterMem.heapUsed };
  const peakNote = `after a full GC: heap ${mb(base.heap / 1024)} → ${mb(after.heap / 1024)}, RSS ${mb(base.rss)} → ${mb(after.rss)}; fds ${base.fds} → ${after.fds} (MPD connections ${base.mpd} → ${settled.mpd})`;
  t.comment(`after the fuzz: ${peakNote}`);
  t.ok(settled.counted <= base.fds + 2 && settled.mpd <= 4, `descriptors back to the warm-up level (${peakNote})`);
  t.ok(after.heap < base.heap + 8 * 1024 * 1024, `live heap back near the warm-up level (${peakNote})`);
  t.ok(after.rss < base.rss + 48 * 1024, `RSS back near the warm-up level (${peakNote})`);
  report.row('serve afterwards', 1, (alive(srv.pid) ? 0 : 1) + (health.status === 200 ? 0 : 1), `alive, health 200; ${peakNote}`);

  // Secrets: none in the answers to others, the request log, stderr, the state/config dirs.
  inspector.close();
  const stopped = await srv.stop();
  t.same(stopped, { code: 0, signal: null }, 'serve shut down cleanly');
  t.notMatch(srv.err(), /failed:|\n\s+at /, 'no internal failure or stack on stderr');
  book.scanText('serve stdout (request log)', srv.out());
  book.scanText('serve stderr', srv.err());
  book.scanDir(e.base);
  t.same(book.findings, [], `no secret (${book.size}) in files, request log or stderr`);
  report.row('secrets searched after the fuzz', book.size, book.findings.length, `${book.scanned.files} files, ${book.scanned.texts} texts`);
  const verify = await runCli(['audit', 'verify', '--json'], { env: e.env });
  t.equal(verify.code, 0, 'audit verify passes');
  const v = JSON.parse(verify.stdout);
  report.row('audit verify after the fuzz', 1, verify.code === 0 ? 0 : 1, `${v.count ?? v.lines ?? '?'} events`);
  t.comment(`request log lines: ${srv.out().split('\n').length - 1}; audit ${readFileSync(join(e.stateDir, 'audit.jsonl'), 'utf8').split('\n').length - 1} lines`);
});
