#!/usr/bin/env node
// Cold-start benchmark of the hot CLI commands, side by side with baselines in
// the same run: a bare `node -e 0`, `mpc status`, `playerctl status`.
// Starts its own MPD (null output) and mpv + mpv-mpris on a private bus,
// runs hyperfine (3 warm-up runs, then 15 measured runs per round) for several rounds, and
// reports medians and their ratio to `node -e 0`. NODE_EXTRA_CA_CERTS is
// removed from every measured process (it adds ~85 ms to each Node start).
// Writes bench/results.json (merged with other benches' sections).
// Node 22 and 24 (the binaries `npm run install:node-versions` put in the
// cache dir, when there): the hot commands again on each, with the compile
// cache bin/run.cjs enables there (the warm-up runs fill it), each as a ratio
// to THAT Node's `node -e 0` in the same round, set against the same
// command's Node 20 ratio (target: ≤ it); and one row with the cache off
// (NODE_DISABLE_COMPILE_CACHE=1) for what the cache itself buys.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMpd } from '../test/helpers/mpd.js';
import { startSessionBus, startMpv } from '../test/helpers/dbus.js';
import { startPulse } from '../test/helpers/pulse.js';
import { makeMusic } from '../test/helpers/proc.js';
import { startServe, cliToken } from '../test/helpers/serve.js';
import { NODE_LEG_MAJORS, nodeBinary } from '../test/helpers/node-versions.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'run.cjs');
// Many short rounds rather than a few long ones: the commands are interleaved
// more finely, so a burst of load from elsewhere hits them all alike.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
// hyperfine --runs per round (≥ 10, after --warmup WARMUP), median per round.
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);

const cleanups = [];
const t = { teardown: (fn) => cleanups.push(fn) };
const work = mkdtempSync(join(tmpdir(), 'mg-bench-'));
cleanups.push(() => rmSync(work, { recursive: true, force: true }));

