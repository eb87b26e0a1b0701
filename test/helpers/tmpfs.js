// A tiny filesystem to fill up: a tmpfs mounted on a temp dir (needs root
// or CAP_SYS_ADMIN; the caller skips when it cannot mount), unmounted when
// the test ends. fill() takes every free byte, free() gives them back.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './proc.js';

/** Mount a `sizeKb` tmpfs; resolves {dir, fill(), free(), freeBytes()} or {skip: reason}. */
export function smallFilesystem(t, sizeKb = 256) {
  const dir = join(tempDir(t, 'mg-full-'), 'mnt');
  mkdirSync(dir, { mode: 0o700 });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    return { skip: `cannot mount a tmpfs here (${String(e.stderr || e.message).trim().split('\n')[0]}); run as root to test a full disk` };
  }
  t.teardown(() => {
    try { execFileSync('umount', [dir], { stdio: 'pipe' }); } catch { try { execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); } catch { /* left to the OS */ } }
  });
  const filler = join(dir, 'filler');
  let fillers = 0;
  return {
    dir,
    freeBytes() { const s = statfsSync(dir); return s.bavail * s.bsize; },
    /**
     * Take all free space, in files of `blocksPerFile` 4 KiB blocks (so a
     * little can be handed back later with giveBack()).
     */
    fill({ blocksPerFile = 4 } = {}) {
      const chunk = Buffer.alloc(4096, 0x66);
      for (;;) {
        const fd = openSync(`${filler}.${fillers++}`, 'w');
        let wrote = 0;
        try {
          for (let i = 0; i < blocksPerFile; i++) { writeSync(fd, chunk); wrote++; }
        } catch (e) {
          if (e.code !== 'ENOSPC') throw e;
          closeSync(fd);
          if (wrote === 0) { unlinkSync(`${filler}.${fillers - 1}`); fillers--; }
          return;
        }
        closeSync(fd);
      }
    },
    /** Give back the last filler file (one block with blocksPerFile 1). */
    giveBack() {
      if (fillers > 0) rmSync(`${filler}.${--fillers}`, { force: true });
    },
    /** Give back everything fill() took. */
    free() {
      for (let i = 0; i < fillers; i++) rmSync(`${filler}.${i}`, { force: true });
      fillers = 0;
    },
  };
}
