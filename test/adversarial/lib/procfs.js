// What /proc says about a process: resident memory, open descriptors, its
// children and their command lines. Linux only (the suite's machines).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** VmRSS of `pid` in KiB, or undefined when it is gone. */
export function rssKb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch { return undefined; }
}

/** Number of open file descriptors of `pid`. */
export function fdCount(pid) {
  try { return readdirSync(`/proc/${pid}/fd`).length; } catch { return undefined; }
}

/** What the descriptors of `pid` point at (socket:[…], pipe:[…], paths). */
export function fdTargets(pid) {
  const out = [];
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try { out.push(readlinkSync(`/proc/${pid}/fd/${fd}`)); } catch { /* closed meanwhile */ }
    }
  } catch { /* gone */ }
  return out;
}

export function alive(pid) {
  try {
    process.kill(pid, 0);
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(st); // a zombie is dead
  } catch { return false; }
}

export function ppidOf(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
  } catch { return undefined; }
}

/** `pid` and all its descendants alive now. */
export function processTree(pid) {
  const kids = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = Number(name);
    const pp = ppidOf(p);
    if (pp === undefined) continue;
    if (!kids.has(pp)) kids.set(pp, []);
    kids.get(pp).push(p);
  }
  const out = [];
  const walk = (p) => { out.push(p); for (const k of kids.get(p) ?? []) walk(k); };
  walk(pid);
  return out;
}

/** The command line of `pid` (NULs as spaces), '' when gone. */
export function cmdline(pid) {
  try { return readFileSync(`/proc/${pid}/cmdline`).toString('utf8').replace(/\0/g, ' '); } catch { return ''; }
}

/** Socket inodes of `pid`'s TCP connections to `port` on the loopback (its MPD connections). */
export function tcpConnectionsTo(pid, port) {
  const inodes = new Set(fdTargets(pid).map((l) => /^socket:\[(\d+)\]$/.exec(l)?.[1]).filter(Boolean));
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try { text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[2]?.endsWith(`:${hex}`) && f[3] === '01' && inodes.has(f[9])) n++;
    }
  }
  return n;
}

/**
 * Descriptors of `pid` once they settle (up to `ms`: a 413 answer lingers up
 * to 5 s for the client's close), not counting MPD connections beyond the
 * warm-up's `baseMpd` — the MPD pool (at most 3, beside the idle watch) keeps what load made it
 * open; those are bounded, not leaked. Returns {fds, mpd, counted}.
 */
export async function settledFds(pid, { mpdPort, baseMpd = 0, limit, ms = 7000 }) {
  const end = Date.now() + ms;
  for (;;) {
    const fds = fdCount(pid);
    const mpd = mpdPort ? tcpConnectionsTo(pid, mpdPort) : 0;
    const counted = fds - Math.max(0, mpd - baseMpd);
    if (counted <= limit || Date.now() > end) return { fds, mpd, counted };
    await new Promise((r) => setTimeout(r, 250));
  }
}
