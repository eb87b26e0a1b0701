/**
 * X-Request-ID: accept the upstream value when it is safe to log and echo
 * (1–128 of A-Z a-z 0-9 . _ : -), otherwise make a fresh one. The id goes
 * back in the response header, in every log line and in error bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { deferHeader } from './security-headers.js';

export const REQUEST_ID_HEADER = 'x-request-id';
export const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Ids are handed out from one random block at a time: 12 base64url
 * characters each (9 bytes, 72 bits), with `_` written as `.`. The block is
 * encoded once, so an id is a slice of a string rather than a Buffer
 * encoding per request.
 *
 * Why no `_`: the audit log redacts anything shaped like a token (`mg_…`,
 * `mgp_…`, see core/audit/sanitize.ts), and about one id in 250,000 held
 * `mg_` and six more characters: its audit line said `[redacted]`, so the
 * request it answered could not be found in the log. Without `_` no id has a
 * secret's shape (the other shapes need 16 or more characters).
 */
const ID_BYTES = 9;
const ID_CHARS = 12;
const BLOCK_IDS = 256;
let block = '';
let offset = 0;

/** A fresh random request id, e.g. `q3V9.kR2aZ0x`. */
export function newRequestId(): string {
  if (offset >= block.length) {
    block = randomBytes(ID_BYTES * BLOCK_IDS).toString('base64url').replaceAll('_', '.');
    offset = 0;
  }
  const id = block.slice(offset, offset + ID_CHARS);
  offset += ID_CHARS;
  return id;
}

/** The upstream id when safe, else a new one. Several X-Request-ID headers (joined by node) are not safe. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SAFE_REQUEST_ID.test(header) ? header : newRequestId();
}

/** Pick the request's id and echo it in the response (deferred on a SecureServerResponse). */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const id = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
  deferHeader(res, REQUEST_ID_HEADER, id);
  return id;
}
