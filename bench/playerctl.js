#!/usr/bin/env node
// The playerctl mode's two promises, measured in one run on one mpv + mpv-mpris
// (a private session bus, null audio):
//  1. cold start: `mediagate playerctl metadata --format '{{artist}} - {{title}}'`
//     against `mediagate status --format …` on the same player (target ratio
//     ≤ 1.05: the mode rides the same fast path), both beside `playerctl`
//     itself and `node -e 0`. Medians of interleaved rounds: every round runs
//     each command RUNS times, in an order rotated from round to round.
//  2. --follow latency: `mediagate playerctl -F` and `playerctl -F` listen
//     side by side; `playerctl play-pause` makes the change; each follower's
//     time from the start of that command to its line (target: mediagate's
//     median ≤ 1.2× playerctl's).
// NODE_EXTRA_CA_CERTS is removed from every measured process. Writes the
// "playerctl" section of bench/results.json.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSessionBus, startMpv } from '../test/helpers/dbus.js';
import { makeMusic } from '../test/helpers/proc.js';
import { BIN, cleanEnv, loadAverage, median, round, teardowns, writeResult } from './lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 30);
const TEMPLATE = '{{artist}} - {{title}}';

const { t, run: cleanup } = teardowns();
const work = mkdtempSync(join(tmpdir(), 'mg-bench-pc-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function timeOnce(cmd, args, env) {
  const start = performance.now();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return { ms, out: r.stdout };
}

async function coldStart(env, player) {
  const node = process.execPath;
  const commands = {
    'node -e 0': [node, ['-e', '0']],
    'playerctl metadata --format': ['playerctl', ['-p', player, 'metadata', '--format', TEMPLATE]],
    'mediagate playerctl metadata --format': [node, [BIN, 'playerctl', '-p', player, 'metadata', '--format', TEMPLATE]],
    'mediagate status --format': [node, [BIN, 'status', '--player', player, '--format', TEMPLATE]],
  };
  const names = Object.keys(commands);
  // mpv reads the file's tags a moment after it is on the bus.
  const end = Date.now() + 10000;
  while (timeOnce(...commands['playerctl metadata --format'], env).out !== 'Probe - SineA\n') {
    if (Date.now() > end) throw new Error('mpv never reported the tags of a.ogg');
    await new Promise((r) => setTimeout(r, 100));
  }
  // Same answer from all three tools before timing anything.
  const outs = names.slice(1).map((n) => timeOnce(...commands[n], env).out);
  if (new Set(outs).size !== 1) throw new Error(`the commands disagree: ${JSON.stringify(outs)}`);
  for (const n of names) timeOnce(...commands[n], env); // warm the page cache
  const perRound = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    const samples = Object.fromEntries(names.map((n) => [n, []]));
    for (let i = 0; i < RUNS; i++) for (const n of order) samples[n].push(timeOnce(...commands[n], env).ms);
    for (const n of names) perRound[n].push(median(samples[n]));
  }
  const med = Object.fromEntries(names.map((n) => [n, median(perRound[n])]));
  // The target ratio, also as the median of per-round ratios (robust to a loaded round).
  const roundRatios = perRound['mediagate playerctl metadata --format'].map((x, i) => x / perRound['mediagate status --format'][i]);
  return {
    output: outs[0].trim(),
    medianMs: Object.fromEntries(names.map((n) => [n, round(med[n])])),
    vsNode: Object.fromEntries(names.map((n) => [n, round(med[n] / med['node -e 0'])])),
    playerctlModeVsStatus: round(med['mediagate playerctl metadata --format'] / med['mediagate status --format'], 3),
    playerctlModeVsStatusPerRoundMedian: round(median(roundRatios), 3),
    target: '≤ 1.05',
  };
}

/** A --follow process; `next(since)` resolves the ms from `since` to its next line. */
function follower(cmd, args, env) {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  const lines = [];
  let buf = '';
  let waiter;
  child.stdout.setEncoding('utf8').on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push({ text: buf.slice(0, i), at: performance.now() });
      buf = buf.slice(i + 1);
      waiter?.();
    }
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const lineAfter = (from, ms = 5000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { waiter = undefined; reject(new Error(`${args.join(' ')}: no line within ${ms} ms (${stderr})`)); }, ms);
    waiter = () => { if (lines.length > from) { clearTimeout(timer); waiter = undefined; resolve(lines[from]); } };
    waiter();
  });
  return { lines, lineAfter };
}

async function followLatency(env, player) {
  const args = ['-p', player, '-F', 'metadata', '--format', '{{status}}'];
  const pc = follower('playerctl', args, env);
  const mg = follower(process.execPath, [BIN, 'playerctl', ...args], env);
  await Promise.all([pc.lineAfter(0), mg.lineAfter(0)]); // the first line: the state at start
  const lat = { playerctl: [], mediagate: [] };
  const spawnExit = (cmd, a) => new Promise((resolve, reject) => {
    const c = spawn(cmd, a, { env, stdio: 'ignore' });
    c.on('error', reject);
    c.on('close', resolve);
  });
  for (let i = 0; i < CHANGES; i++) {
    const p = pc.lines.length;
    const m = mg.lines.length;
    const start = performance.now();
    const done = spawnExit('playerctl', ['-p', player, 'play-pause']);
    const [a, b] = await Promise.all([pc.lineAfter(p), mg.lineAfter(m), done]);
    if (a.text !== b.text) throw new Error(`followers disagree: ${a.text} vs ${b.text}`);
    lat.playerctl.push(a.at - start);
    lat.mediagate.push(b.at - start);
    await new Promise((r) => setTimeout(r, 150)); // let both settle (no queued lines)
  }
  const pcMed = median(lat.playerctl);
  const mgMed = median(lat.mediagate);
  return {
    changes: CHANGES,
    medianMs: { 'playerctl --follow': round(pcMed), 'mediagate playerctl --follow': round(mgMed) },
    ratio: round(mgMed / pcMed, 3),
    target: '≤ 1.2',
    note: 'from the start of `playerctl play-pause` to the follower\'s line; both followers listen at once',
  };
}

async function main() {
  const music = makeMusic(join(work, 'music'));
  const bus = await startSessionBus(t);
  const mpv = await startMpv(t, bus, [join(music, 'a.ogg')]);
  const env = cleanEnv({
    DBUS_SESSION_BUS_ADDRESS: bus.address,
    LANG: 'C.UTF-8',
    HOME: work,
    XDG_RUNTIME_DIR: join(work, 'none'),
    MEDIAGATE_CONFIG_DIR: join(work, 'config'),
    MEDIAGATE_STATE_DIR: join(work, 'state'),
    MPD_HOST: join(work, 'no-mpd.sock'),
  });
  spawnSync('mkdir', ['-m', '700', '-p', env.MEDIAGATE_CONFIG_DIR, env.MEDIAGATE_STATE_DIR]);
  const loadBefore = loadAverage();
  const cold = await coldStart(env, mpv.name);
  const follow = await followLatency(env, mpv.name);
  const result = { when: new Date().toISOString(), node: process.version, rounds: ROUNDS, runsPerRound: RUNS, loadBefore, loadAfter: loadAverage(), coldStart: cold, follow };
  writeResult('playerctl', result);
  console.log(JSON.stringify(result, null, 2));
}

main().then(cleanup, async (e) => { console.error(e); await cleanup(); process.exitCode = 1; });
