#!/usr/bin/env node
// `npm run bench:control`: POST /api/player/toggle with no player named, at
// maximum throughput, on a real `mediagate serve` over a real MPD (null
// output, MPD playing, a control token, rate limit off), against a bare Node
// loop sending MPD the command a toggle ends in over one persistent
// connection (bench/mpd-bare-loop.js), side by side in each round (order
// alternating); medians over rounds of each round's ratio serve / bare.
// Load: wrk, 2 threads, CONNECTIONS keep-alive connections, SECONDS a round.
// Also serve's CPU per request (from /proc) and MPD's. Every request must
// answer 200. bench/results.json key "control". NODE_EXTRA_CA_CERTS unset.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMpd } from '../test/helpers/mpd.js';
import { cliToken, startServe } from '../test/helpers/serve.js';
import { CLK_TCK, cpuTicks, loadAverage, median, privateEnv, ROOT, round, teardowns, writeResult } from './lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS_CONTROL ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const TARGET_RATIO = 0.5;
const TARGET_RPS = 5000;
const { t, run: cleanup } = teardowns();

/** One wrk run of POST /api/player/toggle: requests/s, and CPU µs per request of serve and of MPD. */
function serveRound(url, lua, servePid, mpdPid) {
  const s0 = cpuTicks(servePid);
  const m0 = cpuTicks(mpdPid);
  const out = execFileSync('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '-s', lua, `${url}/api/player/toggle`], { encoding: 'utf8' });
  const n = Number(/(\d+) requests in/.exec(out)[1]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses`);
  const perReq = (ticks) => round((ticks / CLK_TCK / n) * 1e6, 1);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]), serveCpuUs: perReq(cpuTicks(servePid) - s0), mpdCpuUs: perReq(cpuTicks(mpdPid) - m0) };
}

function bareRound(mpd) {
  const m0 = cpuTicks(mpd.pid);
  const r = JSON.parse(execFileSync(process.execPath, [join(ROOT, 'bench', 'mpd-bare-loop.js'), mpd.host, String(mpd.port), String(SECONDS)], { encoding: 'utf8' }));
  return { rps: r.perSecond, mpdCpuUs: round(((cpuTicks(mpd.pid) - m0) / CLK_TCK / r.commands) * 1e6, 1) };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'mg-bench-control-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const mpd = await startMpd(t);
  mpd.mpc('-q', 'play');
  // No session bus: MPD is the one player, as on a headless box running serve.
  const env = privateEnv(work, mpd, { config: { server: { rateLimit: { rps: 0 } }, volume: { backend: 'player' } }, HOME: join(work, 'home') });
  const token = (await cliToken(env, 'control-bench', 'control')).token;
  const srv = await startServe(t, env);
  const lua = join(work, 'toggle.lua');
  writeFileSync(lua, `wrk.method = "POST"\nwrk.headers["Authorization"] = "Bearer ${token}"\n`);

  bareRound(mpd); // warm both up
  serveRound(srv.url, lua, srv.pid, mpd.pid);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    let bare;
    let serve;
    if (r % 2) { serve = serveRound(srv.url, lua, srv.pid, mpd.pid); bare = bareRound(mpd); } else { bare = bareRound(mpd); serve = serveRound(srv.url, lua, srv.pid, mpd.pid); }
    rounds.push({ bareRps: bare.rps, serveRps: serve.rps, ratio: round(serve.rps / bare.rps, 3), serveCpuUs: serve.serveCpuUs, mpdCpuUsServe: serve.mpdCpuUs, mpdCpuUsBare: bare.mpdCpuUs });
    process.stderr.write(`round ${r + 1}/${ROUNDS}: bare loop ${bare.rps}/s, serve ${serve.rps}/s (serve ${serve.serveCpuUs} µs CPU/req, MPD ${serve.mpdCpuUs} µs), ratio ${(serve.rps / bare.rps).toFixed(2)}\n`);
  }
  await srv.stop('SIGTERM');
  const result = {
    when: new Date().toISOString(),
    node: process.version,
    method: `POST /api/player/toggle, no player named, MPD playing (null output), wrk -t2 -c${CONNECTIONS} -d${SECONDS}s, keep-alive; baseline: a bare Node loop sending pause 1 / pause 0 over one persistent MPD connection, one at a time; ${ROUNDS} rounds, order alternating, medians`,
    bareRps: Math.round(median(rounds.map((x) => x.bareRps))),
    serveRps: Math.round(median(rounds.map((x) => x.serveRps))),
    ratio: round(median(rounds.map((x) => x.ratio))),
    cpuUsPerRequest: { serve: median(rounds.map((x) => x.serveCpuUs)), mpdUnderServe: median(rounds.map((x) => x.mpdCpuUsServe)), mpdUnderBare: median(rounds.map((x) => x.mpdCpuUsBare)) },
    loadAverage: loadAverage(),
    target: `≥ ${TARGET_RATIO}× the bare loop and ≥ ${TARGET_RPS}/s`,
    rounds,
  };
  result.met = result.ratio >= TARGET_RATIO && result.serveRps >= TARGET_RPS;
  console.log(`POST /api/player/toggle (no player named): serve ${result.serveRps}/s, bare MPD loop ${result.bareRps}/s, ratio ${result.ratio} (target ${result.target}: ${result.met ? 'met' : 'NOT met'}); serve ${result.cpuUsPerRequest.serve} µs CPU per request; load ${result.loadAverage.join(' ')}`);
  if (!process.argv.includes('--no-write')) writeResult('control', result);
}

try { await main(); } finally { await cleanup(); }
