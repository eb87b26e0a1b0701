import { basename, dirname, join } from 'node:path';
import { nodeFsPromises } from '../lazy-builtins.js';
import { uniqueHex } from './unique.js';

/**
 * writeFileAtomic (state/atomic.ts) without blocking the event loop: the
 * same temp file, fsync, rename and directory fsync, each on libuv's thread
 * pool. For writers on a server's path (the audit log's head record after
 * every batch), where a synchronous fsync would hold up every request.
 */
export async function writeFileAtomicAsync(path: string, data: string | Uint8Array, mode = 0o600, { syncDir = true }: { syncDir?: boolean } = {}): Promise<void> {
  // Loaded here, not at import: this module is bundled into the CLI's fast path, which never calls it.
  const { open, rename, unlink } = nodeFsPromises();
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${uniqueHex()}`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  if (!syncDir) return;
  try {
    const dir = await open(dirname(path), 'r');
    try { await dir.sync(); } finally { await dir.close(); }
  } catch { /* directory fsync is best effort on some filesystems */ }
}
