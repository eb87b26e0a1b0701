import { ConfigError } from '../errors.js';

/** Filesystem errors that mean "the state cannot be written here", with what to do about each. */
const UNWRITABLE: Record<string, { why: string; hint: string }> = {
  ENOSPC: { why: 'no space left on the device', hint: 'free some space on that filesystem and try again; nothing was changed' },
  EDQUOT: { why: 'the disk quota is used up', hint: 'free some space within your quota and try again; nothing was changed' },
  EROFS: { why: 'the filesystem is read-only', hint: 'remount it read-write or point MEDIAGATE_STATE_DIR elsewhere' },
  EACCES: { why: 'permission denied', hint: 'check the owner and permissions of the state dir' },
  EPERM: { why: 'operation not permitted', hint: 'check the owner and permissions of the state dir' },
  EIO: { why: 'an I/O error from the disk', hint: 'check the disk; nothing was changed' },
};

/**
 * `e` from writing state file `path`, as the error to report: a ConfigError
 * `state.unwritable` (exit 5; 503 from serve) that names the file and the
 * reason for a filesystem refusal, or `e` itself for anything else. The
 * errno code stays on `cause`.
 */
export function unwritable(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const known = code ? UNWRITABLE[code] : undefined;
  if (!known) return e;
  const err = new ConfigError(`cannot write ${path}: ${known.why} (${code})`, known.hint, 'state.unwritable');
  (err as { cause?: unknown }).cause = e;
  return err;
}
