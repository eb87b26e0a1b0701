/**
 * JSON errors written straight to a socket, for the answers node's HTTP
 * server leaves to us before any ServerResponse exists: requests its parser
 * refuses ('clientError': broken request line, bad header, header overflow,
 * header timeout), CONNECT requests ('connect') and refused WebSocket
 * upgrades. They carry the same JSON body, security headers and request id
 * as every other API error, and the connection is closed after them.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode, errorBody, HttpError, JSON_CONTENT_TYPE, toErrorResponse } from './http-error.js';
import { HSTS_VALUE, SECURITY_HEADERS } from './security-headers.js';

/**
 * Write `err` (HttpError or MediagateError, mapped like every other API
 * error) as a complete HTTP/1.1 answer with `Connection: close`, then close
 * the socket. Returns the status sent.
 */
export function sendSocketError(socket: Duplex, err: unknown, requestId: string, tls: boolean): number {
  const e = toErrorResponse(err);
  const body = errorBody(e.code, e.message, requestId);
  const lines = [`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? 'Error'}`];
  for (const [k, v] of SECURITY_HEADERS) lines.push(`${k}: ${v}`);
  if (tls) lines.push(`strict-transport-security: ${HSTS_VALUE}`);
  for (const [k, v] of Object.entries(e.headers)) lines.push(`${k}: ${v}`);
  lines.push(`content-type: ${JSON_CONTENT_TYPE}`, `content-length: ${Buffer.byteLength(body)}`, `x-request-id: ${requestId}`, 'connection: close');
  if (socket.writable) {
    socket.once('finish', () => socket.destroy());
    socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  } else {
    socket.destroy();
  }
  return e.status;
}

/** The answer to a request node's parser refused (`err` from the server's 'clientError' event). */
export function clientErrorAnswer(err: NodeJS.ErrnoException): HttpError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new HttpError(431, 'request.headers_too_large', 'the request line or headers are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return new HttpError(408, ErrorCode.timeout, 'the request did not arrive in time');
    default:
      return new HttpError(400, 'request.malformed', 'the request is not valid HTTP/1.1');
  }
}
