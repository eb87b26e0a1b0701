// The open loop of bench/control.js's p99 leg, shared by its two load
// generators (bench/rate-client.js through serve, bench/mpd-rate-loop.js
// straight to MPD): requests go out on schedule whether or not earlier ones
// have answered, and each latency is taken from the moment the request was
// DUE, so a stall shows in the figures instead of hiding behind a slower
// send rate (coordinated omission). No imports: the load processes start bare.

/**
 * Call `fire(dueAt, n)` for n = 0 … total-1 at `rate` per second (a timer
 * cannot fire every 0.5 ms: each tick sends every request due by then).
 * Resolves when every returned promise has settled, with the seconds taken.
 */
export async function openLoop(rate, total, fire) {
  const pending = [];
  const start = performance.now();
  const interval = 1000 / rate;
  let sent = 0;
  await new Promise((done) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) { pending.push(fire(start + sent * interval, sent)); sent++; }
      if (sent < total) setTimeout(tick, 1); else done();
    };
    tick();
  });
  await Promise.allSettled(pending);
  return (performance.now() - start) / 1000;
}

/** p50, p90, p99, p999 and max of latencies in ms (sorted in place), to 0.01 ms. */
export function latencySummary(latencies) {
  latencies.sort((a, b) => a - b);
  const q = (p) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 100) / 100;
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: q(1) };
}
