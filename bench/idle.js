#!/usr/bin/env node
// serve at idle: a real `mediagate serve` process with MPD playing (null
// output, a 10-minute track on repeat), PulseAudio (null sink, so serve
// watches the mixer with `pactl subscribe`) and 10 WebSocket clients
// authenticated and subscribed, nobody asking anything. Over a 60 s window:
//  - CPU of the serve process (all its threads) from /proc/PID/stat
//    utime+stime, and from the threads' schedstat (ns), as % of one core;
//  - wake-ups of its main thread (voluntary context switches: each time the
//    event loop blocked and was woken — by a timer, a socket, a child). A
//    timer firing more than once per second would show as more than one
//    wake-up per second; the window also holds the WS keep-alive ping
//    (every 30 s) and the clients' pongs;
//  - CPU of serve's child processes (pactl subscribe), reported separately.
// Target: < 0.5% of one core, no timer more often than once a second.
// Writes bench/results.json key "idle". BENCH_IDLE_SECONDS changes the window.
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import WebSocket from 'ws';
import { startMpd } from '../test/helpers/mpd.js';
import { startPulse } from '../test/helpers/pulse.js';
import { makeMusic } from '../test/helpers/proc.js';
import { startServe, cliToken } from '../test/helpers/serve.js';
import { CLK_TCK, childrenOf, cpuNs, cpuTicks, loadAverage, privateEnv, round, teardowns, wakeups, writeResult } from './lib.js';

const WINDOW_S = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const CLIENTS = 10;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const { t, run: cleanup } = teardowns();

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'mg-bench-idle-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const music = makeMusic(join(work, 'music'), 600);
  const mpd = await startMpd(t, { musicDir: music });
  mpd.mpc('-q', 'repeat', 'on');
  mpd.mpc('-q', 'play');
  const pa = await startPulse(t);
  const env = privateEnv(work, mpd, { config: {}, HOME: pa.home, XDG_RUNTIME_DIR: pa.runtime });
  const token = (await cliToken(env, 'idle-bench', 'read')).token;
  const srv = await startServe(t, env);

  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const ws = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/api/ws`, ['mediagate.v1'], { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    const got = { status: 0, volume: 0, other: 0 };
    ws.on('message', (d) => { const m = JSON.parse(String(d)); if (m.type in got) got[m.type]++; else got.other++; });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send(JSON.stringify({ type: 'subscribe' }));
    clients.push({ ws, got });
    t.teardown(() => ws.terminate());
  }
  await sleep(5000); // settle: subscriptions answered, start-up timers done
  const kids = childrenOf(srv.pid);
  const kidTicks0 = kids.map((k) => cpuTicks(k.pid));
  const msgs0 = clients.reduce((a, c) => a + c.got.status + c.got.volume + c.got.other, 0);
  const ticks0 = cpuTicks(srv.pid);
  const ns0 = cpuNs(srv.pid);
  const w0 = wakeups(srv.pid);
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const ticks = cpuTicks(srv.pid) - ticks0;
  const ns = cpuNs(srv.pid) - ns0;
  const w1 = wakeups(srv.pid);
  const kidTicks = kids.map((k, i) => { try { return cpuTicks(k.pid) - kidTicks0[i]; } catch { return null; } });
  const msgs = clients.reduce((a, c) => a + c.got.status + c.got.volume + c.got.other, 0) - msgs0;
  const playing = mpd.mpc('status').includes('[playing]');
  const open = clients.filter((c) => c.ws.readyState === WebSocket.OPEN).length;

  const cpuPercent = (ticks / CLK_TCK / seconds) * 100;
  const cpuPercentNs = (ns / 1e9 / seconds) * 100;
  const mainPerSecond = (w1.main - w0.main) / seconds;
  const result = {
    when: new Date().toISOString(),
    node: process.version,
    windowSeconds: round(seconds, 1),
    clients: CLIENTS,
    clientsOpenAtEnd: open,
    mpdPlayingThroughout: playing,
    cpuTicks: ticks,
    cpuPercent: round(cpuPercent, 3),
    cpuPercentSchedstat: round(cpuPercentNs, 3),
    mainThreadWakeups: w1.main - w0.main,
    mainThreadWakeupsPerSecond: round(mainPerSecond, 2),
    allThreadsWakeups: w1.all - w0.all,
    wsMessagesToClients: msgs,
    children: kids.map((k, i) => ({ comm: k.comm, cpuTicks: kidTicks[i] })),
    loadAverage: loadAverage(),
    target: '< 0.5% of one core; no timer firing more than once per second (main-thread wake-ups ≤ 1/s)',
    met: cpuPercent < 0.5 && mainPerSecond <= 1 && playing && open === CLIENTS,
  };
  console.log(`serve idle over ${result.windowSeconds} s (MPD playing, ${CLIENTS} subscribed WS clients, pactl subscribe running): `
    + `CPU ${result.cpuPercent}% of one core (${ticks} ticks; schedstat ${result.cpuPercentSchedstat}%), `
    + `main-thread wake-ups ${result.mainThreadWakeups} (${result.mainThreadWakeupsPerSecond}/s), WS messages sent ${msgs}`);
  if (kids.length) console.log(`  children: ${result.children.map((c) => `${c.comm} ${c.cpuTicks} ticks`).join(', ')}`);
  if (!process.argv.includes('--no-write')) writeResult('idle', result);
}

try { await main(); } finally { await cleanup(); }
