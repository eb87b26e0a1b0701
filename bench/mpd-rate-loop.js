#!/usr/bin/env node
// The baseline of bench/control.js's p99 leg: MPD alone under the same open
// loop — RATE toggles a second for SECONDS, each the two round trips serve
// makes for a toggle (a status + currentsong command list, then `pause 1` or
// `pause 0` from what it read), over three persistent connections (serve's
// MPD pool), latency from each toggle's due moment (bench/open-loop.js). No HTTP, no auth, no
// audit, no live state: what MPD itself gives at that rate.
//   node bench/mpd-rate-loop.js HOST PORT RATE SECONDS
// Prints one JSON line: {sent, latencyMs: {p50, p90, p99, p999, max}, achievedRps, seconds}.
import { MpdConnection } from '../dist/core/players/mpd-protocol.js';
import { latencySummary, openLoop } from './open-loop.js';

const [host, port, rate, seconds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const conns = await Promise.all([0, 1, 2].map(() => MpdConnection.open({ kind: 'tcp', host, port }, { timeoutMs: 30000, display: `${host}:${port}` })));
const total = Math.round(rate * seconds);
const latencies = [];

async function toggle(dueAt, n) {
  const [status] = await conns[n % 3].commandList([['status'], ['currentsong']]);
  const playing = status.some(([k, v]) => k === 'state' && v === 'play');
  await conns[(n + 1) % 3].command('pause', playing ? '1' : '0');
  latencies.push(performance.now() - dueAt);
}

const took = await openLoop(rate, total, toggle);
for (const c of conns) c.close();
console.log(JSON.stringify({ sent: total, latencyMs: latencySummary(latencies), achievedRps: Math.round(total / took), seconds: Math.round(took * 100) / 100 }));
