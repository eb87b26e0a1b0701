#!/usr/bin/env node
// `volume +5` cold, through the native PulseAudio client, on a real
// PulseAudio and on a real pipewire-pulse, side by side with `node -e 0`
// in the same run: hyperfine rounds with every command interleaved, medians
// of the per-round medians, ratios per round. For the record also `volume`
// (a read) and `volume +5` through pactl (the fallback, made to happen with
// PULSE_SERVER naming PulseAudio's TCP listener: the path every call took
// before the native client). Every command, the baseline included, runs
// through `env` with its own sound-server variables, so they pay alike;
// NODE_EXTRA_CA_CERTS is unset. Writes results.json key "volume".
// `npm run bench:volume`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPulse } from '../test/helpers/pulse.js';
import { startPipewire } from '../test/helpers/pipewire.js';
import { BIN, cleanEnv, loadAverage, median, round, teardowns, writeResult } from './lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);

const td = teardowns();
try {
  const work = mkdtempSync(join(tmpdir(), 'mg-bench-vol-'));
  td.t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const pa = await startPulse(td.t, { tcp: true });
  const pw = await startPipewire(td.t, { pulse: true });
  const dirs = (name) => {
    const d = join(work, name);
    execFileSync('mkdir', ['-p', '-m', '700', join(d, 'config'), join(d, 'state')]);
    return [`MEDIAGATE_CONFIG_DIR=${join(d, 'config')}`, `MEDIAGATE_STATE_DIR=${join(d, 'state')}`, `HOME=${d}`];
  };
  const node = process.execPath;
  const paVars = [`XDG_RUNTIME_DIR=${pa.runtime}`, ...dirs('pa')];
  const pwVars = [`XDG_RUNTIME_DIR=${pw.runtime}`, ...dirs('pw')];
  const tcpVars = [`PULSE_SERVER=tcp:127.0.0.1:${pa.tcpPort}`, `XDG_RUNTIME_DIR=${join(work, 'none')}`, ...dirs('tcp')];
  const cmd = (vars, ...args) => ['env', ...vars, node, ...args].join(' ');
  const commands = {
    'node -e 0': cmd(paVars, '-e', '0'),
    'mediagate volume +5 (PulseAudio)': cmd(paVars, BIN, 'volume', '+5'),
    'mediagate volume +5 (pipewire-pulse)': cmd(pwVars, BIN, 'volume', '+5'),
    'mediagate volume (read, PulseAudio)': cmd(paVars, BIN, 'volume'),
    'mediagate volume +5 through pactl (PulseAudio over TCP)': cmd(tcpVars, BIN, 'volume', '+5'),
  };
  // +5 must not walk off 100 during the runs
  const reset = (env) => `env ${env.join(' ')} pactl set-sink-volume @DEFAULT_SINK@ 40%`;
  const prepare = {
    'mediagate volume +5 (PulseAudio)': reset([`XDG_RUNTIME_DIR=${pa.runtime}`, `HOME=${pa.home}`]),
    'mediagate volume +5 (pipewire-pulse)': reset([`XDG_RUNTIME_DIR=${pw.runtime}`, `HOME=${pw.home}`]),
    'mediagate volume +5 through pactl (PulseAudio over TCP)': reset([`XDG_RUNTIME_DIR=${pa.runtime}`, `HOME=${pa.home}`]),
  };
  // a first call of each: they work (and the native ones do not fall back)
  for (const [name, line] of Object.entries(commands)) execFileSync('sh', ['-c', line], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'inherit'] });

  const rounds = [];
  // CPU time (user + system, hyperfine's means per round): steadier than wall time when other work loads the machine
  const cpuRounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const out = join(work, `round${r}.json`);
    // rotate the order each round, so no command always follows the same one
    const names = Object.keys(commands);
    const order = names.map((_, i) => names[(i + r) % names.length]);
    const args = ['--warmup', String(WARMUP), '--runs', String(RUNS), '--shell=none', '--export-json', out, '--style', 'none'];
    for (const name of order) args.push('--prepare', prepare[name] ?? 'true', '--command-name', name, commands[name]);
    execFileSync('hyperfine', args, { env: cleanEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
    const got = JSON.parse(readFileSync(out, 'utf8')).results;
    rounds.push(Object.fromEntries(got.map((x) => [x.command, x.median * 1000])));
    cpuRounds.push(Object.fromEntries(got.map((x) => [x.command, (x.user + x.system) * 1000])));
    process.stderr.write(`volume bench round ${r + 1}/${ROUNDS} done\n`);
  }
  const results = Object.keys(commands).map((name) => ({
    name,
    medianMs: round(median(rounds.map((x) => x[name])), 1),
    ratioToNode: round(median(rounds.map((x) => x[name] / x['node -e 0']))),
    cpuMs: round(median(cpuRounds.map((x) => x[name])), 1),
    cpuRatioToNode: round(median(cpuRounds.map((x) => x[name] / x['node -e 0']))),
  }));
  const res = {
    when: new Date().toISOString(),
    node: process.version,
    rounds: ROUNDS,
    runsPerRound: RUNS,
    warmupRuns: WARMUP,
    note: 'wall: medians over rounds of per-round hyperfine medians; cpu: medians over rounds of hyperfine\'s mean user+system time per run; commands interleaved (order rotating); ratio = command / `node -e 0` in the same round; every command run through env with its own variables; NODE_EXTRA_CA_CERTS unset',
    target: 'volume +5 ≤ 2.0× node -e 0 on PulseAudio and on pipewire-pulse',
    loadAverage: loadAverage(),
    results,
  };
  writeResult('volume', res);
  const w = Math.max(...results.map((x) => x.name.length));
  console.log(`${'command'.padEnd(w)}  median ms  × node -e 0   CPU ms  CPU × node`);
  for (const x of results) console.log(`${x.name.padEnd(w)}  ${String(x.medianMs).padStart(9)}  ${x.ratioToNode.toFixed(2).padStart(10)}  ${String(x.cpuMs).padStart(7)}  ${x.cpuRatioToNode.toFixed(2).padStart(10)}`);
  console.log(`load average ${res.loadAverage.join(' ')}`);
} finally {
  await td.run();
}
