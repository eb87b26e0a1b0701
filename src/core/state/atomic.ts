import { closeSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { pidAlive } from './lock.js';
import { uniqueHex } from './unique.js';

/**
 * Remove temp files of `path` left by writers that died (kill -9) between
 * writing their temp file and renaming it: `.<name>.tmp-<pid>-…` (and
 * `.<name>.new-<pid>-…`) of a pid that no longer runs. They may hold a copy
 * of what was being written — for the key file, a key rotated away since.
 */
export function removeStaleTemps(path: string): void {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try { names = readdirSync(dir); } catch { return; }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const m = /^(?:tmp|new)-(\d+)-[0-9a-f]+$/.exec(n.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    try { unlinkSync(join(dir, n)); } catch { /* gone meanwhile */ }
  }
}

/**
 * Replace `path` with `data` so that a reader (or a crash) sees either the old
 * file or the new one, never half of it: write a temp file beside it, fsync,
 * rename over, fsync the directory. The file is created with `mode` (0600).
 * `syncDir: false` leaves out the directory fsync, for a file whose previous
 * version is a state its reader already recovers from (see audit/files.ts).
 * Temp files of this path left by writers that were killed are removed.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, { syncDir = true }: { syncDir?: boolean } = {}): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${uniqueHex()}`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx', mode);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) { try { closeSync(fd); } catch { /* already failing */ } }
    try { unlinkSync(tmp); } catch { /* may not exist */ }
    throw e;
  }
  removeStaleTemps(path);
  if (!syncDir) return;
  try {
    const dfd = openSync(dirname(path), 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* directory fsync is best effort on some filesystems */ }
}
