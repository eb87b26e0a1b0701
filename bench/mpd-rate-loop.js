#!/usr/bin/env node
// The baseline of bench/control.js's p99 leg: MPD alone under the same open
// loop — RATE toggles a second for SECONDS, each the two round trips serve
// makes for a toggle (a status + currentsong command list, then `pause 1` or
// `pause 0` from what it read), over three persistent connections (serve's
// MPD pool), latency from each toggle's due moment. No HTTP, no auth, no
// audit, no live state: what MPD itself gives at that rate.
//   node bench/mpd-rate-loop.js HOST PORT RATE SECONDS
// Prints one JSON line: {sent, latencyMs: {p50, p90, p99, p999, max}, achievedRps, seconds}.
import { MpdConnection } from '../dist/core/players/mpd-protocol.js';

const [host, port, rate, seconds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const conns = await Promise.all([0, 1, 2].map(() => MpdConnection.open({ kind: 'tcp', host, port }, { timeoutMs: 30000, display: `${host}:${port}` })));
const total = Math.round(rate * seconds);
const latencies = [];
const pending = [];
let sent = 0;

async function toggle(dueAt, n) {
  const [status] = await conns[n % 3].commandList([['status'], ['currentsong']]);
  const playing = status.some(([k, v]) => k === 'state' && v === 'play');
  await conns[(n + 1) % 3].command('pause', playing ? '1' : '0');
  latencies.push(performance.now() - dueAt);
}

const start = performance.now();
const interval = 1000 / rate;
await new Promise((done) => {
  const tick = () => {
    const now = performance.now();
    while (sent < total && start + sent * interval <= now) { pending.push(toggle(start + sent * interval, sent)); sent++; }
    if (sent < total) setTimeout(tick, 1); else done();
  };
  tick();
});
await Promise.all(pending);
const took = (performance.now() - start) / 1000;
for (const c of conns) c.close();
latencies.sort((a, b) => a - b);
const q = (p) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 100) / 100;
console.log(JSON.stringify({ sent: total, latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: q(1) }, achievedRps: Math.round(total / took), seconds: Math.round(took * 100) / 100 }));
