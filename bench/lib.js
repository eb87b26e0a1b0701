// Shared pieces of the benches: results.json merging, medians, a stand-in
// for tap's `t` so the test helpers (real MPD, PulseAudio, serve) can be
// reused, an environment without NODE_EXTRA_CA_CERTS, /proc readings.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'bin', 'run.cjs');
export const RESULTS = join(ROOT, 'bench', 'results.json');

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Merge `value` into bench/results.json under `key` (other keys kept). */
export function writeResult(key, value) {
  const all = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : {};
  all[key] = value;
  writeFileSync(RESULTS, `${JSON.stringify(all, null, 2)}\n`);
}

/** A tap-like `t` whose teardowns run when `run()` is called (reverse order). */
export function teardowns() {
  const fns = [];
  return {
    t: { teardown: (fn) => fns.push(fn) },
    async run() { for (const fn of fns.reverse()) { try { await fn(); } catch { /* best effort */ } } },
  };
}

/** process.env without NODE_EXTRA_CA_CERTS (it adds ~85 ms to every Node start), plus `extra`. */
export function cleanEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of a process (all its threads), in clock ticks. */
export function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

/** Nanoseconds on CPU of every thread of a process (finer than ticks), from schedstat. */
export function cpuNs(pid) {
  let ns = 0;
  for (const tid of readdirTasks(pid)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* thread gone */ }
  }
  return ns;
}

function readdirTasks(pid) {
  return execFileSync('ls', [`/proc/${pid}/task`], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** Voluntary context switches (a thread blocked, then woke) of the main thread and of all threads. */
export function wakeups(pid) {
  const read = (tid) => {
    const s = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(s)[1]);
  };
  let all = 0;
  for (const tid of readdirTasks(pid)) { try { all += read(tid); } catch { /* thread gone */ } }
  return { main: read(pid), all };
}

/** Resident set size of a process, bytes. */
export function rssBytes(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
}

/** Child processes of `pid` (direct), as [{pid, comm}]. */
export function childrenOf(pid) {
  const out = [];
  for (const tid of readdirTasks(pid)) {
    let kids = '';
    try { kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim(); } catch { continue; }
    for (const k of kids.split(/\s+/).filter(Boolean)) {
      try { out.push({ pid: Number(k), comm: readFileSync(`/proc/${k}/comm`, 'utf8').trim() }); } catch { /* gone */ }
    }
  }
  return out;
}

export function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

/**
 * Private config and state dirs (0700) under `work` for a bench's own
 * mediagate, an optional config.json, and the environment that points at
 * them and at `mpd` (plus `extra`: HOME, XDG_RUNTIME_DIR of a sound server…).
 */
export function privateEnv(work, mpd, { config, ...extra } = {}) {
  const cfg = join(work, 'config');
  const state = join(work, 'state');
  mkdirSync(cfg, { mode: 0o700 });
  mkdirSync(state, { mode: 0o700 });
  if (config) writeFileSync(join(cfg, 'config.json'), `${JSON.stringify(config)}\n`, { mode: 0o600 });
  return {
    PATH: process.env.PATH, HOME: work, LANG: 'C.UTF-8', NO_COLOR: '1', XDG_RUNTIME_DIR: join(work, 'none'),
    MPD_HOST: mpd.host, MPD_PORT: String(mpd.port), MEDIAGATE_CONFIG_DIR: cfg, MEDIAGATE_STATE_DIR: state,
    ...extra,
  };
}
