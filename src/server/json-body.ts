/**
 * Read a JSON request body, defensively.
 *
 * - 413 as soon as Content-Length announces more than the limit (nothing is
 *   read), or the moment streamed bytes pass it: reading stops there, the
 *   stream is paused and `sendError` answers with `Connection: close` (and
 *   closes gently, linger.ts, so the answer is not lost to a reset), so a
 *   10 MB upload costs us ~64 KiB, not 10 MB.
 * - 415 unless Content-Type is application/json (a `charset=utf-8` parameter
 *   is fine, any other charset or parameter is not) or when a
 *   Content-Encoding is declared (we do not inflate request bodies).
 * - 400 for invalid UTF-8 or JSON, for nesting deeper than `maxDepth`
 *   (checked on the text before parsing), for numbers that overflow to
 *   Infinity and for `__proto__` keys (prototype-pollution bait).
 * - 422 when an object is expected and the JSON is something else.
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCode, HttpError } from './http-error.js';

export const BODY_LIMIT_BYTES = 64 * 1024;
export const MAX_JSON_DEPTH = 32;

export interface ReadJsonOptions {
  /** Most bytes accepted (default 64 KiB). */
  limit?: number;
  /** Deepest nesting of arrays/objects accepted (default 32). */
  maxDepth?: number;
  /** An empty body is `{}` instead of a 400 (routes whose fields are all optional). */
  optional?: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const parts = value.split(';');
  if (parts[0]!.trim().toLowerCase() !== 'application/json') return false;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) return false;
    const name = p.slice(0, eq).trim().toLowerCase();
    const val = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (name !== 'charset' || (val !== 'utf-8' && val !== 'utf8')) return false;
  }
  return true;
}

/** Deepest nesting in JSON text, stopping early once past `max`. */
function nestingDepth(text: string, max: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > deepest) { deepest = depth; if (deepest > max) return deepest; }
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return deepest;
}

/** Non-finite numbers and `__proto__` keys → the reason, else null. */
function unsafeValue(v: unknown): string | null {
  if (typeof v === 'number') return Number.isFinite(v) ? null : 'a number is too large';
  if (v === null || typeof v !== 'object') return null;
  if (Array.isArray(v)) {
    for (const x of v) { const r = unsafeValue(x); if (r) return r; }
    return null;
  }
  for (const k of Object.keys(v)) {
    if (k === '__proto__') return 'the key "__proto__" is not allowed';
    const r = unsafeValue((v as Record<string, unknown>)[k]);
    if (r) return r;
  }
  return null;
}

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** Collect at most `limit` bytes; reject with 413 the moment there are more. */
function collect(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (err: Error | null, value?: Buffer): void => {
      if (done) return;
      done = true;
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('close', onClose);
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        req.pause(); // stop pulling from the socket; the error answer closes it
        chunks.length = 0;
        finish(new HttpError(413, ErrorCode.bodyTooLarge, `the request body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(null, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    const onError = (): void => finish(new HttpError(400, ErrorCode.aborted, 'the request body could not be read'));
    const onClose = (): void => finish(new HttpError(400, ErrorCode.aborted, 'the request was aborted before its body arrived'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Read the body as a JSON object (`{…}`); see the module comment for the answers. */
export async function readJsonBody(req: IncomingMessage, opts: ReadJsonOptions = {}): Promise<Record<string, unknown>> {
  const value = await readJson(req, opts);
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(422, ErrorCode.notAnObject, 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Read the body as any JSON value. An empty body is `undefined` when `optional`. */
export async function readJson(req: IncomingMessage, opts: ReadJsonOptions = {}): Promise<unknown> {
  const limit = opts.limit ?? BODY_LIMIT_BYTES;
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const empty = (): undefined => {
    if (opts.optional) return undefined;
    throw new HttpError(400, ErrorCode.bodyRequired, 'this request needs a JSON body');
  };
  if (req.readableEnded) throw new Error('readJson: the request body was already read');
  if (!hasBody(req)) return empty();
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new HttpError(415, ErrorCode.unsupportedMediaType, 'compressed request bodies are not accepted; send plain JSON');
  }
  if (!isJsonContentType(req.headers['content-type'])) {
    throw new HttpError(415, ErrorCode.unsupportedMediaType, 'the request body must be JSON with Content-Type: application/json');
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    throw new HttpError(413, ErrorCode.bodyTooLarge, `the request body is larger than ${limit} bytes`);
  }
  const bytes = await collect(req, limit);
  let text: string;
  try { text = decoder.decode(bytes); } catch {
    throw new HttpError(400, ErrorCode.invalidJson, 'the request body is not valid UTF-8');
  }
  if (text.trim() === '') return empty();
  if (nestingDepth(text, maxDepth) > maxDepth) {
    throw new HttpError(400, ErrorCode.tooDeep, `the request body is nested more than ${maxDepth} levels deep`);
  }
  let value: unknown;
  try { value = JSON.parse(text); } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new HttpError(400, ErrorCode.invalidJson, `the request body is not valid JSON${at ? ` (at character ${at})` : ''}`);
  }
  const unsafe = unsafeValue(value);
  if (unsafe) throw new HttpError(400, ErrorCode.invalidJson, `the request body was refused: ${unsafe}`);
  return value;
}
