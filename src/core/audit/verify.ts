/**
 * `audit verify`: walk every log file in order and check the chain — each
 * line's hash matches its content, its seq is one more than the line
 * before, its prev is that line's hash — and finally that the chain ends
 * where the head record says. The first line that breaks it is named with
 * the kind of damage that best explains the break:
 *
 *   edited     a line's content no longer matches its hash, or a line was
 *              changed and re-hashed (the next line's prev gives it away)
 *   deleted    lines are missing in the middle (a seq gap)
 *   reordered  a line sits before lines that precede it in the chain
 *   inserted   a line that belongs nowhere in the chain (even with a valid
 *              hash of its own), or lines after the head record
 *   truncated  lines missing at the end (the head record says more), or a
 *              torn last line (partial JSON without a newline, a crash)
 *   malformed  a line that is not a log record at all
 *   head_rebuilt  the chain holds, but a writer found the head record
 *              missing or unreadable and rebuilt it from the last line left
 *              (its `audit.head_rebuilt` event): a cut tail cannot be ruled
 *              out. Reported until an `audit.acknowledged` event follows it
 *              (`mediagate audit verify --acknowledge`).
 *
 * What this can and cannot prove: it finds accidental damage and any edit
 * that does not also rewrite every later line *and* the head record. The
 * chain has no secret key, so someone who can write the state dir can
 * rebuild the whole chain; to catch that, keep a copy of the head hash
 * elsewhere (it is printed by `audit verify --json`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withLock } from '../state/lock.js';
import { GENESIS, parseLine } from './record.js';
import { ACKNOWLEDGED, HEAD_REBUILT, SYSTEM_ACTOR } from './writer.js';
import { assertPrivate, HEAD_FILE, LOG_FILE, logFiles, logPath, readHead } from './files.js';

export type TamperKind = 'edited' | 'deleted' | 'reordered' | 'inserted' | 'truncated' | 'malformed' | 'head_rebuilt';

export interface BadLine {
  /** File name inside the state dir, e.g. `audit.jsonl` or `audit.2.jsonl`. */
  file: string;
  /** 1-based line number in that file. */
  line: number;
  seq?: number;
}

export interface VerifyOk {
  ok: true;
  /** Lines checked, over all files. */
  count: number;
  files: string[];
  /** Where the chain ends (the head record agrees). */
  lastSeq: number;
  lastHash: string;
  /**
   * Events the log wrote about itself (actor `system:audit`): dropped events,
   * crash recovery, a chain continued from the head record. The chain holds,
   * but a human should look at them (`mediagate audit --actor system:audit`).
   */
  notes: number;
}

export interface VerifyFailure {
  ok: false;
  /** Lines that were fine before the first bad one. */
  count: number;
  files: string[];
  firstBadLine: BadLine;
  kind: TamperKind;
  /** One sentence for humans. */
  reason: string;
}

export type VerifyResult = VerifyOk | VerifyFailure;

/** One line as the walk sees it. */
interface Entry {
  idx: number;
  file: string;
  line: number;
  status: 'ok' | 'edited' | 'malformed' | 'torn';
  why?: string;
  seq?: number;
  prev?: string;
  hash?: string;
  system?: boolean;
  /** The action of a head-rebuilt or acknowledged event (the only actions verify looks at). */
  mark?: 'rebuilt' | 'ack';
}

