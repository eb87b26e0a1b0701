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
// Then the p99 leg, on a second serve with a fresh audit log: toggles at a
// fixed RATE (2,000/s) for P99_SECONDS a round (bench/rate-client.js, open
// loop, latency from each request's due moment), P99_ROUNDS rounds; the
// target is p99 ≤ 25 ms (median of the rounds' p99) with every request
// audited: after the load, exactly one player.toggle line per request id,
// `audit verify` passing, and how many lines were already on disk the
// moment the last answer came (the log keeps up with 2,000 lines a second).
// Beside each p99 round, MPD alone under the same open loop
// (bench/mpd-rate-loop.js): the part of the tail that is MPD's own.
// MPD plays three ten-minute tracks throughout (see main()). Serve's pool
// sends concurrent toggles over three connections, so under wrk several can
// read the same state and send the same `pause 1`, which MPD answers without
// work: serve's MPD CPU per request is below the bare loop's, whose every
// command is a real pause or resume.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMpd } from '../test/helpers/mpd.js';
import { makeMusic } from '../test/helpers/proc.js';
import { auditEvents, cliToken, startServe } from '../test/helpers/serve.js';
import { runCli } from '../test/helpers/cli.js';
import { CLK_TCK, cpuTicks, loadAverage, median, privateEnv, ROOT, round, teardowns, writeResult } from './lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS_CONTROL ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const TARGET_RATIO = 0.5;
const TARGET_RPS = 5000;
const RATE = Number(process.env.BENCH_P99_RATE ?? 2000);
const P99_SECONDS = Number(process.env.BENCH_P99_SECONDS ?? 10);
const P99_ROUNDS = Number(process.env.BENCH_P99_ROUNDS ?? 3);
const P99_CONNECTIONS = Number(process.env.BENCH_P99_CONNECTIONS ?? 64);
const TARGET_P99_MS = 25;
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

/** player.toggle lines in the audit files of state dir `dir` (audit.jsonl and rotated ones), read from disk as they are now. */
function toggleLinesOnDisk(dir) {
  let n = 0;
  for (const name of readdirSync(dir)) {
    if (!/^audit.*\.jsonl(\.\d+)?$/.test(name)) continue; // not the lock or the head
    try { n += readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l.includes('"player.toggle"')).length; } catch { /* rotated away meanwhile */ }
  }
  return n;
}

