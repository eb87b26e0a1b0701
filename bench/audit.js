#!/usr/bin/env node
// Audit appends under 2,000 control requests a second: a real `mediagate
// serve` (rate limit off, MPD with a null output) gets POST
// /api/player/toggle from this process at a paced 2,000 requests/s over
// keep-alive connections for BENCH_AUDIT_SECONDS (default 10). Every one is
// a control action the server audits (actor, address, request id, outcome).
// Then serve is stopped (it flushes the audit queue) and we check:
//  - no request waited on disk: latency percentiles of the requests (from
//    the moment each was due), next to a baseline run of GET /api/status
//    (not audited) at the same pace on the same server;
//  - nothing lost: audit lines with action player.toggle = requests answered;
//  - `mediagate audit verify` exits 0.
// Writes bench/results.json key "audit".
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { startMpd } from '../test/helpers/mpd.js';
import { startServe, cliToken } from '../test/helpers/serve.js';
import { BIN, loadAverage, privateEnv, round, teardowns, writeResult } from './lib.js';

const RATE = Number(process.env.BENCH_AUDIT_RATE ?? 2000);
const SECONDS = Number(process.env.BENCH_AUDIT_SECONDS ?? 10);
const CONNECTIONS = 16;
// {"player":"mpd"}: the hub asks MPD only (no D-Bus probe per request), so the
// control path is cheap enough for the audit log to be what is measured.
const BODY = JSON.stringify({ player: 'mpd' });
const { t, run: cleanup } = teardowns();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pct(sorted, p) { return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]; }

