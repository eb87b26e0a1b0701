#!/usr/bin/env node
// The readable table of bench/results.json (and bench/soak.json when the
// soak run has written it): every figure of issue 6 with its baseline from
// the same run, the measured value, the ratio, the target and whether it is
// met. `npm run bench:table`; `npm run bench` prints it at the end.
// --markdown prints a Markdown table (for the README).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS, ROOT } from './lib.js';

const r = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : {};
const soakPath = join(ROOT, 'bench', 'soak.json');
const soak = existsSync(soakPath) ? JSON.parse(readFileSync(soakPath, 'utf8')) : null;
const rows = [];
const yes = (b) => (b === undefined || b === null ? '?' : b ? 'yes' : 'NO');
const ms = (x) => (x === undefined ? '–' : `${x} ms`);

const cli = Object.fromEntries((r.cli?.results ?? []).map((x) => [x.name, x]));
const node0 = cli['node -e 0'];
const cliRow = (label, name, target, limit, stretch) => {
  const x = cli[name];
  if (!x) return;
  rows.push([label, `node -e 0: ${ms(node0?.medianMs)}`, ms(x.medianMs), `${x.ratioToNode.toFixed(2)}×`, target, yes(x.ratioToNode <= limit) + (stretch && x.ratioToNode <= stretch ? ' (stretch too)' : '')]);
};
cliRow('play status --json cold start (MPD)', 'mediagate play status --json (MPD)', '≤ 2.5× (stretch 2×)', 2.5, 2);
cliRow('volume +5 cold start (PulseAudio)', 'mediagate volume +5 (PulseAudio)', '≤ 2.5×', 2.5);
const mpris = Object.fromEntries((r.mpris?.results ?? []).map((x) => [x.name, x]));
const mprisStatus = mpris['mediagate status --json --player mpv (MPRIS)'];
if (mprisStatus) {
  rows.push(['status --json cold start (MPRIS, mpv)', `node -e 0: ${ms(mpris['node -e 0']?.medianMs)}`, ms(mprisStatus.medianMs), `${mprisStatus.ratioToNode.toFixed(2)}×`, '≤ 2.0×', yes(mprisStatus.ratioToNode <= 2)]);
}
const vol = Object.fromEntries((r.volume?.results ?? []).map((x) => [x.name, x]));
for (const [label, name] of [['volume +5 cold (PulseAudio, native)', 'mediagate volume +5 (PulseAudio)'], ['volume +5 cold (pipewire-pulse, native)', 'mediagate volume +5 (pipewire-pulse)']]) {
  const x = vol[name];
  if (x) rows.push([label, `node -e 0: ${ms(vol['node -e 0']?.medianMs)}`, `${ms(x.medianMs)} (CPU ${x.cpuRatioToNode.toFixed(2)}×)`, `${x.ratioToNode.toFixed(2)}×`, '≤ 2.0×', yes(x.ratioToNode <= 2)]);
}
for (const [label, name] of [['  volume (read, PulseAudio)', 'mediagate volume (read, PulseAudio)'], ['  volume +5 through pactl (TCP fallback)', 'mediagate volume +5 through pactl (PulseAudio over TCP)']]) {
  const x = vol[name];
  if (x) rows.push([label, `node -e 0: ${ms(vol['node -e 0']?.medianMs)}`, ms(x.medianMs), `${x.ratioToNode.toFixed(2)}×`, 'for the record', '–']);
}
if (r.server) rows.push(['GET /api/status throughput, 2 conns', `bare node:http: ${r.server.bareRps} req/s`, `${r.server.serveRps} req/s`, `${r.server.ratio.toFixed(2)}×`, '≥ 0.8×', yes(r.server.ratio >= 0.8)]);
if (r.control) {
  const c = r.control;
  rows.push(['POST /api/player/toggle throughput (MPD)', `bare MPD loop: ${c.bareRps}/s`, `${c.serveRps}/s (${c.cpuUsPerRequest.serve} µs CPU/req)`, `${c.ratio.toFixed(2)}×`, '≥ 0.5× and ≥ 5,000/s', yes(c.met)]);
  const p = c.p99;
  if (p) rows.push([`  toggle p99 at ${p.rate ?? '?'}/s, audited`, `MPD alone p99: ${ms(p.mpdAlone?.p99Ms)}`, `p99 ${ms(p.p99Ms)} (p50 ${ms(p.p50Ms)}); audit ${p.audit.lines}/${p.audit.requests}, verify ${p.audit.verify}`, '–', '≤ 25 ms, none lost', yes(p.met)]);
}
if (r.wsVolume) {
  const w = r.wsVolume;
  rows.push([`volume change (pactl) to ${w.clients.toLocaleString('en')} WS clients`, `bare ws: ${w.bareMedianMs} ms`, `${w.mediagateMedianMs} ms`, `${w.ratio.toFixed(2)}×`, '≤ 1.2×', yes(w.ratio <= 1.2)]);
  rows.push(['  (bare ws also re-reading the level)', `bare ws + re-read: ${w.bareRereadMedianMs} ms`, `${w.mediagateMedianMs} ms`, `${w.ratioToReread.toFixed(2)}×`, 'for the record', '–']);
}
if (r.resolveToken) {
  rows.push(['resolveToken, 10,000 tokens stored', `1 stored: ${r.resolveToken.oneNs} ns`, `${r.resolveToken.manyNs} ns`, `${r.resolveToken.ratio.toFixed(2)}×`, '≤ 1.2×', yes(r.resolveToken.ratio <= 1.2)]);
  rows.push(['  (a different token each call)', `1 stored: ${r.resolveToken.oneNs} ns`, `${r.resolveToken.spreadNs} ns`, `${r.resolveToken.spreadRatio.toFixed(2)}×`, 'for the record', '–']);
}
if (r.idle) rows.push([`serve idle ${Math.round(r.idle.windowSeconds)} s, MPD playing, 10 WS`, '–', `${r.idle.cpuPercent}% CPU, ${r.idle.mainThreadWakeupsPerSecond} wake-ups/s`, '–', '< 0.5%, no timer > 1/s', yes(r.idle.met)]);
if (r.limiter) rows.push(['limiter memory, 100,000 addresses', `100: ${r.limiter.heapMB.after100} MB`, `${r.limiter.heapMB.after100k} MB (+${r.limiter.growthMB}), idle ${r.limiter.heapMB.afterIdle} MB`, '–', '< 30 MB growth, back to baseline', yes(r.limiter.met)]);
if (r.audit) rows.push([`audit under ${r.audit.rate} control req/s`, `reads alone p99 ${r.audit.reads.latencyMs.p99} ms`, `${r.audit.control.achievedPerSecond}/s; reads during it p99 ${r.audit.probeDuringControl?.latencyMs.p99 ?? '?'} ms; lost ${r.audit.lost}; verify ${r.audit.verify.ok ? 'ok' : 'FAILED'}`, '–', 'no disk wait, none lost, verify ok', yes(r.audit.met)]);
if (soak) {
  const mb = (kb) => `${(kb / 1024).toFixed(1)} MB`;
  rows.push(['serve RSS after 1 h-equivalent soak', `after ${soak.warmupSeconds} s warm-up: ${mb(soak.rssBaselineKb)}`,
    `${mb(soak.rssEndKb)} after ${soak.requestsInSoak} requests (+${soak.rssGrowthPct}%)`, '–', `< ${soak.targetPct}% growth`, yes(soak.met)]);
} else {
  rows.push(['serve RSS after 1 h-equivalent soak', '–', 'bench/soak.json not present', '–', '< 10% growth', '?']);
}
for (const [label, name] of [['curl to a running serve (for the record)', 'curl GET /api/status (running serve)'], ['mpc status (for the record)', 'mpc status'], ['playerctl status (for the record)', 'playerctl status'], ['volume (read) cold start', 'mediagate volume (PulseAudio)'], ['status --json (MPRIS) cold start', 'mediagate status --json (MPRIS)'], ['pause (MPD, audited) cold start', 'mediagate pause (MPD, audited)'], ['bundle load alone (require dist/fast.cjs)', 'node: require dist/fast.cjs (bundle load only)']]) {
  const x = cli[name];
  if (x) rows.push([label, `node -e 0: ${ms(node0?.medianMs)}`, ms(x.medianMs), `${x.ratioToNode.toFixed(2)}×`, '–', '–']);
}

const head = ['figure', 'baseline (same run)', 'measured', 'ratio', 'target', 'met?'];
if (process.argv.includes('--markdown')) {
  console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
} else {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(w[i])).join('  ');
  console.log(line(head));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const row of rows) console.log(line(row));
  const dates = ['cli', 'mpris', 'volume', 'server', 'control', 'wsVolume', 'resolveToken', 'idle', 'limiter', 'audit'].filter((k) => r[k]?.when).map((k) => `${k} ${r[k].when.slice(0, 16)}`);
  console.log(`\nmeasured: ${dates.join(', ')}`);
}