async function main() {
  const music = makeMusic(join(work, 'music'));
  const mpd = await startMpd(t, { musicDir: music });
  mpd.mpc('-q', 'play');
  const bus = await startSessionBus(t);
  const mpv = await startMpv(t, bus, [join(music, 'a.ogg')]);
  const pa = await startPulse(t);
  const cfg = join(work, 'config');
  const state = join(work, 'state');
  execFileSync('mkdir', ['-m', '700', cfg, state]);

  const env = {
    PATH: process.env.PATH,
    HOME: pa.home,
    LANG: 'C.UTF-8',
    MPD_HOST: mpd.host,
    MPD_PORT: String(mpd.port),
    DBUS_SESSION_BUS_ADDRESS: bus.address,
    XDG_RUNTIME_DIR: pa.runtime,
    MEDIAGATE_CONFIG_DIR: cfg,
    MEDIAGATE_STATE_DIR: state,
  };
  // A running serve, for the figure a script gets by asking it instead of spawning mediagate.
  // Its own MPD, state and no sound server: it must not react to (and compete with) the
  // volume and pause commands measured here.
  const mpd2 = await startMpd(t, { musicDir: music });
  mpd2.mpc('-q', 'play');
  const serveDir = join(work, 'serve');
  execFileSync('mkdir', ['-p', '-m', '700', join(serveDir, 'config'), join(serveDir, 'state')]);
  const serveEnv = { ...env, MPD_PORT: String(mpd2.port), MPD_HOST: mpd2.host, XDG_RUNTIME_DIR: join(serveDir, 'none'), DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent', MEDIAGATE_CONFIG_DIR: join(serveDir, 'config'), MEDIAGATE_STATE_DIR: join(serveDir, 'state') };
  const token = (await cliToken(serveEnv, 'bench', 'read')).token;
  const srv = await startServe(t, serveEnv);
  const node = process.execPath;
  const commands = {
    'node -e 0': `${node} -e 0`,
    'mediagate play status --json (MPD)': `${node} ${bin} play status --json --player mpd`,
    'mediagate status --json (MPRIS)': `${node} ${bin} status --json --player ${mpv.name}`,
    'mediagate status --json (MPD + MPRIS, bare)': `${node} ${bin} status --json`,
    'mediagate pause (MPD, audited)': `${node} ${bin} pause --player mpd`,
    'mediagate volume +5 (PulseAudio)': `${node} ${bin} volume +5`,
    'mediagate volume (PulseAudio)': `${node} ${bin} volume`,
    // Module-load cost alone: the bundle the fast path requires, and nothing run.
    'node: require dist/fast.cjs (bundle load only)': `${node} -e "require('${join(root, 'dist', 'fast.cjs')}')"`,
    'mediagate play status --json via oclif (fast path off)': `env MEDIAGATE_NO_FAST_PATH=1 ${node} ${bin} play status --json --player mpd`,
    'curl GET /api/status (running serve)': `curl -sf -o /dev/null -H 'Authorization: Bearer ${token}' ${srv.url}/api/status`,
    'mpc status': `mpc -h ${mpd.host} -p ${mpd.port} status`,
    'playerctl status': `playerctl -p ${mpv.name} status`,
    'pactl get-sink-volume': 'pactl get-sink-volume @DEFAULT_SINK@',
    "node: import('@oclif/core')": `${node} -e "import('@oclif/core')"`,
    "node: import('execa')": `${node} -e "import('execa')"`,
    "node: import('conf')": `${node} -e "import('conf')"`,
    "node: import('dbus-next')": `${node} -e "import('dbus-next')"`,
  };
  // volume +5 must not walk off 100 during the runs
  const prepare = {
    'mediagate volume +5 (PulseAudio)': 'pactl set-sink-volume @DEFAULT_SINK@ 40%',
    'mediagate pause (MPD, audited)': `mpc -q -h ${mpd.host} -p ${mpd.port} play`,
  };
  // The same hot commands on the other majors: name → the Node 20 row it is set against.
  const HOT = {
    'mediagate play status --json (MPD)': `${bin} play status --json --player mpd`,
    'mediagate status --json (MPRIS)': `${bin} status --json --player ${mpv.name}`,
    'mediagate pause (MPD, audited)': `${bin} pause --player mpd`,
    'mediagate volume +5 (PulseAudio)': `${bin} volume +5`,
    'mediagate volume (PulseAudio)': `${bin} volume`,
  };
  const baseOf = {}; // row → the `node -e 0` row of its Node (default: Node 20's)
  const node20Row = {}; // row on 22/24 → its Node 20 row
  const legs = [];
  for (const major of NODE_LEG_MAJORS) {
    const other = nodeBinary(major);
    if (!other) { process.stderr.write(`Node ${major} is not installed (npm run install:node-versions): its rows are left out\n`); continue; }
    legs.push({ major, version: other.version });
    const base = `node ${major}: node -e 0`;
    commands[base] = `${other.path} -e 0`;
    baseOf[base] = base;
    for (const [name, args] of Object.entries(HOT)) {
      const row = `node ${major}: ${name}`;
      commands[row] = `${other.path} ${args}`;
      baseOf[row] = base;
      node20Row[row] = name;
      if (prepare[name]) prepare[row] = prepare[name];
    }
    const off = `node ${major}: mediagate play status --json (MPD), compile cache off`;
    commands[off] = `env NODE_DISABLE_COMPILE_CACHE=1 ${other.path} ${HOT['mediagate play status --json (MPD)']}`;
    baseOf[off] = base;
  }

  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const out = join(work, `round${r}.json`);
    const args = ['--warmup', String(WARMUP), '--runs', String(RUNS), '--shell=none', '--export-json', out, '--style', 'none'];
    for (const [name, cmd] of Object.entries(commands)) {
      if (prepare[name]) args.push('--prepare', prepare[name]); else args.push('--prepare', 'true');
      args.push('--command-name', name, cmd);
    }
    execFileSync('hyperfine', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const results = JSON.parse(readFileSync(out, 'utf8')).results;
    rounds.push(Object.fromEntries(results.map((x) => [x.command, x.median * 1000])));
    process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const ratioOf = (name) => median(rounds.map((r) => r[name] / r[baseOf[name] ?? 'node -e 0']));
  const rows = Object.keys(commands).map((name) => {
    const ms = median(rounds.map((r) => r[name]));
    const row = { name, medianMs: Math.round(ms * 10) / 10, ratioToNode: Math.round(ratioOf(name) * 100) / 100 };
    if (baseOf[name]) row.baseline = baseOf[name];
    if (node20Row[name]) {
      row.node20Ratio = Math.round(ratioOf(node20Row[name]) * 100) / 100;
      row.met = ratioOf(name) <= ratioOf(node20Row[name]);
    }
    return row;
  });
  const resultsPath = join(root, 'bench', 'results.json');
  const all = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : {};
  all.cli = {
    when: new Date().toISOString(),
    node: process.version,
    rounds: ROUNDS,
    runsPerRound: RUNS,
    warmupRuns: WARMUP,
    note: 'medians over rounds of per-round hyperfine medians; ratio = command / `node -e 0` of the same Node in the same round; NODE_EXTRA_CA_CERTS unset; rows "node 22: …" and "node 24: …" run on that Node with the compile cache bin/run.cjs enables (target: each ≤ its Node 20 ratio, node20Ratio)',
    otherNodes: legs,
    loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
    results: rows,
  };
  writeFileSync(resultsPath, `${JSON.stringify(all, null, 2)}\n`);
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'command'.padEnd(w)}  median ms  × node -e 0`);
  for (const r of rows) {
    const vs = r.node20Ratio === undefined ? '' : `  (Node 20: ${r.node20Ratio.toFixed(2)}; ${r.met ? 'met' : 'NOT met'})`;
    console.log(`${r.name.padEnd(w)}  ${String(r.medianMs).padStart(9)}  ${r.ratioToNode.toFixed(2).padStart(10)}${vs}`);
  }
  console.log(`load average ${all.cli.loadAverage.join(' ')}`);
}

try {
  await main();
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
