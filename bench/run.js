#!/usr/bin/env node
// `npm run bench`: every benchmark of issue 6, one after another (each in its
// own process, NODE_EXTRA_CA_CERTS unset), then the table. Each writes its
// own key of bench/results.json. Skip some with BENCH_SKIP=idle,audit.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, cleanEnv, loadAverage } from './lib.js';

const benches = [
  ['cli', ['bench/cli.js']],
  ['mpris', ['bench/mpris.js']],
  ['volume', ['bench/volume.js']],
  ['server', ['bench/server.js']],
  ['tokens', ['bench/resolve-token.js']],
  ['limiter', ['--expose-gc', 'bench/limiter.js']],
  ['audit', ['bench/audit.js']],
  ['idle', ['bench/idle.js']],
  ['mqtt', ['bench/mqtt.js']],
];
const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
let failed = 0;
for (const [name, args] of benches) {
  if (skip.has(name)) continue;
  process.stderr.write(`\n== ${name} (load average ${loadAverage().join(' ')})\n`);
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: cleanEnv(), stdio: 'inherit' });
  if (r.status !== 0) { failed++; process.stderr.write(`bench ${name} failed (${r.status ?? r.signal})\n`); }
}
process.stderr.write('\n');
spawnSync(process.execPath, [join(ROOT, 'bench', 'table.js')], { stdio: 'inherit' });
process.exitCode = failed ? 1 : 0;