/** Every line of every log file in order; the last file's unterminated last line is 'torn'. */
function* walk(dir: string, files: string[]): Generator<Entry> {
  let idx = 0;
  for (let f = 0; f < files.length; f++) {
    const file = files[f]!;
    let text: string;
    try {
      text = readFileSync(join(dir, file), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    if (text === '') continue;
    const lines = text.split('\n');
    const terminated = lines[lines.length - 1] === '';
    if (terminated) lines.pop();
    for (let i = 0; i < lines.length; i++) {
      const base = { idx: idx++, file, line: i + 1 };
      const isTorn = !terminated && i === lines.length - 1 && f === files.length - 1;
      const p = parseLine(lines[i]!);
      if (isTorn) {
        yield { ...base, status: 'torn', why: `${Buffer.byteLength(lines[i]!)} bytes without a newline`, ...(p.ok ? { seq: p.record.seq } : {}) };
      } else if (!p.ok) {
        yield { ...base, status: 'malformed', why: p.why };
      } else {
        yield {
          ...base, status: p.selfOk ? 'ok' : 'edited', seq: p.record.seq, prev: p.record.prev, hash: p.record.hash,
          ...(p.record.actor.id === SYSTEM_ACTOR.id ? { system: true } : {}),
          ...(p.record.actor.id === SYSTEM_ACTOR.id && p.record.action === HEAD_REBUILT ? { mark: 'rebuilt' as const } : {}),
          ...(p.record.actor.id !== SYSTEM_ACTOR.id && p.record.action === ACKNOWLEDGED ? { mark: 'ack' as const } : {}),
        };
      }
    }
  }
}

function find(dir: string, files: string[], pred: (e: Entry) => boolean, fromIdx = 0): Entry | undefined {
  for (const e of walk(dir, files)) if (e.idx >= fromIdx && e.status === 'ok' && pred(e)) return e;
  return undefined;
}

const at = (e: Entry): BadLine => ({ file: e.file, line: e.line, ...(e.seq !== undefined ? { seq: e.seq } : {}) });

/**
 * The chain broke at `b`: after `g` (the last good line, if any; `gg` the
 * one before it). Decide which damage explains it best.
 */
function classify(dir: string, files: string[], b: Entry, g: Entry | undefined, gg: Entry | undefined): Omit<VerifyFailure, 'ok' | 'count' | 'files'> {
  const expSeq = g ? g.seq! + 1 : 1;
  const expPrev = g ? g.hash! : GENESIS;
  const chainsToG = (e: Entry) => e.seq === expSeq && e.prev === expPrev;
  // A line from later in the chain, while the expected one still comes later.
  if (b.seq !== expSeq && find(dir, files, chainsToG, b.idx + 1)
    && ((b.seq === 1 && b.prev === GENESIS) || find(dir, files, (m) => m.seq === b.seq! - 1 && m.hash === b.prev))) {
    return { firstBadLine: at(b), kind: 'reordered', reason: `seq ${b.seq} appears before seq ${expSeq}: lines are out of order` };
  }
  // The next line chains on from g: b sits where nothing belongs.
  const next = find(dir, files, () => true, b.idx + 1);
  if (next && next.idx === b.idx + 1 && chainsToG(next)) {
    return { firstBadLine: at(b), kind: 'inserted', reason: 'this line is not part of the chain: the line after it follows on from the line before it' };
  }
  // b follows on from the line before g: g was slipped in (with a valid hash of its own).
  if (g && b.seq === g.seq && b.prev === (gg ? gg.hash : GENESIS)) {
    return { firstBadLine: at(g), kind: 'inserted', reason: 'this line is not part of the chain: the line after it follows on from the line before it' };
  }
  if (b.seq === expSeq) {
    // Right number, wrong link: the line before was changed and re-hashed.
    if (g) return { firstBadLine: at(g), kind: 'edited', reason: 'this line was changed (its hash was recomputed, but the next line still names the original)' };
    return { firstBadLine: at(b), kind: 'edited', reason: 'the first line does not start the chain (its prev was changed)' };
  }
  if (b.prev === expPrev) {
    return { firstBadLine: at(b), kind: 'edited', reason: `this line was changed and re-hashed: it follows seq ${expSeq - 1} but claims seq ${b.seq}` };
  }
  if (b.seq! > expSeq) {
    const n = b.seq! - expSeq;
    return { firstBadLine: at(b), kind: 'deleted', reason: `${n} line(s) missing before this one (seq ${expSeq}${n > 1 ? `–${b.seq! - 1}` : ''})` };
  }
  return { firstBadLine: at(b), kind: 'reordered', reason: `seq ${b.seq} appears after seq ${expSeq - 1}: lines are out of order` };
}

function verifyUnlocked(dir: string): VerifyResult {
  assertPrivate(dir);
  const files = logFiles(dir);
  const present = files.filter((f) => existsSync(join(dir, f)));
  let g: Entry | undefined;
  let gg: Entry | undefined;
  let count = 0;
  let notes = 0;
  let rebuilt: Entry | undefined;
  const fail = (r: Omit<VerifyFailure, 'ok' | 'count' | 'files'>): VerifyFailure => ({ ok: false, count, files: present, ...r });

  for (const e of walk(dir, files)) {
    if (e.status === 'torn') {
      return fail({ firstBadLine: at(e), kind: 'truncated', reason: `torn last line (${e.why}): a writer was interrupted or the end of the file was cut; the next append repairs a crash` });
    }
    if (e.status === 'malformed') return fail({ firstBadLine: at(e), kind: 'malformed', reason: `not an audit record: ${e.why}` });
    if (e.status === 'edited') return fail({ firstBadLine: at(e), kind: 'edited', reason: 'the content of this line does not match its hash' });
    const expSeq = g ? g.seq! + 1 : 1;
    const expPrev = g ? g.hash! : GENESIS;
    if (e.seq !== expSeq || e.prev !== expPrev) return fail(classify(dir, files, e, g, gg));
    gg = g;
    g = e;
    count++;
    if (e.system) notes++;
    if (e.mark === 'rebuilt') rebuilt = e;
    else if (e.mark === 'ack') rebuilt = undefined;
  }
  const intact = (): VerifyResult => {
    if (!rebuilt) return { ok: true, count, files: present, lastSeq, lastHash, notes };
    return fail({
      firstBadLine: at(rebuilt),
      kind: 'head_rebuilt',
      reason: `the head record was missing or unreadable and a writer rebuilt it from the last line left (seq ${rebuilt.seq! - 1}), so lines cut from the end before then cannot be ruled out. `
        + 'Compare with a copy of lastHash kept elsewhere, then accept it with: mediagate audit verify --acknowledge',
    });
  };

  const headRead = readHead(dir);
  const lastSeq = g?.seq ?? 0;
  const lastHash = g?.hash ?? GENESIS;
  const afterLast: BadLine = g ? { file: g.file, line: g.line + 1, seq: lastSeq + 1 } : { file: LOG_FILE, line: 1, seq: 1 };
  if (headRead.state === 'missing') {
    if (count === 0) return intact();
    return fail({ firstBadLine: { file: HEAD_FILE, line: 1 }, kind: 'truncated', reason: `the head record ${HEAD_FILE} is missing, so lines cut from the end could not be noticed` });
  }
  if (headRead.state === 'malformed') {
    return fail({ firstBadLine: { file: HEAD_FILE, line: 1 }, kind: 'malformed', reason: `the head record ${HEAD_FILE} is unreadable: ${headRead.why}` });
  }
  const head = headRead.head;
  if (head.seq > lastSeq) {
    const n = head.seq - lastSeq;
    return fail({ firstBadLine: afterLast, kind: 'truncated', reason: `the head record says the log ends at seq ${head.seq}, but the last line is seq ${lastSeq}: ${n} line(s) missing from the end` });
  }
  if (head.seq === lastSeq) {
    if (head.hash !== lastHash) {
      return fail({ firstBadLine: g ? at(g) : afterLast, kind: 'edited', reason: 'the last line does not match the head record (it was changed and re-hashed)' });
    }
    return intact();
  }
  // More lines than the head record knows of.
  const atHead = head.seq === 0 ? undefined : find(dir, files, (e) => e.seq === head.seq);
  if (head.seq === 0 ? head.hash !== GENESIS : atHead?.hash !== head.hash) {
    const e = atHead ?? g!;
    return fail({ firstBadLine: at(e), kind: 'edited', reason: 'this line does not match the head record (lines up to here were rewritten)' });
  }
  const extra = find(dir, files, (e) => e.seq === head.seq + 1)!;
  return fail({
    firstBadLine: at(extra),
    kind: 'inserted',
    reason: `${lastSeq - head.seq} line(s) after the end recorded in the head record (seq ${head.seq}): added by something other than mediagate, or a writer died before updating the head record (the next append records which)`,
  });
}

/**
 * Check the whole chain in `dir` (the state dir). Holds the writers' lock
 * while reading, so a batch being appended is never mistaken for damage;
 * a read-only copy of a log is checked without it.
 */
export async function verifyAudit(dir: string): Promise<VerifyResult> {
  assertPrivate(dir);
  try {
    return await withLock(logPath(dir), () => verifyUnlocked(dir), { timeoutMs: 10_000 });
  } catch (e) {
    const code = ((e as { cause?: NodeJS.ErrnoException }).cause ?? (e as NodeJS.ErrnoException)).code;
    // No lock to be had (read-only copy, no permission, a full disk): check what is there without it.
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM' || code === 'ENOENT' || code === 'ENOSPC' || code === 'EDQUOT') return verifyUnlocked(dir);
    throw e;
  }
}
