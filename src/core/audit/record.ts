/**
 * One line of the audit log and its hash chain.
 *
 * Each line is a JSON object. `hash` is the SHA-256 (hex) of the line's
 * canonical form — every field except `hash` itself, keys sorted at every
 * level, no whitespace — and that includes `prev`, the hash of the line
 * before (64 zeros for the first line ever). Fields a later version adds are
 * covered automatically because the canonical form takes every key.
 */
import { nodeCrypto } from '../lazy-builtins.js';
import type { AuditActor, AuditOutcome } from './types.js';

/** SHA-256 of a UTF-8 string, hex: the line hash. */
export type LineHash = (text: string) => string;

/**
 * node:crypto's SHA-256, loaded on first use: ~5× faster per line than the
 * plain-JS one (core/sha256.ts, which a CLI process writing one line uses:
 * see writer.ts), worth it for a server writing thousands of lines a second
 * and for `audit verify` reading them all back.
 */
export const nativeSha256: LineHash = (text) => nodeCrypto().createHash('sha256').update(text, 'utf8').digest('hex');

/** `prev` of the very first line. */
export const GENESIS = '0'.repeat(64);

/** An event waiting in the queue: sanitized, timestamped, not yet numbered. */
export interface PendingEvent {
  /** ISO 8601 UTC, taken when the event was appended. */
  time: string;
  actor: AuditActor;
  ip?: string;
  requestId?: string;
  action: string;
  target?: string;
  outcome: AuditOutcome;
  detail?: string;
}

/** One event as stored: the caller's fields plus time, sequence number and chain hashes. */
export interface AuditRecord extends PendingEvent {
  /** 1, 2, 3 … across all files, no gaps. */
  seq: number;
  /** `hash` of the previous line (GENESIS for seq 1). */
  prev: string;
  /** SHA-256 of this line's canonical content, `prev` included. */
  hash: string;
}

/** JSON with keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** The hash a line must carry: SHA-256 over the canonical form of everything but `hash`. */
export function computeHash(fields: Record<string, unknown>, hash: LineHash = nativeSha256): string {
  const { hash: _ignored, ...rest } = fields;
  return hash(canonicalJson(rest));
}

/** Number and chain a pending event: the stored record, fields in reading order. */
export function sealRecord(ev: PendingEvent, seq: number, prev: string, hash: LineHash = nativeSha256): AuditRecord {
  const rec: Record<string, unknown> = { seq, time: ev.time, actor: ev.actor };
  if (ev.ip !== undefined) rec.ip = ev.ip;
  if (ev.requestId !== undefined) rec.requestId = ev.requestId;
  rec.action = ev.action;
  if (ev.target !== undefined) rec.target = ev.target;
  rec.outcome = ev.outcome;
  if (ev.detail !== undefined) rec.detail = ev.detail;
  rec.prev = prev;
  rec.hash = hash(canonicalOfPending(ev, seq, prev));
  return rec as unknown as AuditRecord;
}

/**
 * canonicalJson of a sealed record, written out directly (keys already in
 * sorted order) — the writer's hot path. Only valid for records built by
 * sealRecord from a sanitized event (actor has only id and label); the
 * tests check it against canonicalJson.
 */
export function canonicalOfPending(ev: PendingEvent, seq: number, prev: string): string {
  const j = JSON.stringify;
  let s = `{"action":${j(ev.action)},"actor":{"id":${j(ev.actor.id)}`;
  if (ev.actor.label !== undefined) s += `,"label":${j(ev.actor.label)}`;
  s += '}';
  if (ev.detail !== undefined) s += `,"detail":${j(ev.detail)}`;
  if (ev.ip !== undefined) s += `,"ip":${j(ev.ip)}`;
  s += `,"outcome":${j(ev.outcome)},"prev":${j(prev)}`;
  if (ev.requestId !== undefined) s += `,"requestId":${j(ev.requestId)}`;
  s += `,"seq":${seq}`;
  if (ev.target !== undefined) s += `,"target":${j(ev.target)}`;
  return `${s},"time":${j(ev.time)}}`;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** A line read back: the record, or why it is not one. `selfOk` says whether its hash matches its content. */
export type ParsedLine =
  | { ok: true; record: AuditRecord; selfOk: boolean }
  | { ok: false; why: string };

/** Parse and check the shape of one line (without its newline). */
export function parseLine(text: string): ParsedLine {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, why: 'not valid JSON' };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, why: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 1) return { ok: false, why: 'missing or invalid seq' };
  if (typeof o.hash !== 'string' || !HEX64.test(o.hash)) return { ok: false, why: 'missing or invalid hash' };
  if (typeof o.prev !== 'string' || !HEX64.test(o.prev)) return { ok: false, why: 'missing or invalid prev' };
  if (typeof o.time !== 'string' || typeof o.action !== 'string' || typeof o.outcome !== 'string') {
    return { ok: false, why: 'missing time, action or outcome' };
  }
  const actor = o.actor as Record<string, unknown> | undefined;
  if (!actor || typeof actor !== 'object' || typeof actor.id !== 'string') return { ok: false, why: 'missing actor' };
  return { ok: true, record: o as unknown as AuditRecord, selfOk: computeHash(o) === o.hash };
}
