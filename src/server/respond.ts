/**
 * Writing answers. Errors go through http-error.ts's `toErrorResponse` (one
 * table decides the status), plus the MediagateError's `hint` — the remote
 * CLI prints it under the message, so a command run with `--remote` says the
 * same as the local one. The hint is sanitised like the message (no paths,
 * one line) and left out for server-side problems (config/state, 500), which
 * are not the caller's business.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExitCode, isMediagateError } from '../core/errors.js';
import { closeAfterAnswer } from './linger.js';
import { HttpError, JSON_CONTENT_TYPE, sanitizeMessage, toErrorResponse, type ErrorResponse } from './http-error.js';

/** An HttpError that also carries a hint for the user. */
export class ApiError extends HttpError {
  readonly hint: string | undefined;
  constructor(status: number, code: string, message: string, opts: { hint?: string; retryAfterSeconds?: number; headers?: Record<string, string> } = {}) {
    super(status, code, message, opts);
    this.hint = opts.hint;
  }
}

/** The hint to show the caller for `err`, or undefined. */
export function hintOf(err: unknown, status: number): string | undefined {
  if (status >= 500 && status !== 503) return undefined;
  let hint: string | undefined;
  if (isMediagateError(err)) {
    if (err.exitCode === ExitCode.config || err.exitCode === ExitCode.failure) return undefined;
    hint = err.hint;
  } else if (err instanceof ApiError) {
    hint = err.hint;
  }
  return hint ? sanitizeMessage(hint) : undefined;
}

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** Headers a handler may have set that must not survive into an error answer. */
const STALE_HEADERS = ['content-length', 'content-encoding', 'content-disposition', 'etag', 'last-modified', 'content-range', 'accept-ranges', 'content-type'];

/**
 * Write `err` as `{"error":{"code","message","requestId","hint"?}}` with the
 * status and headers toErrorResponse decides. Same rules as http-error's
 * sendError (headers already out → cut the connection; unread body →
 * Connection: close), with the hint added.
 */
export function sendApiError(res: ServerResponse, err: unknown, requestId: string): ErrorResponse {
  const e = toErrorResponse(err);
  if (res.headersSent || res.writableEnded) {
    if (!res.writableEnded) res.destroy();
    return e;
  }
  const hint = hintOf(err, e.status);
  const body = JSON.stringify({ error: hint ? { code: e.code, message: e.message, requestId, hint } : { code: e.code, message: e.message, requestId } });
  for (const h of STALE_HEADERS) res.removeHeader(h);
  res.statusCode = e.status;
  for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  res.setHeader('content-type', JSON_CONTENT_TYPE);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(body));
  // A body left unread (413, early 4xx) is not drained: close the connection instead, gently.
  const req = (res as ServerResponse & { req?: IncomingMessage }).req;
  if (req && req.complete === false && hasBody(req)) closeAfterAnswer(req, res);
  res.end(body);
  return e;
}

/** Write a JSON text that is already serialised (the hot path keeps status bodies ready). */
export function sendJsonText(res: ServerResponse, status: number, body: string): void {
  // One writeHead with a flat list: node's fast path (the security headers are added by the response class).
  res.writeHead(status, ['content-type', JSON_CONTENT_TYPE, 'content-length', String(Buffer.byteLength(body))]);
  res.end(body);
}
