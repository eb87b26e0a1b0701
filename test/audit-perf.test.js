// How fast the audit log is on this machine: sustained batched appends per
// second (fsync on, default options) and the caller-visible cost of append().
// The assertions are loose floors; the numbers are printed as comments.
import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, verifyAudit } from '../dist/core/audit/log.js';
import { tempDir } from './helpers/proc.js';

t.test('sustained throughput and append() latency', async (t) => {
  const dir = join(tempDir(t, 'mg-audit-perf-'), 'state');
  mkdirSync(dir, { mode: 0o700 });
  const N = 200_000;
  const log = new AuditLog(dir);
  const samples = new Float64Array(N);
  const event = (i) => ({
    actor: { id: 'token:tok_7k2m9q4x', label: 'phone' },
    action: 'player.pause',
    target: 'mpd',
    outcome: i % 10 ? 'ok' : 'denied',
    ip: `192.0.2.${i % 250}`,
    requestId: `req-${i}`,
    detail: 'from the perf test',
  });
  const started = process.hrtime.bigint();
  let refused = 0;
  for (let i = 0; i < N; i++) {
    const e = event(i);
    const t0 = process.hrtime.bigint();
    if (!log.append(e)) refused++;
    samples[i] = Number(process.hrtime.bigint() - t0) / 1e3; // µs
    // A producer that yields to the writer while the queue is half full.
    while (log.stats().queued >= 5000) await new Promise((r) => setImmediate(r));
  }
  await log.close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const sorted = Array.from(samples).sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const rate = N / seconds;
  t.comment(`sustained: ${N} events in ${seconds.toFixed(2)} s = ${Math.round(rate)} appends/s (batched, fsync per batch)`);
  t.comment(`append(): p50 ${pct(0.5).toFixed(2)} µs, p99 ${pct(0.99).toFixed(2)} µs, p99.9 ${pct(0.999).toFixed(2)} µs, max ${sorted[sorted.length - 1].toFixed(0)} µs`);
  t.equal(refused, 0);
  t.match(log.stats(), { written: N, dropped: 0, failed: 0, errors: 0 });
  t.ok(rate > 5000, 'at least 5,000 appends/s sustained');
  t.ok(pct(0.99) < 1000, 'p99 of append() under 1 ms');
  const v = await verifyAudit(dir);
  t.match(v, { ok: true, count: N });
  const t1 = process.hrtime.bigint();
  await verifyAudit(dir);
  t.comment(`verify: ${N} lines in ${(Number(process.hrtime.bigint() - t1) / 1e6).toFixed(0)} ms`);
});