/** The p99 leg: a serve of its own (fresh audit log), RATE toggles/s, P99_ROUNDS rounds, then the audit checked request by request. */
async function p99Leg(mpd, work) {
  const dir = join(work, 'p99');
  mkdirSync(dir);
  const env = privateEnv(dir, mpd, { config: { server: { rateLimit: { rps: 0 } }, volume: { backend: 'player' } }, HOME: join(dir, 'home') });
  const token = (await cliToken(env, 'p99-bench', 'control')).token;
  const srv = await startServe(t, env);
  const url = `${srv.url}/api/player/toggle`;
  const client = (rate, seconds) => JSON.parse(execFileSync(process.execPath, [join(ROOT, 'bench', 'rate-client.js'), url, token, String(rate), String(seconds), String(P99_CONNECTIONS)], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }));
  const ids = [];
  const w = client(RATE, 2); // warm-up
  ids.push(...w.requestIds);
  const mpdAlone = () => JSON.parse(execFileSync(process.execPath, [join(ROOT, 'bench', 'mpd-rate-loop.js'), mpd.host, String(mpd.port), String(RATE), String(P99_SECONDS)], { encoding: 'utf8' }));
  const rounds = [];
  const aloneRounds = [];
  for (let r = 0; r < P99_ROUNDS; r++) {
    // MPD alone under the same load, in each round before serve's: how much of the tail is MPD's own.
    const alone = mpdAlone();
    aloneRounds.push(alone.latencyMs);
    process.stderr.write(`p99 round ${r + 1}/${P99_ROUNDS}: MPD alone (the same two round trips per toggle, no serve) at ${alone.achievedRps}/s: p50 ${alone.latencyMs.p50} ms, p99 ${alone.latencyMs.p99} ms, max ${alone.latencyMs.max} ms\n`);
    const s0 = cpuTicks(srv.pid);
    const x = client(RATE, P99_SECONDS);
    const onDisk = toggleLinesOnDisk(env.MEDIAGATE_STATE_DIR);
    ids.push(...x.requestIds);
    if (x.ok !== x.sent) throw new Error(`p99 round ${r + 1}: ${x.sent} sent, answers ${JSON.stringify(x.statuses)}, ${x.errors} failed`);
    rounds.push({ sent: x.sent, achievedRps: x.achievedRps, latencyMs: x.latencyMs, serveCpuShare: round((cpuTicks(srv.pid) - s0) / CLK_TCK / x.seconds, 3), auditLinesOnDiskAtEnd: onDisk, auditLinesExpected: ids.length });
    process.stderr.write(`p99 round ${r + 1}/${P99_ROUNDS}: ${x.sent} toggles at ${x.achievedRps}/s: p50 ${x.latencyMs.p50} ms, p99 ${x.latencyMs.p99} ms, max ${x.latencyMs.max} ms; audit lines on disk at the last answer ${onDisk}/${ids.length}\n`);
  }
  await srv.stop('SIGTERM');
  const events = await auditEvents(env, ['--action', 'player.toggle', '--limit', String(ids.length * 2)]);
  const seen = new Map();
  for (const e of events) seen.set(e.requestId, (seen.get(e.requestId) ?? 0) + 1);
  const missing = ids.filter((id) => !seen.has(id)).length;
  // An answer without an X-Request-ID leaves its line unmatched: say so apart from a line that is missing.
  const unlabelled = ids.filter((id) => !id).length;
  const known = new Set(ids);
  const unmatchedLines = events.filter((e) => !known.has(e.requestId)).length;
  const twice = [...seen.values()].filter((n) => n > 1).length;
  const verify = await runCli(['audit', 'verify'], { env, timeoutMs: 120000 });
  return {
    method: `POST /api/player/toggle, no player named, at a fixed ${RATE}/s (open loop, latency from each request's due moment), ${P99_CONNECTIONS} keep-alive connections at most, ${P99_SECONDS} s a round, ${P99_ROUNDS} rounds after a 2 s warm-up, its own serve and a fresh audit log`,
    rate: RATE,
    p99Ms: median(rounds.map((x) => x.latencyMs.p99)),
    p50Ms: median(rounds.map((x) => x.latencyMs.p50)),
    mpdAlone: {
      method: `bench/mpd-rate-loop.js: the same ${RATE}/s open loop straight to MPD, each toggle serve's two round trips (status + currentsong, then pause 1/0) over three connections, one run before each serve round`,
      p99Ms: median(aloneRounds.map((x) => x.p99)),
      p50Ms: median(aloneRounds.map((x) => x.p50)),
      rounds: aloneRounds,
    },
    target: `p99 ≤ ${TARGET_P99_MS} ms at ${RATE}/s, every request audited once, audit verify passing`,
    audit: { requests: ids.length, lines: events.length, missing, answersWithoutRequestId: unlabelled, linesWithUnknownRequestId: unmatchedLines, moreThanOnce: twice, verify: verify.code === 0 ? 'ok' : `exit ${verify.code}: ${verify.stderr.trim()}` },
    rounds,
  };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'mg-bench-control-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  // Ten-minute tracks, as in a listening session: with the tests' 30-second
  // ones, MPD changes track and decoder (ogg, flac, mp3) under the pause
  // churn and stalls for ~1.3 s a round, at 2,000 toggles a second on its
  // own as much as through serve; on one long track its p99 is ~4 ms.
  const mpd = await startMpd(t, { musicDir: makeMusic(join(work, 'music'), 600) });
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
  const p99 = await p99Leg(mpd, work);
  p99.met = p99.p99Ms <= TARGET_P99_MS && p99.audit.missing === 0 && p99.audit.moreThanOnce === 0 && p99.audit.lines === p99.audit.requests && p99.audit.verify === 'ok';
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
    p99,
  };
  result.met = result.ratio >= TARGET_RATIO && result.serveRps >= TARGET_RPS;
  console.log(`toggle at ${RATE}/s: p99 ${p99.p99Ms} ms, p50 ${p99.p50Ms} ms (target ${p99.target}: ${p99.met ? 'met' : 'NOT met'}); MPD alone at the same rate: p99 ${p99.mpdAlone.p99Ms} ms, p50 ${p99.mpdAlone.p50Ms} ms; audit: ${p99.audit.lines} lines for ${p99.audit.requests} requests, ${p99.audit.missing} missing (${p99.audit.answersWithoutRequestId} answers without X-Request-ID, ${p99.audit.linesWithUnknownRequestId} lines with an id no answer carried), ${p99.audit.moreThanOnce} twice, verify ${p99.audit.verify}`);
  console.log(`POST /api/player/toggle (no player named): serve ${result.serveRps}/s, bare MPD loop ${result.bareRps}/s, ratio ${result.ratio} (target ${result.target}: ${result.met ? 'met' : 'NOT met'}); serve ${result.cpuUsPerRequest.serve} µs CPU per request; load ${result.loadAverage.join(' ')}`);
  if (!process.argv.includes('--no-write')) writeResult('control', result);
}

try { await main(); } finally { await cleanup(); }
