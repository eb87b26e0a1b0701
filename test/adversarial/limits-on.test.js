// The same real serve with its limits ON (the defaults: 20 requests/s,
// burst 40 per address; lockout after 10 failures; 5 creations a minute):
// floods from one address, guessing, minting, WebSocket upgrade floods and
// a flood from thousands of distinct addresses. Holds when the flood gets
// JSON 429s with Retry-After and nothing else suffers: other addresses are
// served, nothing 5xx, the limiter's memory stays bounded.
import t from 'tap';
import WebSocket from 'ws';
import { startMpd } from '../helpers/mpd.js';
import { api, cliToken, serveEnv, startServe } from '../helpers/serve.js';
import { checkResponse, fmtTally, mb, pool, sleep, tally } from './lib/holds.js';
import { alive, fdCount } from './lib/procfs.js';
import { INSPECT_OPTION, inspectorUrl, openInspector } from './lib/inspect.js';
import { Report } from './lib/report.js';
import { SecretBook } from './lib/leaks.js';
import { SIZE } from './lib/size.js';

t.setTimeout(10 * 60_000);
const report = new Report(t, 'limits-on');

/** A response from helpers/serve.js api() in the shape checkResponse wants. */
const asRaw = (r) => ({ status: r.status, headers: r.headers, body: r.text });

