/**
 * Appending one batch to the log, safely against other processes (the CLI
 * and a running server both append): under the cross-process lock on
 * audit.jsonl, find where the chain ends, rotate when the file is full,
 * append the lines, fsync, then write the head record atomically.
 *
 * Where the chain ends comes from the head record when it agrees with the
 * file (the common case: one stat). When they disagree, the file is scanned
 * and the difference is explained by an event written before the batch:
 *  - a torn last line beyond the head (a writer died mid-write) is cut off;
 *  - complete, correctly chained lines beyond the head (a writer died
 *    before updating the head) are kept;
 *  - anything else (lines missing, edited, a file removed) is left as it is
 *    and the new lines continue from the head record, so `audit verify`
 *    keeps reporting the gap instead of a new writer papering over it;
 *  - no head record (or an unreadable one) while lines exist: the chain
 *    continues from the last readable line, after an `audit.head_rebuilt`
 *    event that `audit verify` reports as a failure until the owner runs
 *    `audit verify --acknowledge` (a head is written before the very first
 *    line and replaced atomically, so no crash leaves a log without one).
 */
import { closeSync, existsSync, fdatasyncSync, ftruncateSync, openSync, readFileSync, renameSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFsPromises } from '../lazy-builtins.js';
import { ensurePrivateDir } from '../paths.js';
import { withLock } from '../state/lock.js';
import { sha256Hex } from '../sha256.js';
import { GENESIS, nativeSha256, parseLine, sealRecord, type AuditRecord, type LineHash, type PendingEvent } from './record.js';
import { assertPrivate, LOG_FILE, logPath, readHead, rotatedName, rotatedNumbers, writeHead, writeHeadAsync, type AuditHead } from './files.js';
import type { AuditActor } from './types.js';

/** Who writes the log's own events (dropped events, recovery notes). */
export const SYSTEM_ACTOR: AuditActor = { id: 'system:audit', label: 'audit log' };

/** The event a writer leaves when it had to rebuild a missing or unreadable head record. */
export const HEAD_REBUILT = 'audit.head_rebuilt';
/** The owner's answer to HEAD_REBUILT (`audit verify --acknowledge`): verify passes again. */
export const ACKNOWLEDGED = 'audit.acknowledged';

export interface WriteOptions {
  /** Rotate when the current file would grow past this many bytes. */
  maxBytes: number;
  /** fsync the log before the head is written (default true). */
  fsync: boolean;
  lockTimeoutMs: number;
  now: () => Date;
  /** 'sync' for a process about to exit (the CLI), 'async' (default) for a server. */
  io?: 'sync' | 'async';
}

/**
 * The file calls of one batch, in two flavours with the same steps: on
 * libuv's thread pool for a server (no request waits on an fsync), or plain
 * blocking calls for a CLI process that only waits for them anyway (no
 * thread-pool round trip per call: a few ms of every audited command).
 */
interface AppendFile {
  write(buf: Buffer, off: number, len: number): Promise<number> | number;
  datasync(): Promise<void> | void;
  truncate(size: number): Promise<void> | void;
  close(): Promise<void> | void;
}
interface BatchIo {
  /** The line hash: plain JS for a CLI process (no node:crypto to load for one line), node:crypto for a server. */
  hash: LineHash;
  open(path: string): Promise<AppendFile> | AppendFile;
  rename(from: string, to: string): Promise<void> | void;
  size(path: string): Promise<number> | number;
  /** Cut the file at `path` back to `size` bytes. */
  cut(path: string, size: number): Promise<void> | void;
  writeHead(dir: string, head: AuditHead): Promise<void> | void;
}
const SYNC_IO: BatchIo = {
  hash: sha256Hex,
  open(path) {
    const fd = openSync(path, 'a', 0o600);
    return {
      write: (b, off, len) => writeSync(fd, b, off, len),
      datasync: () => fdatasyncSync(fd),
      truncate: (size) => ftruncateSync(fd, size),
      close: () => closeSync(fd),
    };
  },
  rename: renameSync,
  size: (path) => statSync(path).size,
  cut: truncateSync,
  writeHead,
};

/** On node:fs/promises, loaded when a server first writes (a CLI process, on SYNC_IO, never does). */
const ASYNC_IO: BatchIo = {
  hash: nativeSha256,
  async open(path) {
    const fh = await nodeFsPromises().open(path, 'a', 0o600);
    return {
      write: async (b, off, len) => (await fh.write(b, off, len)).bytesWritten,
      datasync: () => fh.datasync(),
      truncate: (size) => fh.truncate(size),
      close: () => fh.close(),
    };
  },
  rename: (from, to) => nodeFsPromises().rename(from, to),
  size: async (path) => (await nodeFsPromises().stat(path)).size,
  cut: (path, size) => nodeFsPromises().truncate(path, size),
  writeHead: writeHeadAsync,
};

