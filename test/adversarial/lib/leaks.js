// A book of every secret a part mints or is told (tokens, invite codes,
// pairing tokens, sealed secrets' plaintexts, the secret key), and searches
// for them where they must never be: files under the config/state/home dirs,
// server and CLI output, and the command lines (and environments) of child
// processes.
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { cmdline, ppidOf, processTree } from './procfs.js';

const TOKEN_RE = /\bmg_[A-Za-z0-9_-]{43}\b/g;
const PAIRING_RE = /\bmgp_[A-Za-z0-9_-]{43}\b/g;
const CODE_RE = /\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b/g;

export class SecretBook {
  constructor() {
    /** value → {kind, origin} */
    this.items = new Map();
    this.findings = [];
    this.scanned = { files: 0, bytes: 0, texts: 0, processes: 0 };
  }

  get size() { return this.items.size; }

  counts() {
    const c = {};
    for (const { kind } of this.items.values()) c[kind] = (c[kind] ?? 0) + 1;
    return c;
  }

  add(kind, value, origin = '') {
    if (typeof value !== 'string' || value.length < 6) return;
    if (!this.items.has(value)) this.items.set(value, { kind, origin });
    if (kind === 'invite code') {
      const bare = value.replace(/-/g, '');
      if (!this.items.has(bare)) this.items.set(bare, { kind: 'invite code (bare)', origin });
    }
  }

  /** Collect every token, pairing token and invite code shown in `text` (an answer that legitimately shows them). */
  harvest(text, origin) {
    for (const m of String(text).match(TOKEN_RE) ?? []) this.add('token', m, origin);
    for (const m of String(text).match(PAIRING_RE) ?? []) this.add('pairing token', m, origin);
    for (const m of String(text).match(CODE_RE) ?? []) this.add('invite code', m, origin);
  }

  /**
   * Search `text` for every secret; `allow` lists values that may appear here
   * (e.g. the token a create command printed in its own output), each at most
   * `allowCount` times.
   */
  scanText(where, text, { allow = [], allowCount = 1 } = {}) {
    this.scanned.texts++;
    const s = String(text);
    for (const [value, { kind }] of this.items) {
      let at = s.indexOf(value);
      let n = 0;
      while (at >= 0) { n++; at = s.indexOf(value, at + value.length); }
      if (n === 0) continue;
      if (allow.includes(value) && n <= allowCount) continue;
      this.findings.push({ kind, where, count: n });
    }
  }

  /** Every regular file under `dir` (`skip(path)` → true leaves a file out, e.g. the key file itself). */
  scanDir(dir, { skip = () => false } = {}) {
    const walk = (d) => {
      let names;
      try { names = readdirSync(d); } catch { return; }
      for (const n of names) {
        const p = join(d, n);
        let st;
        try { st = lstatSync(p); } catch { continue; }
        if (st.isDirectory()) walk(p);
        else if (st.isFile() && !skip(p)) {
          let buf;
          try { buf = readFileSync(p); } catch { continue; }
          this.scanned.files++;
          this.scanned.bytes += buf.length;
          this.scanText(`file ${p}`, buf.toString('latin1'));
        }
      }
    };
    walk(dir);
  }

  /**
   * Command lines (and environments) of the descendants of `rootPid` alive
   * now (the root itself excluded: its arguments are the test's own).
   */
  scanChildren(rootPid, what) {
    for (const pid of processTree(rootPid)) {
      if (pid === rootPid) continue;
      // Between fork and exec a child is still a copy of its parent (same
      // command line, same environment): not a process of its own yet. It is
      // read again once it has exec'd (watchChildren samples every 50 ms).
      const ppid = ppidOf(pid);
      if (ppid !== undefined && cmdline(pid) !== '' && cmdline(pid) === cmdline(ppid)) continue;
      this.scanned.processes++;
      this.scanText(`cmdline of ${what} child ${pid} (${cmdline(pid).slice(0, 60)})`, cmdline(pid));
      let environ = '';
      try { environ = readFileSync(`/proc/${pid}/environ`).toString('utf8'); } catch { /* gone */ }
      this.scanText(`environment of ${what} child ${pid} (${cmdline(pid).slice(0, 60)})`, environ);
    }
  }
}

/**
 * Sample the process tree under each of `roots()` every `ms` while running:
 * short-lived children (pactl, scripts) are caught too. Returns stop().
 */
export function watchChildren(book, roots, ms = 50) {
  let stopped = false;
  const seen = new Set();
  const tick = () => {
    if (stopped) return;
    for (const { pid, what } of roots()) {
      for (const p of processTree(pid)) {
        if (p === pid) continue;
        const key = `${p}:${cmdline(p)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        book.scanChildren(pid, what);
      }
    }
    setTimeout(tick, ms).unref();
  };
  tick();
  return () => { stopped = true; return seen.size; };
}
