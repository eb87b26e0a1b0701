#!/usr/bin/env node
// `node bench/control-profile.js [SECONDS]`: where serve's CPU goes on
// POST /api/player/toggle with no player named (the bench:control load: wrk,
// 2 threads, 16 keep-alive connections, a real MPD playing). serve runs with
// --cpu-prof; the profile's self time is summed by function and by source
// file and the top entries printed. A profile, not a figure: shares are
// meaningful on a noisy machine, absolute times are not.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startMpd } from '../test/helpers/mpd.js';
import { cliToken, startServe } from '../test/helpers/serve.js';
import { privateEnv, ROOT, teardowns } from './lib.js';

const SECONDS = Number(process.argv[2] ?? 8);
const { t, run: cleanup } = teardowns();

function summarise(file) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = prof.timeDeltas;
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const files = new Map();
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame;
    const where = cf.url ? relative(ROOT, cf.url.replace(/^file:\/\//, '')) : '(native)';
    const fn = `${cf.functionName || '(anonymous)'} ${where}:${cf.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    const group = where.startsWith('node_modules/') ? where.split('/').slice(0, where.split('/')[1].startsWith('@') ? 3 : 2).join('/') : where;
    files.set(group, (files.get(group) ?? 0) + us);
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
  return `self time by file/package:\n${top(files, 30)}\n\nself time by function:\n${top(fns, 45)}`;
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'mg-prof-control-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const mpd = await startMpd(t);
  mpd.mpc('-q', 'play');
  const profDir = join(work, 'prof');
  const env = privateEnv(work, mpd, { config: { server: { rateLimit: { rps: 0 } }, volume: { backend: 'player' } }, HOME: join(work, 'home') });
  const token = (await cliToken(env, 'control-prof', 'control')).token;
  const srv = await startServe(t, env, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  const lua = join(work, 'toggle.lua');
  writeFileSync(lua, `wrk.method = "POST"\nwrk.headers["Authorization"] = "Bearer ${token}"\n`);
  const out = execFileSync('wrk', ['-t2', '-c16', `-d${SECONDS}s`, '-s', lua, `${srv.url}/api/player/toggle`], { encoding: 'utf8' });
  process.stdout.write(`${/Requests\/sec:.*/.exec(out)[0]}\n`);
  await srv.stop('SIGTERM');
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (process.env.KEEP_PROFILE) writeFileSync(process.env.KEEP_PROFILE, readFileSync(join(profDir, file)));
  console.log(summarise(join(profDir, file)));
}

try { await main(); } finally { await cleanup(); }
