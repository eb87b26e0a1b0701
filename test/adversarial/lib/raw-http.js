// HTTP over a raw TCP socket, so a test can send what no client library
// would: broken request lines, duplicate or oversized headers, lying
// Content-Length, odd chunked encodings, NUL bytes. And a lenient parser
// for whatever comes back (one or more responses, or none).
import net from 'node:net';

/**
 * Connect (from `localAddress`), write `bytes` (a Buffer or an array of
 * Buffers, written in pieces of at most 64 KiB, stopping as soon as the
 * server answers), and collect what comes back until `expect` complete
 * responses are in, the server closes, or `timeoutMs` passes. With
 * `halfCloseAfterMs`, the client half-closes that long after writing (for
 * requests that are deliberately incomplete: the server may rightly wait).
 * Resolves {data: Buffer, timedOut, error}.
 */
export function exchange({ port, host = '127.0.0.1', localAddress, bytes, timeoutMs = 10000, expect = 1, methods = [], halfCloseAfterMs }) {
  return new Promise((resolve) => {
    const chunks = [];
    let done = false;
    let error;
    let answered = false;
    const sock = net.connect({ port, host, localAddress });
    const finish = (timedOut) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(chunks), timedOut, error });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    sock.on('connect', async () => {
      const parts = Array.isArray(bytes) ? bytes : [bytes];
      try {
        outer: for (const p of parts) {
          for (let off = 0; off < p.length; off += 65536) {
            if (answered || sock.destroyed) break outer;
            if (!sock.write(p.subarray(off, off + 65536))) await new Promise((r) => { sock.once('drain', r); sock.once('close', r); });
            if (p.length > 65536) await new Promise((r) => setImmediate(r));
          }
        }
        if (halfCloseAfterMs !== undefined && !sock.destroyed) setTimeout(() => { if (!sock.destroyed) sock.end(); }, halfCloseAfterMs);
      } catch (e) { error = e; }
    });
    sock.on('data', (d) => {
      chunks.push(d);
      answered = true;
      const p = parseResponses(Buffer.concat(chunks), methods);
      if (p.responses.length >= expect && !p.malformed && p.rest.length === 0) finish(false);
    });
    sock.on('error', (e) => { error = e; });
    sock.on('close', () => finish(false));
  });
}

function indexOfCrlfCrlf(buf, from) {
  return buf.indexOf('\r\n\r\n', from, 'latin1');
}

/**
 * Parse consecutive HTTP/1.x responses from `buf`. `methods` tells which
 * responses answer a HEAD (no body). Returns {responses, rest, malformed}.
 */
export function parseResponses(buf, methods = []) {
  const responses = [];
  let off = 0;
  let malformed = null;
  while (off < buf.length) {
    const end = indexOfCrlfCrlf(buf, off);
    if (end < 0) { malformed = 'incomplete head'; break; }
    const head = buf.subarray(off, end).toString('latin1');
    const [statusLine, ...headerLines] = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) { malformed = `bad status line ${JSON.stringify(statusLine.slice(0, 80))}`; break; }
    const headers = {};
    const rawHeaders = [];
    for (const l of headerLines) {
      const i = l.indexOf(':');
      if (i <= 0) { malformed = `bad header line ${JSON.stringify(l.slice(0, 80))}`; break; }
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      rawHeaders.push([k, v]);
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    if (malformed) break;
    const status = Number(m[1]);
    let bodyStart = end + 4;
    let body = Buffer.alloc(0);
    const isHead = methods[responses.length] === 'HEAD';
    const noBody = isHead || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (!noBody) {
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        const parts = [];
        let p = bodyStart;
        for (;;) {
          const le = buf.indexOf('\r\n', p, 'latin1');
          if (le < 0) { malformed = 'incomplete chunk size'; break; }
          const size = parseInt(buf.subarray(p, le).toString('latin1'), 16);
          if (!Number.isFinite(size)) { malformed = 'bad chunk size'; break; }
          p = le + 2;
          if (size === 0) { const te = buf.indexOf('\r\n', p, 'latin1'); p = te < 0 ? buf.length : te + 2; break; }
          parts.push(buf.subarray(p, p + size));
          p += size + 2;
        }
        body = Buffer.concat(parts);
        bodyStart = p;
        off = p;
      } else if (headers['content-length'] !== undefined) {
        const n = Number(headers['content-length']);
        body = buf.subarray(bodyStart, bodyStart + n);
        if (body.length < n) malformed = 'body shorter than Content-Length';
        off = bodyStart + n;
      } else {
        body = buf.subarray(bodyStart);
        off = buf.length;
      }
    } else {
      off = bodyStart;
    }
    if (status === 100) continue; // 100 Continue: the real answer follows
    responses.push({ status, reason: m[2] ?? '', headers, rawHeaders, body: body.toString('utf8') });
    if (malformed) break;
  }
  return { responses, rest: buf.subarray(off), malformed };
}