/** Send `rate` requests a second for `SECONDS`; each request's latency from when it was due. */
async function paced(pool, opts, rate = RATE) {
  const RATE = rate;
  const total = RATE * SECONDS;
  const lat = new Float64Array(total);
  const statuses = new Map();
  let sent = 0;
  let errors = 0;
  const inflight = new Set();
  const start = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
    for (; sent < due; sent++) {
      const i = sent;
      const dueAt = start + (i / RATE) * 1000;
      const p = pool.request(opts).then(async (r) => {
        await r.body.dump();
        lat[i] = performance.now() - dueAt;
        statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
      }, () => { errors++; lat[i] = NaN; }).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await sleep(2);
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  const sorted = Array.from(lat).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return {
    requests: total,
    achievedPerSecond: Math.round(total / elapsed),
    statuses: Object.fromEntries(statuses),
    errors,
    latencyMs: { p50: round(pct(sorted, 0.5)), p99: round(pct(sorted, 0.99)), p999: round(pct(sorted, 0.999)), max: round(sorted[sorted.length - 1]) },
  };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'mg-bench-audit-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const mpd = await startMpd(t);
  mpd.mpc('-q', 'play');
  const env = privateEnv(work, mpd, { config: { server: { rateLimit: { rps: 0 } }, volume: { backend: 'player' } }, HOME: join(work, 'home') });
  const token = (await cliToken(env, 'audit-bench', 'control')).token;
  const srv = await startServe(t, env);
  const pool = new Pool(srv.url, { connections: CONNECTIONS, pipelining: 1 });
  t.teardown(() => pool.close());
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  // Warm up both paths, then the baseline (reads, not audited), then the audited control requests.
  for (let i = 0; i < 200; i++) await (await pool.request({ method: 'GET', path: '/api/status', headers })).body.dump();
  for (let i = 0; i < 20; i++) await (await pool.request({ method: 'POST', path: '/api/player/toggle', headers, body: BODY })).body.dump();
  await sleep(1000); // the warm-up's audit lines reach the file
  const linesBefore = countToggles(env.MEDIAGATE_STATE_DIR);
  const logBefore = srv.out().length;
  const reads = await paced(pool, { method: 'GET', path: '/api/status', headers });
  // While the control requests run, a probe of reads (100/s, its own connection): if the
  // event loop ever waited on the disk, these would wait with it.
  const probePool = new Pool(srv.url, { connections: 1, pipelining: 1 });
  const [control, probe] = await Promise.all([
    paced(pool, { method: 'POST', path: '/api/player/toggle', headers, body: BODY }),
    paced(probePool, { method: 'GET', path: '/api/status', headers }, 100),
  ]);
  await probePool.close();
  await pool.close();
  const stopped = await srv.stop('SIGTERM');
  // Time spent inside the server per request, from its request log (one line per request, `… 200 0.4ms rid=…`).
  const serverMs = (method, path) => {
    const xs = [];
    for (const line of srv.out().slice(logBefore).split('\n')) {
      const m = / (GET|POST) (\S+) \d{3} ([\d.]+)ms /.exec(line);
      if (m && m[1] === method && m[2] === path) xs.push(Number(m[3]));
    }
    xs.sort((a, b) => a - b);
    return { n: xs.length, p50: round(pct(xs, 0.5)), p99: round(pct(xs, 0.99)), max: round(xs[xs.length - 1]) };
  };
  control.serverMs = serverMs('POST', '/api/player/toggle');
  reads.serverMs = serverMs('GET', '/api/status');
  const lines = countToggles(env.MEDIAGATE_STATE_DIR) - linesBefore;
  let verify;
  try {
    execFileSync(process.execPath, [BIN, 'audit', 'verify'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    verify = { ok: true };
  } catch (e) {
    verify = { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().slice(0, 500) };
  }
  const answered = Object.values(control.statuses).reduce((a, b) => a + b, 0);
  const result = {
    when: new Date().toISOString(),
    node: process.version,
    method: `POST /api/player/toggle {"player":"mpd"} (MPD, null output) paced at ${RATE}/s for ${SECONDS} s over ${CONNECTIONS} keep-alive connections; baseline: GET /api/status (not audited) at the same pace`,
    rate: RATE,
    control,
    reads,
    probeDuringControl: probe,
    auditLines: lines,
    answered,
    lost: answered - lines,
    serveExit: stopped.code,
    verify,
    loadAverage: loadAverage(),
    target: 'no request waits on disk (reads probe during the control load stays fast; the writer fsyncs off the event loop); nothing lost; audit verify passes',
    met: lines === answered && control.errors === 0 && verify.ok && control.achievedPerSecond >= RATE * 0.95,
  };
  console.log(`audit under ${RATE} control requests/s: ${answered} answered (${JSON.stringify(control.statuses)}), ${lines} audit lines, lost ${result.lost}, audit verify ${verify.ok ? 'ok' : 'FAILED'}`);
  console.log(`  achieved: control ${control.achievedPerSecond}/s, reads ${reads.achievedPerSecond}/s`);
  console.log(`  latency from due time, ms: control p50 ${control.latencyMs.p50} p99 ${control.latencyMs.p99} max ${control.latencyMs.max}; reads p50 ${reads.latencyMs.p50} p99 ${reads.latencyMs.p99} max ${reads.latencyMs.max}`);
  console.log(`  reads probe (100/s) during the control load, latency from due time: p50 ${probe.latencyMs.p50} p99 ${probe.latencyMs.p99} max ${probe.latencyMs.max} ms`);
  console.log(`  time inside serve, ms: control p50 ${control.serverMs.p50} p99 ${control.serverMs.p99} max ${control.serverMs.max}; reads p50 ${reads.serverMs.p50} p99 ${reads.serverMs.p99} max ${reads.serverMs.max}`);
  if (!process.argv.includes('--no-write')) writeResult('audit', result);
}

/** Lines of the audit log (current and rotated files) whose action is player.toggle. */
function countToggles(state) {
  let n = 0;
  for (const f of readdirSync(state)) {
    if (!/^audit(\.\d+)?\.jsonl$/.test(f)) continue;
    for (const line of readFileSync(join(state, f), 'utf8').split('\n')) if (line.includes('"action":"player.toggle"')) n++;
  }
  return n;
}

try { await main(); } finally { await cleanup(); }