/** A batch failed; `committed` of its events reached the file before the failure. */
export class BatchError extends Error {
  readonly committed: number;
  constructor(cause: unknown, committed: number) {
    super((cause as Error)?.message ?? String(cause));
    this.name = 'BatchError';
    this.committed = committed;
    this.cause = cause;
  }
}

interface Tail {
  seq: number;
  hash: string;
  size: number;
  rotations: number;
  /** The file ends inside a line we must not cut: start our lines on a fresh one. */
  needNewline: boolean;
  notices: PendingEvent[];
  /** No log and no head yet: the head (seq 0) is written before the first line. */
  fresh?: boolean;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

function readOrEmpty(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw e;
  }
}

/** Complete lines of a buffer (a trailing partial line is ignored). */
function completeLines(buf: Buffer): string[] {
  const end = buf.lastIndexOf(0x0a);
  if (end < 0) return [];
  return buf.subarray(0, end).toString('utf8').split('\n');
}

/** Where the chain ends; the head record when it matches the file, else a scan (see the file comment). */
function locateTail(dir: string, now: () => Date): Tail {
  const path = logPath(dir);
  const headRead = readHead(dir);
  const head = headRead.state === 'ok' ? headRead.head : undefined;
  let size = fileSize(path);
  if (head && head.file === LOG_FILE && head.size === size) {
    return { seq: head.seq, hash: head.hash, size, rotations: head.rotations, needNewline: false, notices: [] };
  }

  const notices: PendingEvent[] = [];
  const note = (action: string, detail: string) => notices.push({ time: now().toISOString(), actor: SYSTEM_ACTOR, action, outcome: 'error', detail });
  const onDisk = rotatedNumbers(dir);
  const rotations = Math.max(head?.rotations ?? 0, onDisk.length ? onDisk[onDisk.length - 1]! : 0);

  let buf = readOrEmpty(path);
  const hadBytes = buf.length > 0;
  let needNewline = false;
  const complete = buf.lastIndexOf(0x0a) + 1;
  if (complete < buf.length) {
    const committed = head && head.file === LOG_FILE ? head.size : 0;
    if (complete >= committed) {
      // Bytes no head record ever covered: an append that died half-way.
      truncateSync(path, complete);
      note('audit.recovered', `removed an unfinished last line (${buf.length - complete} bytes) left by an interrupted writer`);
      buf = buf.subarray(0, complete);
      size = complete;
    } else {
      needNewline = true;
    }
  }

  // The lines that hold the end of the chain: the current file, or the newest rotated file with content.
  let lines = completeLines(buf);
  for (let i = onDisk.length - 1; lines.length === 0 && i >= 0; i--) {
    lines = completeLines(readOrEmpty(join(dir, rotatedName(onDisk[i]!))));
  }
  const records: Array<AuditRecord | undefined> = lines.map((l) => {
    const p = parseLine(l);
    return p.ok && p.selfOk ? p.record : undefined;
  });
  const last = records.length ? records[records.length - 1] : undefined;

  if (!head) {
    const lastGood = [...records].reverse().find((r) => r !== undefined);
    const fresh = headRead.state === 'missing' && !hadBytes && onDisk.length === 0;
    if (!fresh) {
      // The head record is what tells a cut tail from a complete log. It is written before the
      // first line (see writeBatch) and replaced atomically, so a crash never loses it: gone or
      // unreadable means someone removed or changed it. Continue the chain, but say so in a
      // line that `audit verify` keeps reporting until the owner acknowledges it.
      note(HEAD_REBUILT, `the head record was ${headRead.state}; rebuilt it from the last readable line (seq ${lastGood?.seq ?? 0}): `
        + 'lines cut from the end before this cannot be ruled out');
    }
    return { seq: lastGood?.seq ?? 0, hash: lastGood?.hash ?? GENESIS, size, rotations, needNewline, notices, fresh };
  }

  // Find the head's line, then check that whatever follows it chains on.
  let from = records.findIndex((r) => r !== undefined && r.seq === head.seq && r.hash === head.hash);
  if (from < 0 && records[0] && records[0].seq === head.seq + 1 && records[0].prev === head.hash) from = -1;
  else if (from < 0) from = -2;
  if (from >= -1) {
    let seq = head.seq;
    let hash = head.hash;
    let chained = true;
    for (let i = from + 1; i < records.length; i++) {
      const r = records[i];
      if (!r || r.seq !== seq + 1 || r.prev !== hash) { chained = false; break; }
      seq = r.seq;
      hash = r.hash;
    }
    if (chained) {
      if (seq > head.seq) {
        note('audit.recovered', `kept ${seq - head.seq} line(s) (seq ${head.seq + 1}–${seq}) written after the head record by a writer that stopped before updating it`);
      }
      return { seq, hash, size, rotations, needNewline, notices };
    }
  }
  note('audit.chain_broken', `the log does not end where the head record says (head: seq ${head.seq}; last line: ${last ? `seq ${last.seq}` : 'none readable'}); `
    + 'new lines continue from the head record, so audit verify keeps reporting the difference');
  return { seq: head.seq, hash: head.hash, size, rotations, needNewline, notices };
}

