#!/usr/bin/env node
// Limiter memory under a flood of distinct client addresses: the real
// limiter modules of serve (the general per-address token bucket with the
// default 20/s burst 40, the failure lockout, the audit denial gate), on a
// simulated clock, in this process. Heap in use (after a full GC) is read
// after 100 distinct addresses, after 100,000, and after the idle window
// (the clock moved past each limiter's window and its own unref'd sweep
// timer fired). Each address makes one request (and, for the lockout, one
// failed authentication), keyed the way serve keys them (rateLimitKey).
// Why a simulated clock: the figure is the limiters' own memory, measured
// exactly, and the idle window of the lockout is 15 minutes.
// Needs --expose-gc; `npm run bench` runs it so. Writes results.json "limiter".
import { RateLimiter, GENERAL_LIMIT } from '../dist/server/rate-limit.js';
import { FailureLockout } from '../dist/server/failure-lockout.js';
import { DenialGate } from '../dist/server/audit-gate.js';
import { rateLimitKey } from '../dist/server/client-ip.js';
import { round, writeResult } from './lib.js';

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc bench/limiter.js');
  process.exit(2);
}

let clock = 1_000_000;
const now = () => clock;
const general = new RateLimiter({ ...GENERAL_LIMIT, now, name: 'server.rateLimit' });
const lockout = new FailureLockout({ now });
const gate = new DenialGate(60_000, 10_000, now);

/** The n-th distinct client address: IPv4 10.x.y.z, every 4th an IPv6 address in its own /64. */
function address(n) {
  if (n % 4 === 3) return `2001:db8:${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}::1`;
  return `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function flood(from, to) {
  for (let n = from; n < to; n++) {
    const key = rateLimitKey(address(n));
    general.check(key);
    lockout.recordFailure(key);
    gate.check(`${key}|auth.missing_token|anonymous`);
    clock += 0.01; // 100,000 requests a second
  }
}

function heap() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;

const empty = heap();
flood(0, 100);
const after100 = heap();
const sizes100 = { general: general.size, lockout: lockout.size, gate: gate.size };
flood(100, 100_000);
const after100k = heap();
const sizes100k = { general: general.size, lockout: lockout.size, gate: gate.size };

// Idle: move the clock past the longest window (lockout: 15 min). Each module's
// sweep timer runs in real time (the general bucket's fires within ~1 s, the
// others' after their real window), so after a real wait for the first one,
// the others' sweep — prune(), what their timers call — is run directly.
clock += 16 * 60_000;
await sleep(2500);
const sweptByTimer = general.size === 0;
lockout.prune();
gate.prune();
const afterIdle = heap();
const sizesIdle = { general: general.size, lockout: lockout.size, gate: gate.size };

const growthMB = (after100k - after100) / MB;
const residualMB = (afterIdle - after100) / MB;
const result = {
  when: new Date().toISOString(),
  node: process.version,
  method: 'real limiter modules (general bucket 20/s burst 40, failure lockout, denial gate), simulated clock, heapUsed after full GC',
  addresses: 100_000,
  heapMB: { empty: round(empty / MB), after100: round(after100 / MB), after100k: round(after100k / MB), afterIdle: round(afterIdle / MB) },
  keys: { after100: sizes100, after100k: sizes100k, afterIdle: sizesIdle },
  generalSweptByItsTimer: sweptByTimer,
  growthMB: round(growthMB),
  residualMB: round(residualMB),
  target: '< 30 MB growth; back to baseline (within 1 MB) after the idle window',
  met: growthMB < 30 && residualMB < 1,
};
general.close();
lockout.close();
gate.clear();
console.log(`limiter memory: after 100 addresses ${result.heapMB.after100} MB heap, after 100,000 ${result.heapMB.after100k} MB (+${result.growthMB} MB), after the idle window ${result.heapMB.afterIdle} MB (${result.residualMB >= 0 ? '+' : ''}${result.residualMB} MB)`);
console.log(`  keys held: ${JSON.stringify(result.keys)}`);
if (!process.argv.includes('--no-write')) writeResult('limiter', result);
