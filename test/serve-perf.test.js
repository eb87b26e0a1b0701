// Measurements (reported, not asserted: these machines are noisy):
//  - GET /api/status with a valid token through `mediagate serve` (rate
//    limit off) vs a bare node:http server answering the same JSON, both with
//    wrk -t2 -c2 -d5s, alternated, in the same run;
//  - serve's CPU over 30 s while MPD plays, from /proc/PID/stat.
import t from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startMpd } from './helpers/mpd.js';
import { api, cliToken, serveEnv, startServe } from './helpers/serve.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** wrk -t2 -c2 -d5s against `url`; also the server's CPU time per request (from /proc/PID/stat). */
function wrk(url, pid, clk, headers = []) {
  const before = cpuTicks(pid);
  const out = execFileSync('wrk', ['-t2', '-c2', '-d5s', ...headers.flatMap((h) => ['-H', h]), url], { encoding: 'utf8', timeout: 30000 });
  const ticks = cpuTicks(pid) - before;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const n = Number(/(\d+) requests in/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  return { rps, non2xx, cpuUs: (ticks / clk / n) * 1e6 };
}

/** A bare node:http server answering `body` as JSON on a free port; {url, stop()}. */
async function bareServer(t, body) {
  const src = `const http=require('node:http');const b=${JSON.stringify(body)};http.createServer((q,r)=>{r.writeHead(200,{'content-type':'application/json; charset=utf-8','content-length':Buffer.byteLength(b)});r.end(b)}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})`;
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill());
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  return { url: `http://127.0.0.1:${port}/api/status`, pid: child.pid };
}

export function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]); // utime + stime (fields 14, 15)
}

t.test('GET /api/status throughput vs bare node:http; idle CPU while MPD plays', async (t) => {
  const mpd = await startMpd(t);
  const { env } = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) }, { 'server.rateLimit.rps': 0 });
  const tok = (await cliToken(env, 'bench', 'read')).token;
  mpd.mpc('play');
  const srv = await startServe(t, env);
  const first = await api(srv, 'GET', '/api/status', { token: tok });
  t.equal(first.status, 200, 'status answers');
  const bare = await bareServer(t, first.text);

  const clk = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const ours = [];
  const base = [];
  for (let i = 0; i < 3; i++) {
    base.push(wrk(bare.url, bare.pid, clk));
    ours.push(wrk(`${srv.url}/api/status`, srv.pid, clk, [`Authorization: Bearer ${tok}`]));
  }
  t.ok(ours.every((r) => r.non2xx === 0), 'every benchmarked request was a 200');
  const median = (xs) => [...xs].sort((a, b) => a - b)[1];
  const rpsRatio = median(ours.map((x) => x.rps)) / median(base.map((x) => x.rps));
  const cpuRatio = median(base.map((x) => x.cpuUs)) / median(ours.map((x) => x.cpuUs));
  t.comment(`GET /api/status (wrk -t2 -c2 -d5s, alternated): mediagate ${ours.map((x) => Math.round(x.rps)).join(', ')} req/s; bare node:http ${base.map((x) => Math.round(x.rps)).join(', ')} req/s; median ratio ${rpsRatio.toFixed(2)} (target ≥ 0.8)`);
  t.comment(`server CPU per request: mediagate ${ours.map((x) => x.cpuUs.toFixed(1)).join(', ')} µs; bare ${base.map((x) => x.cpuUs.toFixed(1)).join(', ')} µs; median ratio (bare/ours) ${cpuRatio.toFixed(2)}`);
  t.comment(`load average during the run: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${execFileSync('nproc', { encoding: 'utf8' }).trim()} CPUs`);

  // Idle: MPD playing, nobody asking.
  await sleep(2000);
  const before = cpuTicks(srv.pid);
  const t0 = Date.now();
  await sleep(30_000);
  const ticks = cpuTicks(srv.pid) - before;
  const seconds = (Date.now() - t0) / 1000;
  const pct = (ticks / clk / seconds) * 100;
  t.comment(`serve idle CPU over ${seconds.toFixed(1)} s with MPD playing: ${ticks} ticks = ${pct.toFixed(3)}% of one core (target < 0.5%)`);
  t.equal(mpd.mpc('status').includes('[playing]'), true, 'MPD was playing throughout');
  t.equal((await srv.stop()).code, 0);
});
