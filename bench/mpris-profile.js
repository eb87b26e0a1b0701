#!/usr/bin/env node
// Where `status --json` on MPRIS spends its time, piece by piece: each piece
// timed inside fresh (cold) Node processes, medians over N runs, against a
// private dbus-daemon with mpv + mpv-mpris. Two clients side by side:
// dbus-next (what one-shot commands used; --follow and serve still do) and
// the small wire client (src/core/dbus-wire/, bundled here with esbuild the
// way dist/fast.cjs bundles it). Whole-command figures (node -e 0, the
// fast-path bundle loaded alone, the real status) are spawned interleaved.
// NODE_EXTRA_CA_CERTS unset. `npm run bench:mpris-profile`; PROFILE_RUNS=N.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BIN, ROOT, cleanEnv, median, round, teardowns, writeResult } from './lib.js';
import { startSessionBus, startMpv } from '../test/helpers/dbus.js';
import { makeMusic } from '../test/helpers/proc.js';

const RUNS = Number(process.env.PROFILE_RUNS ?? 15);
const { t, run: cleanup } = teardowns();
const work = mkdtempSync(join(tmpdir(), 'mg-mpris-profile-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

// Each child prints {phase: ms since the previous mark} as JSON; the first mark is "node start → script".
const MARKS = `
const { performance } = require('node:perf_hooks');
const marks = [['node start → script', performance.now()]];
const mark = (k) => marks.push([k, performance.now()]);
const done = () => { const out = {}; let p = 0; for (const [k, v] of marks) { out[k] = v - p; p = v; } console.log(JSON.stringify(out)); };
const GETALL = (iface) => ({ destination: 'org.mpris.MediaPlayer2.' + process.env.PLAYER, path: '/org/mpris/MediaPlayer2',
  interface: 'org.freedesktop.DBus.Properties', member: 'GetAll', signature: 's', body: [iface], flags: 2 });
const DAEMON = (member) => ({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member });
`;

const DBUS_NEXT_CHILD = `${MARKS}
const dbus = require(${JSON.stringify(join(ROOT, 'dist', 'dbus-next.cjs'))}); mark('load + parse dbus-next bundle');
const bus = dbus.sessionBus({ busAddress: process.env.DBUS_SESSION_BUS_ADDRESS }); mark('set up the bus object');
bus.on('connect', async () => {
  mark('connect + SASL auth + Hello');
  const call = (o) => bus.call(new dbus.Message(o));
  await call(DAEMON('ListNames')); mark('ListNames');
  await Promise.all([call(GETALL('org.mpris.MediaPlayer2.Player')), call(GETALL('org.mpris.MediaPlayer2'))]); mark('GetAll Player + root (parallel)');
  bus.disconnect(); done();
});
`;

const WIRE_CHILD = (bundle) => `${MARKS}
const { WireConnection } = require(${JSON.stringify(bundle)}); mark('load + parse wire client');
(async () => {
  const path = process.env.DBUS_SESSION_BUS_ADDRESS.replace(/^unix:path=/, '');
  const conn = await WireConnection.open({ kind: 'unix', path, abstract: false }).ready; mark('connect + SASL auth (Hello sent)');
  await conn.call(DAEMON('ListNames')); mark('Hello + ListNames (pipelined)');
  await Promise.all([conn.call(GETALL('org.mpris.MediaPlayer2.Player')), conn.call(GETALL('org.mpris.MediaPlayer2'))]); mark('GetAll Player + root (parallel)');
  conn.close(); done();
})();
`;

function phases(script, env) {
  const file = join(work, `child-${Math.random().toString(36).slice(2)}.cjs`);
  writeFileSync(file, script);
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(process.execPath, [file], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`profile child failed: ${r.stderr}`);
    runs.push(JSON.parse(r.stdout.trim().split('\n').pop()));
  }
  return Object.fromEntries(Object.keys(runs[0]).map((k) => [k, round(median(runs.map((x) => x[k])), 1)]));
}

function wall(commands, env) {
  const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let i = 0; i < RUNS + 2; i++) {
    for (const [name, argv] of Object.entries(commands)) {
      const s = process.hrtime.bigint();
      const r = spawnSync(argv[0], argv.slice(1), { env, stdio: 'ignore' });
      const ms = Number(process.hrtime.bigint() - s) / 1e6;
      if (r.status !== 0) throw new Error(`${name}: exit ${r.status}`);
      if (i >= 2) times[name].push(ms); // two warm-up rounds
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, round(median(v), 1)]));
}

async function main() {
  const music = makeMusic(join(work, 'music'));
  const bus = await startSessionBus(t);
  const mpv = await startMpv(t, bus, [join(music, 'a.ogg'), '--loop-file=inf']);
  const cfg = join(work, 'config');
  const state = join(work, 'state');
  spawnSync('mkdir', ['-m', '700', cfg, state]);
  const env = cleanEnv({ DBUS_SESSION_BUS_ADDRESS: bus.address, MEDIAGATE_CONFIG_DIR: cfg, MEDIAGATE_STATE_DIR: state, PLAYER: mpv.name });

  const wireBundle = join(work, 'wire.cjs');
  await build({ entryPoints: [join(ROOT, 'dist', 'core', 'dbus-wire', 'connection.js')], outfile: wireBundle, bundle: true, platform: 'node', format: 'cjs', target: 'node20', minify: true, logLevel: 'warning' });

  const node = process.execPath;
  const whole = wall({
    'node -e 0': [node, '-e', '0'],
    'node: require dist/fast.cjs': [node, '-e', `require(${JSON.stringify(join(ROOT, 'dist', 'fast.cjs'))})`],
    'mediagate status --json --player mpv': [node, BIN, 'status', '--json', '--player', mpv.name],
  }, env);
  const dbusNext = phases(DBUS_NEXT_CHILD, env);
  const wire = phases(WIRE_CHILD(wireBundle), env);
  const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  writeResult('mprisProfile', { when: new Date().toISOString(), node: process.version, runs: RUNS, loadAverage, whole, dbusNext, wire,
    note: 'medians (ms) over cold processes; phases are the time since the previous mark in one process; NODE_EXTRA_CA_CERTS unset' });
  const show = (title, o, total = true) => {
    console.log(`\n${title}`);
    const w = Math.max(...Object.keys(o).map((k) => k.length));
    let sum = 0;
    for (const [k, v] of Object.entries(o)) { sum += v; console.log(`  ${k.padEnd(w)}  ${v.toFixed(1).padStart(6)} ms`); }
    if (total) console.log(`  ${'total'.padEnd(w)}  ${sum.toFixed(1).padStart(6)} ms`);
  };
  show('whole commands (wall, spawned interleaved)', whole, false);
  show('dbus-next: one status worth of calls, cold', dbusNext);
  show('wire client: the same calls, cold', wire);
  console.log(`\nload average: ${loadAverage.join(' ')}`);
}

try {
  await main();
} finally {
  await cleanup();
}