t.test('rate limits, lockout and creation limits under floods', async (t) => {
  const mpd = await startMpd(t);
  const e = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port), NODE_OPTIONS: INSPECT_OPTION }, { 'volume.backend': 'player' });
  const book = new SecretBook();
  const read = await cliToken(e.env, 'adv-lim-read', 'read');
  const admin = await cliToken(e.env, 'adv-lim-admin', 'admin');
  book.add('token', read.token, 'cli');
  book.add('token', admin.token, 'cli');
  const srv = await startServe(t, e.env);
  const inspector = await openInspector(inspectorUrl(srv.err()));
  t.teardown(() => inspector.close());

  // 1. One address floods; another keeps a polite pace meanwhile.
  const floodN = SIZE.mode === 'full' ? 6000 : 1500;
  const statuses = {};
  const problems = {};
  let politeOk = 0;
  let politeN = 0;
  let flooding = true;
  const polite = (async () => {
    while (flooding) {
      const r = await api(srv, 'GET', '/api/status', { token: read.token, from: '127.0.11.2' });
      politeN++;
      if (r.status === 200) politeOk++;
      await sleep(100);
    }
  })();
  await pool(Array.from({ length: floodN }), 20, async (_, i) => {
    const r = await api(srv, 'GET', i % 2 ? '/api/status' : '/api/health', { token: read.token, from: '127.0.11.1' });
    tally(statuses, r.status);
    for (const p of checkResponse(asRaw(r))) tally(problems, p);
    if (r.status === 429 && r.json?.error?.code !== 'rate_limit.exceeded') tally(problems, `429 ${r.json?.error?.code}`);
  });
  flooding = false;
  await polite;
  t.ok(statuses[429] > floodN / 2, `most of the flood is refused with 429 (${fmtTally(statuses)})`);
  t.same(problems, {}, 'every answer holds (JSON 429 with Retry-After, no 5xx)');
  t.equal(politeOk, politeN, `another address is served all along (${politeOk}/${politeN})`);
  report.row('flood from one address (rps 20, burst 40)', floodN, Object.values(problems).reduce((a, b) => a + b, 0) + (politeN - politeOk), `${fmtTally(statuses)}; polite neighbour ${politeOk}/${politeN} ok`);

  // 2. Guessing: 10 failures lock the address, even for the right token; other addresses unaffected.
  const guessStatuses = {};
  for (let i = 0; i < 12; i++) tally(guessStatuses, (await api(srv, 'GET', '/api/status', { token: `mg_${'G'.repeat(42)}${i % 10}`, from: '127.0.11.3' })).status);
  const locked = await api(srv, 'GET', '/api/status', { token: read.token, from: '127.0.11.3' });
  t.equal(locked.status, 429, 'a locked-out address is refused even with the right token');
  t.equal(locked.json?.error?.code, 'auth.locked');
  const neighbour = await api(srv, 'GET', '/api/status', { token: read.token, from: '127.0.11.4' });
  t.equal(neighbour.status, 200, 'another address is unaffected');
  report.row('guessing: 12 bad tokens then the right one', 13, (locked.status === 429 ? 0 : 1) + (neighbour.status === 200 ? 0 : 1), `${fmtTally(guessStatuses)} then ${locked.status} ${locked.json?.error?.code}`);

  // 3. Minting: 5 a minute per token, then 429.
  const mint = {};
  for (let i = 0; i < 8; i++) {
    const r = await api(srv, 'POST', '/api/tokens', { token: admin.token, json: { label: `minted-${i}`, scope: 'read' }, from: '127.0.11.5' });
    tally(mint, r.status);
    if (r.json?.token) book.add('token', r.json.token, 'POST /api/tokens');
  }
  t.same(mint, { 200: 5, 429: 3 }, '5 creations a minute, then 429');
  report.row('token creation: 8 in a row', 8, mint[200] === 5 && mint[429] === 3 ? 0 : 1, fmtTally(mint));

  // 4. WebSocket upgrades from one address share its bucket.
  const wsStatuses = {};
  await pool(Array.from({ length: 120 }), 12, async () => {
    const status = await new Promise((resolve) => {
      const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/api/ws`, { headers: { authorization: `Bearer ${read.token}` }, localAddress: '127.0.11.6' });
      ws.once('open', () => { ws.close(); resolve(101); });
      ws.once('unexpected-response', (_q, res) => { res.resume(); resolve(res.statusCode); });
      ws.once('error', () => resolve('error'));
    });
    tally(wsStatuses, status);
  });
  t.ok(wsStatuses[429] > 0 && wsStatuses[101] > 0, `upgrade flood: some upgrade, the rest 429 (${fmtTally(wsStatuses)})`);
  t.notOk(wsStatuses.error, 'no upgrade ends in a transport error');
  report.row('WebSocket upgrade flood from one address', 120, wsStatuses.error ?? 0, fmtTally(wsStatuses));

  // 5. Thousands of distinct addresses, one request each: the limiter's memory stays bounded.
  const before = await inspector.memoryAfterGc();
  const distinct = SIZE.mode === 'full' ? 20000 : 5000;
  const dStatuses = {};
  await pool(Array.from({ length: distinct }), 24, async (_, i) => {
    const r = await api(srv, 'GET', '/api/health', { from: `127.${20 + Math.floor(i / 60000)}.${Math.floor(i / 250) % 240}.${1 + (i % 250)}` });
    tally(dStatuses, r.status);
  });
  const rightAfter = await inspector.memoryAfterGc();
  await sleep(4000); // the limiter's idle window (burst ÷ rate = 2 s) and the clients' keep-alive sockets (1 s)
  const afterMem = await inspector.memoryAfterGc();
  const growth = afterMem.heapUsed - before.heapUsed;
  const note = `heap after GC ${mb(before.heapUsed / 1024)} → ${mb(rightAfter.heapUsed / 1024)} right after (open keep-alive sockets included) → ${mb(afterMem.heapUsed / 1024)} after the idle window`;
  t.same(dStatuses, { 200: distinct }, `${distinct} distinct addresses all served`);
  t.ok(rightAfter.heapUsed - before.heapUsed < 64 * 1024 * 1024, `live heap right after ${distinct} distinct addresses grows < 64 MB (${note})`);
  t.ok(growth < 4 * 1024 * 1024, `and is back within 4 MB of the start after the idle window (${note})`);
  report.row('distinct addresses, one request each', distinct, (dStatuses[200] === distinct ? 0 : 1) + (growth < 4 * 1024 * 1024 ? 0 : 1), note);

  // After: the flooding address is served again once its bucket refills; the server is fine.
  await sleep(2500);
  t.equal((await api(srv, 'GET', '/api/status', { token: read.token, from: '127.0.11.1' })).status, 200, 'the flooder is served again after the window');
  t.ok(alive(srv.pid), 'serve alive');
  t.comment(`fds ${fdCount(srv.pid)}`);
  inspector.close();
  t.same(await srv.stop(), { code: 0, signal: null }, 'serve shut down cleanly');
  book.scanText('serve stdout', srv.out());
  book.scanText('serve stderr', srv.err());
  book.scanDir(e.base);
  t.same(book.findings, [], `no secret (${book.size}) in files or output`);
  report.row('secrets searched', book.size, book.findings.length, `${book.scanned.files} files`);
});
