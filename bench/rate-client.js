#!/usr/bin/env node
// The load of bench/control.js's p99 leg: POST URL at a fixed RATE per second
// for SECONDS (open loop: requests go out on schedule whether or not earlier
// ones have answered), over up to CONNECTIONS keep-alive connections. Each
// latency is taken from the moment the request was DUE, not when a free
// connection let it go, so a stall shows in the figures instead of hiding
// behind a slower send rate (coordinated omission).
//   node bench/rate-client.js URL TOKEN RATE SECONDS CONNECTIONS
// Prints one JSON line: {sent, ok, errors, statuses, requestIds, latencyMs: {p50, p90, p99, p999, max}, achievedRps, seconds}.
import http from 'node:http';

const [url, token, rate, seconds, connections] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5]), Number(process.argv[6] ?? 64)];
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const total = Math.round(rate * seconds);
const latencies = [];
const statuses = {};
const requestIds = [];
let errors = 0;
let sent = 0;
let done = 0;

function fire(dueAt) {
  const req = http.request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-length': 0 } }, (res) => {
    res.resume();
    res.on('end', () => {
      latencies.push(performance.now() - dueAt);
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      requestIds.push(res.headers['x-request-id']);
      finish();
    });
  });
  req.on('error', () => { errors++; finish(); });
  req.end();
}

let resolveAll;
const all = new Promise((r) => { resolveAll = r; });
function finish() { if (++done === total) resolveAll(); }

const start = performance.now();
const interval = 1000 / rate;
// A timer cannot fire every 0.5 ms: each tick sends every request due by now, each timed from its own due moment.
const tick = () => {
  const now = performance.now();
  while (sent < total && start + sent * interval <= now) fire(start + sent++ * interval);
  if (sent < total) setTimeout(tick, 1);
};
tick();
await all;
const took = (performance.now() - start) / 1000;
agent.destroy();
latencies.sort((a, b) => a - b);
const q = (p) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 100) / 100;
console.log(JSON.stringify({
  sent: total, ok: statuses[200] ?? 0, errors, statuses, requestIds,
  latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: q(1) },
  achievedRps: Math.round(total / took), seconds: Math.round(took * 100) / 100,
}));
