/**
 * Closing a connection whose request body was not read to the end (413,
 * other early errors) without losing the answer.
 *
 * Closing a TCP socket that still holds unread bytes makes the kernel send
 * a reset instead of a normal close, and a client still writing its upload
 * can see that reset before it has read the answer (measured: 19 of 48
 * 10 MB uploads got ECONNRESET/EPIPE instead of the 413). So, as RFC 9112
 * §9.6 describes: the answer goes out with `Connection: close`, then only
 * our sending side is closed (a FIN after the answer), and the socket is
 * destroyed when the client closes it — which clients do once they have the
 * answer — or after LINGER_MS at the latest. The rest of the upload is not
 * read meanwhile (the kernel's buffers and TCP flow control hold the
 * client), so an oversized upload still costs about the 64 KiB limit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Longest a half-closed connection waits for the client to close it. */
export const LINGER_MS = 5000;

const lingering = new WeakSet<Socket>();

/**
 * Answer `res` with `Connection: close` and close its connection gently
 * once the answer is written. Call before `res.end()`.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('connection', 'close');
  const socket = req.socket as (Socket & { destroySoon?: () => void }) | null;
  if (!socket || lingering.has(socket) || typeof socket.destroySoon !== 'function') return;
  lingering.add(socket);
  // node's server ends a `Connection: close` answer with socket.destroySoon():
  // end() and destroy() as soon as the answer is flushed. Replace it, for this
  // one socket, with the half-close and the wait.
  socket.destroySoon = () => linger(socket, req);
}

function linger(socket: Socket, req: IncomingMessage): void {
  if (socket.destroyed) return;
  // node's server has just told a body nobody read to drain itself (req._dump()): it is not read.
  req.pause();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  // The client closing its side (or resetting) ends it; node's server may not be listening any more.
  socket.once('end', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.end();
}
