#!/usr/bin/env node
// The load of bench/control.js's p99 leg: POST URL at a fixed RATE per second
// for SECONDS (open loop: requests go out on schedule whether or not earlier
// ones have answered), over up to CONNECTIONS keep-alive connections. Each
// latency is taken from the moment the request was DUE, not when a free
// connection let it go (bench/open-loop.js).
//   node bench/rate-client.js URL TOKEN RATE SECONDS CONNECTIONS
// Prints one JSON line: {sent, ok, errors, statuses, requestIds, latencyMs: {p50, p90, p99, p999, max}, achievedRps, seconds}.
import http from 'node:http';
import { latencySummary, openLoop } from './open-loop.js';

const [url, token, rate, seconds, connections] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5]), Number(process.argv[6] ?? 64)];
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const total = Math.round(rate * seconds);
const latencies = [];
const statuses = {};
const requestIds = [];
let errors = 0;

/** One POST, settled when its answer has been read (or it failed). */
function fire(dueAt) {
  return new Promise((settle) => {
    const req = http.request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-length': 0 } }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(performance.now() - dueAt);
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        requestIds.push(res.headers['x-request-id']);
        settle();
      });
    });
    req.on('error', () => { errors++; settle(); });
    req.end();
  });
}

const took = await openLoop(rate, total, fire);
agent.destroy();
console.log(JSON.stringify({
  sent: total, ok: statuses[200] ?? 0, errors, statuses, requestIds,
  latencyMs: latencySummary(latencies),
  achievedRps: Math.round(total / took), seconds: Math.round(took * 100) / 100,
}));
