/**
 * The request log: one line per request on stdout,
 *
 *   2026-01-31T12:00:00.123Z GET /api/status 200 0.4ms rid=q3V9_kR2aZ0x actor="kitchen tablet"
 *
 * method, path WITHOUT the query string, status, duration, request id and the
 * actor's label (`-` before authentication). Never a token, code or query:
 * the query is dropped, and anything in the path shaped like a token, pairing
 * token or invite code is replaced by [redacted] (the audit log's own
 * redaction), control characters are escaped and the path is capped.
 *
 * Lines are collected and written together at most every 50 ms (one write
 * for many requests under load, not one syscall each; the timer runs only
 * while lines wait, so an idle server has none). close() writes the rest.
 * Server messages (start, warnings) go to stderr, not here. WebSocket
 * upgrades are logged as requests (`GET /api/ws 101 …`); what happens to a
 * socket later (closed, dropped) as notes of the same shape (noteLine).
 */
import type { Writable } from 'node:stream';
import { redactSecrets } from '../core/audit/sanitize.js';

const MAX_PATH = 200;
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0020\u007f-\u009f"\\\u2028\u2029]/g;
const NO_PATHS: ReadonlySet<string> = new Set();

/** The path part of a request target, cleaned for the log. `known`: paths that need no cleaning (the literal routes). */
export function logPath(url: string | undefined, known: ReadonlySet<string> = NO_PATHS): string {
  const u = url ?? '';
  const q = u.indexOf('?');
  let p = q >= 0 ? u.slice(0, q) : u;
  if (known.has(p)) return p;
  p = redactSecrets(p).text;
  p = p.replace(UNSAFE, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
  if (p.length > MAX_PATH) p = `${p.slice(0, MAX_PATH - 1)}…`;
  return p || '-';
}

const FLUSH_MS = 50;
const MAX_PENDING = 256;
const quoted = new Map<string, string>();

/** The ISO time of `ms`, made once per millisecond (many requests share one under load). */
let isoMs = -1;
let isoText = '';
function isoTime(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

function quoteLabel(label: string | undefined): string {
  if (label === undefined) return '-';
  let q = quoted.get(label);
  if (q === undefined) {
    q = JSON.stringify(redactSecrets(label).text.slice(0, 100));
    if (quoted.size >= 1000) quoted.clear();
    quoted.set(label, q);
  }
  return q;
}

/** One request line (no newline): `TIME METHOD PATH STATUS MSms rid=ID actor="LABEL"` (the path as logPath cleans it). */
export function requestLine(method: string | undefined, path: string, status: number, ms: number, requestId: string, actorLabel: string | undefined): string {
  return `${isoTime(Date.now())} ${method ?? '-'} ${path} ${status} ${ms < 10 ? ms.toFixed(1) : Math.round(ms)}ms rid=${requestId} actor=${quoteLabel(actorLabel)}`;
}

/**
 * Any other line of the request log (a WebSocket closing, a dropped peer):
 * `TIME TEXT rid=ID actor="LABEL"` (no newline), the same shape as a request's tail.
 * `text` is the caller's own wording (never a token); control characters are escaped.
 */
export function noteLine(text: string, requestId?: string, actorLabel?: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = redactSecrets(text).text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).slice(0, 500);
  return `${isoTime(Date.now())} ${clean}${requestId !== undefined ? ` rid=${requestId}` : ''}${requestId !== undefined || actorLabel !== undefined ? ` actor=${quoteLabel(actorLabel)}` : ''}`;
}

export class RequestLog {
  private lines: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly out: Writable, private readonly known: ReadonlySet<string> = NO_PATHS) {}

  /** Record one finished request. `method` is node's parsed method (a known token). */
  request(method: string | undefined, url: string | undefined, status: number, ms: number, requestId: string, actorLabel: string | undefined): void {
    if (this.closed) return;
    this.line(requestLine(method, logPath(url, this.known), status, ms, requestId, actorLabel));
  }

  /** Add a line already formatted by requestLine / noteLine (a newline is added when missing). */
  line(line: string): void {
    if (this.closed) return;
    this.lines.push(line.endsWith('\n') ? line : `${line}\n`);
    if (this.lines.length >= MAX_PENDING) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Write what is collected now. */
  flush(): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
    if (this.lines.length === 0) return;
    const text = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    try { this.out.write(text); } catch { /* stdout gone: the log is best effort */ }
  }

  close(): void {
    this.flush();
    this.closed = true;
  }
}
