#!/usr/bin/env node
// `npm run bench:server`, two parts in one run, each against its baseline:
// 1. GET /api/status with a valid token on a real `mediagate serve` (real MPD,
//    keep-alive, 2 connections, wrk) against a bare node:http server returning
//    the same JSON, side by side in each round; medians over rounds, ratio
//    serve / bare. Rounds alternate which server goes first. Also the server's
//    CPU time per request (from /proc/PID/stat), which the machine's load
//    disturbs less than throughput. bench/results.json key "server".
// 2. One real volume change (`pactl set-sink-volume` on a PulseAudio null
//    sink) reaching 1,000 WebSocket clients of a real `mediagate serve`,
//    against a bare `ws` server broadcasting the same-size message on the
//    same kind of event (bench/ws-volume.js). Key "wsVolume".
// The HTTP part's servers are stopped before the WS part starts.
// `--only http` or `--only ws` runs one part. NODE_EXTRA_CA_CERTS is unset
// for every Node process.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMpd } from '../test/helpers/mpd.js';
import { CLK_TCK, cpuTicks, privateEnv, teardowns, writeResult } from './lib.js';
import { wsVolume } from './ws-volume.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'run.cjs');
const ROUNDS = Number(process.env.BENCH_ROUNDS_SERVER ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
if (only !== null && only !== 'http' && only !== 'ws') throw new Error('--only takes http or ws');
// HTTP part's processes (stopped before the WS part), and the whole run's (MPD).
const httpTd = teardowns();
const cleanups = [];
const t = { teardown: (fn) => cleanups.push(fn) };
const work = mkdtempSync(join(tmpdir(), 'mg-bench-srv-'));
cleanups.push(() => rmSync(work, { recursive: true, force: true }));

function startProcess(args, env) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
  httpTd.t.teardown(() => new Promise((r) => { if (child.exitCode !== null || child.signalCode !== null) { r(); return; } child.once('exit', r); child.kill('SIGTERM'); setTimeout(() => child.kill('SIGKILL'), 3000).unref(); }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start:\n${err}`)), 20000);
    child.stderr.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) { clearTimeout(timer); resolve({ url: m[1], err: () => err, pid: child.pid }); }
    });
  });
}

/** wrk against `url` on the server process `pid`: requests/s and that process's CPU µs per request. */
function wrk(url, pid, token) {
  const before = cpuTicks(pid);
  const out = execFileSync('wrk', ['-t2', '-c2', `-d${SECONDS}s`, ...(token ? ['-H', `Authorization: Bearer ${token}`] : []), url], { encoding: 'utf8' });
  const ticks = cpuTicks(pid) - before;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const n = Number(/(\d+) requests in/.exec(out)[1]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses from ${url}`);
  return { rps, cpuUs: (ticks / CLK_TCK / n) * 1e6 };
}

async function main() {
  const mpd = await startMpd(t);
  mpd.mpc('-q', 'play');
  if (only !== 'ws') await httpPart(mpd);
  await httpTd.run();
  if (only !== 'http') {
    const ws = await wsVolume({ t, mpd, rounds: Number(process.env.BENCH_ROUNDS_WS ?? 15) });
    writeResult('wsVolume', ws);
    console.log(`volume change to ${ws.clients} WS clients (pactl exit → last client): serve ${ws.mediagateMedianMs} ms, bare ws ${ws.bareMedianMs} ms, ratio ${ws.ratio}; bare ws + re-read ${ws.bareRereadMedianMs} ms, ratio ${ws.ratioToReread}`);
  }
}

async function httpPart(mpd) {
  const env = privateEnv(work, mpd);
  execFileSync(process.execPath, [bin, 'config', 'set', 'server.rateLimit.rps', '0'], { env });
  const token = JSON.parse(execFileSync(process.execPath, [bin, 'token', 'create', '--label', 'bench', '--scope', 'read', '--json'], { env, encoding: 'utf8' })).token;
  const serve = await startProcess([bin, 'serve', '--port', '0'], env);
  const body = execFileSync('curl', ['-s', '-H', `Authorization: Bearer ${token}`, `${serve.url}/api/status`], { encoding: 'utf8' });
  JSON.parse(body);
  const bareSrc = join(work, 'bare.mjs');
  writeFileSync(bareSrc, `import http from 'node:http';
const body = ${JSON.stringify(body)};
const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }); res.end(body); });
s.listen(0, '127.0.0.1', () => process.stderr.write('listening on http://127.0.0.1:' + s.address().port + '\\n'));`);
  const bare = await startProcess([bareSrc], { PATH: process.env.PATH });
  const rounds = [];
  wrk(`${bare.url}/api/status`, bare.pid); // warm up both
  wrk(`${serve.url}/api/status`, serve.pid, token);
  for (let r = 0; r < ROUNDS; r++) {
    let b;
    let m;
    if (r % 2) { m = wrk(`${serve.url}/api/status`, serve.pid, token); b = wrk(`${bare.url}/api/status`, bare.pid); } else { b = wrk(`${bare.url}/api/status`, bare.pid); m = wrk(`${serve.url}/api/status`, serve.pid, token); }
    rounds.push({ bare: b.rps, serve: m.rps, ratio: m.rps / b.rps, bareCpuUs: Math.round(b.cpuUs * 10) / 10, serveCpuUs: Math.round(m.cpuUs * 10) / 10 });
    process.stderr.write(`round ${r + 1}/${ROUNDS}: bare ${b.rps.toFixed(0)} req/s (${b.cpuUs.toFixed(1)} µs CPU/req), serve ${m.rps.toFixed(0)} req/s (${m.cpuUs.toFixed(1)} µs), ratio ${(m.rps / b.rps).toFixed(2)}\n`);
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const k = s.length >> 1; return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2; };
  const result = {
    when: new Date().toISOString(),
    node: process.version,
    note: `GET /api/status, valid read token, keep-alive, wrk -t2 -c2 -d${SECONDS}s; bare = node:http returning the same JSON; median of ${ROUNDS} rounds' ratios, order alternating`,
    bareRps: Math.round(median(rounds.map((x) => x.bare))),
    serveRps: Math.round(median(rounds.map((x) => x.serve))),
    ratio: Math.round(median(rounds.map((x) => x.ratio)) * 100) / 100,
    cpuUsPerRequest: { bare: median(rounds.map((x) => x.bareCpuUs)), serve: median(rounds.map((x) => x.serveCpuUs)) },
    loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
    target: '≥ 0.8',
    rounds,
  };
  writeResult('server', result);
  console.log(`GET /api/status: serve ${result.serveRps} req/s, bare node:http ${result.bareRps} req/s, ratio ${result.ratio}`);
}

try { await main(); } finally { await httpTd.run(); for (const fn of cleanups.reverse()) await fn(); }