/** Append `events` as one batch (see the file comment). Throws BatchError on failure. */
export async function writeBatch(dir: string, events: PendingEvent[], opts: WriteOptions): Promise<void> {
  let committedLines = 0;
  let noticeCount = 0;
  const io = opts.io === 'sync' ? SYNC_IO : ASYNC_IO;
  try {
    ensurePrivateDir(dir);
    assertPrivate(dir);
    await withLock(logPath(dir), async () => {
      const tail = locateTail(dir, opts.now);
      noticeCount = tail.notices.length;
      const all = noticeCount ? [...tail.notices, ...events] : events;
      const path = logPath(dir);
      let { seq, hash, size, rotations } = tail;
      const startSize = size;
      const startRotations = rotations;
      if (tail.fresh) {
        // A head before the first line: from now on a missing head is never a crash's doing.
        await io.writeHead(dir, { v: 1, seq: 0, hash: GENESIS, file: LOG_FILE, size: 0, rotations, time: opts.now().toISOString() });
      }
      let fh = await io.open(path);
      try {
        let chunk: string[] = [];
        let chunkBytes = 0;
        let chunkLines = 0;
        if (tail.needNewline) { chunk.push('\n'); chunkBytes = 1; }
        const writeChunk = async () => {
          if (chunkBytes === 0) return;
          const data = Buffer.from(chunk.join(''), 'utf8');
          let off = 0;
          while (off < data.length) off += await fh.write(data, off, data.length - off);
          size += data.length;
          committedLines += chunkLines;
          chunk = [];
          chunkBytes = 0;
          chunkLines = 0;
        };
        for (const ev of all) {
          const rec = sealRecord(ev, seq + 1, hash, io.hash);
          const line = `${JSON.stringify(rec)}\n`;
          const n = Buffer.byteLength(line);
          if (size + chunkBytes > 0 && size + chunkBytes + n > opts.maxBytes) {
            await writeChunk();
            if (opts.fsync) await fh.datasync();
            await fh.close();
            let next = rotations + 1;
            while (existsSync(join(dir, rotatedName(next)))) next++;
            await io.rename(path, join(dir, rotatedName(next)));
            rotations = next;
            size = 0;
            fh = await io.open(path);
          }
          chunk.push(line);
          chunkBytes += n;
          chunkLines++;
          seq = rec.seq;
          hash = rec.hash;
        }
        await writeChunk();
        if (opts.fsync) await fh.datasync();
      } catch (e) {
        // A write that failed part-way (a full disk) must leave neither half a line nor whole lines of
        // a chunk the caller will send again: cut the file back to the end of the last complete chunk.
        try { await fh.truncate(size); } catch { /* the disk may refuse even that */ }
        throw e;
      } finally {
        try { await fh.close(); } catch { /* already failing, or closed */ }
      }
      // The head says how far the file goes; the size it records is the file's real size.
      const real = await io.size(path);
      const head: AuditHead = { v: 1, seq, hash, file: LOG_FILE, size: real, rotations, time: opts.now().toISOString() };
      try {
        await io.writeHead(dir, head);
      } catch (e) {
        // The lines are in but the head record is not (a full disk refuses its new copy): until it
        // is written, verify would report them as inserted. Cut them back and let the caller send
        // them again — unless a rotation moved earlier lines of this batch away; then they stay
        // and the head catches up on the next write.
        if (rotations === startRotations) {
          try { await io.cut(path, startSize); committedLines = 0; } catch { /* they stay; the head catches up later */ }
        }
        throw e;
      }
    }, { timeoutMs: opts.lockTimeoutMs });
  } catch (e) {
    throw new BatchError(e, Math.max(0, committedLines - noticeCount));
  }
}
