// Rate limiter and failure lockout: allowed and denied for each, refill and
// unlock on an injected clock, bounded memory under a flood of keys.
import t from 'tap';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  RateLimiter, perSecondLimiter, GENERAL_LIMIT, SCRIPT_RUN_LIMIT, CREATION_LIMIT,
} from '../dist/server/rate-limit.js';
import { FailureLockout } from '../dist/server/failure-lockout.js';

function fakeClock(start = 1_000_000) {
  let now = start;
  const f = () => now;
  f.advance = (ms) => { now += ms; };
  return f;
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
function heapUsed() {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

t.test('limiter: a burst is allowed, the next request is 429 with Retry-After', async (t) => {
  const now = fakeClock();
  const l = new RateLimiter({ ...GENERAL_LIMIT, now, sweep: false });
  for (let i = 0; i < 40; i++) t.same(l.check('1.2.3.4'), { allowed: true, retryAfterSeconds: 0 }, `request ${i + 1} allowed`);
  const denied = l.check('1.2.3.4');
  t.equal(denied.allowed, false, '41st request in the same instant is refused');
  t.equal(denied.retryAfterSeconds, 1, 'one token comes back within 50 ms → Retry-After 1');
  t.equal(l.remaining('1.2.3.4'), 0);
  t.ok(l.check('5.6.7.8').allowed, 'another key has its own bucket');
});

t.test('limiter: refills lazily from timestamps', async (t) => {
  const now = fakeClock();
  const l = new RateLimiter({ rate: 20, burst: 40, now, sweep: false });
  for (let i = 0; i < 40; i++) l.check('k');
  t.notOk(l.check('k').allowed);
  now.advance(49);
  t.notOk(l.check('k').allowed, '49 ms: still no token');
  now.advance(1);
  t.ok(l.check('k').allowed, '50 ms: one token');
  t.notOk(l.check('k').allowed, 'and only one');
  now.advance(1000);
  t.equal(l.remaining('k'), 20, 'one second later: 20 tokens');
  for (let i = 0; i < 20; i++) t.ok(l.check('k').allowed);
  t.notOk(l.check('k').allowed);
  now.advance(10_000);
  t.equal(l.remaining('k'), 40, 'never more than the burst');
});

t.test('limiter: per-minute limits (scripts 10/min, creation 5/min) and their Retry-After', async (t) => {
  const now = fakeClock();
  const scripts = new RateLimiter({ ...SCRIPT_RUN_LIMIT, now, sweep: false });
  for (let i = 0; i < 10; i++) t.ok(scripts.check('ip').allowed);
  const d = scripts.check('ip');
  t.same(d, { allowed: false, retryAfterSeconds: 6 }, '11th run: wait 6 s for the next token');
  now.advance(6000);
  t.ok(scripts.check('ip').allowed, 'after 6 s one more run');
  t.notOk(scripts.check('ip').allowed);

  const create = new RateLimiter({ ...CREATION_LIMIT, now, sweep: false });
  for (let i = 0; i < 5; i++) t.ok(create.check('ip').allowed);
  t.same(create.check('ip'), { allowed: false, retryAfterSeconds: 12 });
  now.advance(11_999);
  t.notOk(create.check('ip').allowed, 'not a millisecond early');
  now.advance(1);
  t.ok(create.check('ip').allowed);
});

t.test('limiter: rate 0 disables only this limiter', async (t) => {
  const now = fakeClock();
  const off = perSecondLimiter(0, 40, { now, sweep: false });
  const on = perSecondLimiter(20, 40, { now, sweep: false });
  t.equal(off.enabled, false);
  for (let i = 0; i < 10_000; i++) if (!off.check('1.2.3.4').allowed) { t.fail('disabled limiter refused'); break; }
  t.equal(off.size, 0, 'stores nothing');
  for (let i = 0; i < 40; i++) on.check('1.2.3.4');
  t.notOk(on.check('1.2.3.4').allowed, 'a separate instance still limits');
});

t.test('limiter: invalid settings are refused with a config error', async (t) => {
  t.throws(() => new RateLimiter({ rate: -1 }), { exitCode: 5, code: 'config.invalid_value' });
  t.throws(() => new RateLimiter({ rate: Number.NaN }), { exitCode: 5 });
  t.throws(() => new RateLimiter({ rate: 20, burst: 0 }), { exitCode: 5, message: /burst/ });
  t.throws(() => new RateLimiter({ rate: 20, burst: 1.5 }), { exitCode: 5 });
  t.throws(() => new RateLimiter({ rate: 20, maxKeys: 0 }), { exitCode: 5 });
  t.ok(new RateLimiter({ rate: 0, burst: 40 }), 'rate 0 is valid');
});

t.test('limiter: the cap is hard; full buckets go first, then the least recently used', async (t) => {
  const now = fakeClock();
  const l = new RateLimiter({ rate: 1, burst: 2, maxKeys: 3, now, sweep: false });
  l.check('a'); l.check('a'); // a is empty
  l.check('b');
  l.check('c');
  t.equal(l.size, 3);
  l.check('a'); // touch a: denied, but moves it to the recent end
  l.check('d'); // cap: evicts the LRU, b
  t.equal(l.size, 3);
  t.equal(l.remaining('b'), 2, 'b was evicted (fresh bucket)');
  t.notOk(l.check('a').allowed, 'a (recently used) kept its empty bucket');
  t.equal(l.evicted, 1, 'one eviction that lost information');
  now.advance(5000); // everything refills
  l.check('e');
  t.equal(l.evicted, 1, 'full buckets are dropped, not counted as evictions');
  t.ok(l.size <= 3);
});

t.test('limiter: 100,000 distinct keys — memory stays bounded and returns to baseline when idle', async (t) => {
  const ip = (i) => `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
  const flood = (label, stepMs) => {
    const now = fakeClock();
    const l = new RateLimiter({ ...GENERAL_LIMIT, now, sweep: false });
    for (let i = 0; i < 100; i++) { l.check(ip(i)); l.check(ip(i)); }
    const base = heapUsed();
    for (let i = 0; i < 100_000; i++) { l.check(ip(i + 1000)); now.advance(stepMs); }
    const peakSize = l.size;
    const peak = heapUsed();
    t.ok(peakSize <= 50_000, `${label}: entries capped: ${peakSize} ≤ 50,000`);
    const growthMB = (peak - base) / 1048576;
    t.ok(growthMB < 30, `${label}: heap growth after 100,000 keys vs 100: ${growthMB.toFixed(2)} MB (< 30 MB)`);
    now.advance(l.idleWindowMs + 1);
    const dropped = l.prune();
    const after = heapUsed();
    t.equal(l.size, 0, `${label}: after the idle window (${l.idleWindowMs} ms) every bucket is full and dropped (${dropped})`);
    const residualMB = (after - base) / 1048576;
    t.ok(residualMB < 2, `${label}: heap back to baseline: ${residualMB.toFixed(2)} MB above it`);
    t.comment(`limiter memory, ${label}: peak +${growthMB.toFixed(2)} MB with ${peakSize} entries (evicted ${l.evicted}), after idle +${residualMB.toFixed(2)} MB`);
  };
  // Worst case: all 100,000 in the same instant, so no bucket refills and the cap must hold.
  flood('same instant', 0);
  // A flood spread over one second: new keys prune refilled ones as they arrive.
  flood('over 1 s', 0.01);
});

t.test('limiter: new keys prune idle ones on the way, and the sweep timer empties the map', async (t) => {
  const now = fakeClock();
  const l = new RateLimiter({ rate: 20, burst: 40, now, sweep: false });
  for (let i = 0; i < 1000; i++) l.check(`k${i}`);
  now.advance(10_000);
  for (let i = 0; i < 10; i++) l.check(`n${i}`);
  t.ok(l.size < 1000, `inserting prunes idle keys as it goes (size ${l.size})`);

  // The real timer (real clock): armed only while keys exist.
  const real = new RateLimiter({ rate: 1000, burst: 1 });
  real.check('x');
  t.equal(real.size, 1);
  await new Promise((r) => setTimeout(r, 1100));
  t.equal(real.size, 0, 'swept after ≥ 1 s');
  real.close();
});

t.test('lockout: 10 failures lock the IP; the correct secret is refused while locked', async (t) => {
  const now = fakeClock();
  const lock = new FailureLockout({ now, sweep: false });
  const correct = 'mg_correct';
  // A login as the server assembly does it: isLocked BEFORE verifying.
  const login = (ip, secret) => {
    const st = lock.isLocked(ip);
    if (st.locked) return { status: 429, retryAfter: st.retryAfterSeconds };
    if (secret === correct) return { status: 200 };
    lock.recordFailure(ip);
    return { status: 401 };
  };
  t.equal(login('203.0.113.9', correct).status, 200, 'allowed: correct secret before any failure');
  for (let i = 1; i <= 9; i++) t.equal(login('203.0.113.9', 'wrong').status, 401, `failure ${i}`);
  t.equal(lock.isLocked('203.0.113.9').locked, false, 'nine failures: not locked yet');
  t.equal(login('203.0.113.9', correct).status, 200, 'allowed: still open after nine');
  const tenth = lock.recordFailure('203.0.113.9');
  t.same(tenth, { locked: true, retryAfterSeconds: 900, failures: 10 }, 'the tenth locks for 15 min');
  const denied = login('203.0.113.9', correct);
  t.same(denied, { status: 429, retryAfter: 900 }, 'denied: the correct secret is refused while locked');
  t.equal(login('198.51.100.7', correct).status, 200, 'allowed: another IP is unaffected');
  t.equal(lock.failures('198.51.100.7'), 0);
});

t.test('lockout: unlocks after 15 min; attempts while locked do not extend it', async (t) => {
  const now = fakeClock();
  const lock = new FailureLockout({ now, sweep: false });
  for (let i = 0; i < 10; i++) lock.recordFailure('ip');
  now.advance(10 * 60_000);
  const during = lock.recordFailure('ip');
  t.same(during, { locked: true, retryAfterSeconds: 300, failures: 10 }, 'not counted, not extended');
  t.equal(lock.isLocked('ip').retryAfterSeconds, 300);
  now.advance(5 * 60_000 - 1);
  t.equal(lock.isLocked('ip').locked, true, 'locked until the last millisecond');
  t.equal(lock.isLocked('ip').retryAfterSeconds, 1);
  now.advance(1);
  t.same(lock.isLocked('ip'), { locked: false, retryAfterSeconds: 0 }, 'unlocked at 15 min');
  t.same(lock.recordFailure('ip'), { locked: false, retryAfterSeconds: 0, failures: 1 }, 'a fresh window starts');
});

t.test('lockout: failures age out of the 15 min window', async (t) => {
  const now = fakeClock();
  const lock = new FailureLockout({ now, sweep: false });
  for (let i = 0; i < 9; i++) lock.recordFailure('ip');
  now.advance(15 * 60_000);
  t.equal(lock.failures('ip'), 0, 'window over');
  t.equal(lock.recordFailure('ip').locked, false, 'the 10th failure 15 min later does not lock');
  t.equal(lock.failures('ip'), 1);
});

t.test('lockout: memory bounded under 100,000 failing addresses; empty after the window', async (t) => {
  const now = fakeClock();
  const lock = new FailureLockout({ now, sweep: false });
  for (let i = 0; i < 100_000; i++) lock.recordFailure(`10.9.${i >> 8 & 255}.${i & 255}:${i >> 16}`);
  t.ok(lock.size <= 50_000, `entries capped: ${lock.size}`);
  now.advance(15 * 60_000);
  lock.prune();
  t.equal(lock.size, 0, 'all expired entries dropped');
  t.throws(() => new FailureLockout({ maxFailures: 0 }), { exitCode: 5 });
  t.throws(() => new FailureLockout({ windowMs: -1 }), { exitCode: 5 });
});
