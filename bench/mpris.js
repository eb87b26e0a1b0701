#!/usr/bin/env node
// `mediagate status --json` on MPRIS, cold, against a bare `node -e 0` in
// the same rounds: its own private dbus-daemon and mpv + mpv-mpris (looping
// a test file, so it stays playing), hyperfine rounds interleaving every
// command (warm-up runs, then measured runs, per round), medians of the
// per-round medians and of the per-round ratios. NODE_EXTRA_CA_CERTS is
// removed from every measured process. Also measured, to show where the
// time goes: the fast-path bundle loaded alone, dbus-next's bundle loaded
// alone (what one-shot commands no longer load), playerctl; with
// BENCH_MPRIS_BASE=DIR also the same status from another built checkout.
// Writes bench/results.json → "mpris".
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, cleanEnv, median, round, teardowns, writeResult } from './lib.js';
import { startSessionBus, startMpv } from '../test/helpers/dbus.js';
import { makeMusic } from '../test/helpers/proc.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);

const { t, run: cleanup } = teardowns();
const work = mkdtempSync(join(tmpdir(), 'mg-bench-mpris-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

async function main() {
  const music = makeMusic(join(work, 'music'));
  const bus = await startSessionBus(t);
  const mpv = await startMpv(t, bus, [join(music, 'a.ogg'), '--loop-file=inf']);
  const cfg = join(work, 'config');
  const state = join(work, 'state');
  mkdirSync(cfg, { mode: 0o700 });
  mkdirSync(state, { mode: 0o700 });
  const env = cleanEnv({ DBUS_SESSION_BUS_ADDRESS: bus.address, MEDIAGATE_CONFIG_DIR: cfg, MEDIAGATE_STATE_DIR: state, LANG: 'C.UTF-8' });
  // The bare command without MPD in the picture: MPRIS is the only backend asked.
  execFileSync(process.execPath, [BIN, 'config', 'set', 'mpd.enabled', 'false'], { env, stdio: 'ignore' });
  const node = process.execPath;
  const commands = {
    'node -e 0': `${node} -e 0`,
    'mediagate status --json --player mpv (MPRIS)': `${node} ${BIN} status --json --player ${mpv.name}`,
    'mediagate status --json (MPRIS only, bare)': `${node} ${BIN} status --json`,
    'mediagate toggle --player mpv (MPRIS, audited)': `${node} ${BIN} toggle --player ${mpv.name}`,
    'node: require dist/fast.cjs (bundle load only)': `${node} -e "require('${join(ROOT, 'dist', 'fast.cjs')}')"`,
    'node: require dist/dbus-next.cjs (not loaded by one-shot commands)': `${node} -e "require('${join(ROOT, 'dist', 'dbus-next.cjs')}')"`,
    'playerctl status': `playerctl -p ${mpv.name} status`,
  };
  // BENCH_MPRIS_BASE=/path/to/another/built/checkout: the same status from it, in the same rounds (before/after).
  const base = process.env.BENCH_MPRIS_BASE;
  if (base) commands[`status --json --player mpv from ${base}`] = `${node} ${join(base, 'bin', 'run.cjs')} status --json --player ${mpv.name}`;
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const out = join(work, `round${r}.json`);
    const args = ['--warmup', String(WARMUP), '--runs', String(RUNS), '--shell=none', '--export-json', out, '--style', 'none'];
    for (const [name, cmd] of Object.entries(commands)) args.push('--command-name', name, cmd);
    execFileSync('hyperfine', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const results = JSON.parse(readFileSync(out, 'utf8')).results;
    rounds.push(Object.fromEntries(results.map((x) => [x.command, x.median * 1000])));
    process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
  }
  const rows = Object.keys(commands).map((name) => ({
    name,
    medianMs: round(median(rounds.map((x) => x[name])), 1),
    ratioToNode: round(median(rounds.map((x) => x[name] / x['node -e 0']))),
  }));
  const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  writeResult('mpris', {
    when: new Date().toISOString(),
    node: process.version,
    rounds: ROUNDS,
    runsPerRound: RUNS,
    warmupRuns: WARMUP,
    note: 'medians over rounds of per-round hyperfine medians; ratio = command / `node -e 0` in the same round; NODE_EXTRA_CA_CERTS unset; target: status --json --player mpv ≤ 2.0×',
    loadAverage,
    results: rows,
  });
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'command'.padEnd(w)}  median ms  × node -e 0`);
  for (const r of rows) console.log(`${r.name.padEnd(w)}  ${String(r.medianMs).padStart(9)}  ${r.ratioToNode.toFixed(2).padStart(10)}`);
  console.log(`load average at the end: ${loadAverage.join(' ')}`);
}

try {
  await main();
} finally {
  await cleanup();
}
