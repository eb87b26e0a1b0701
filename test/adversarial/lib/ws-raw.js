// A WebSocket client on a raw TCP socket: the handshake by hand, then any
// frame at all (unmasked, reserved bits, bad opcodes, lying lengths), and a
// parser for what the server sends back.
import net from 'node:net';
import { randomBytes } from 'node:crypto';

/** Build one frame. `mask` false sends it unmasked (a protocol error from a client). */
export function frame({ opcode = 1, payload = Buffer.alloc(0), fin = true, rsv = 0, mask = true, lengthOverride } = {}) {
  const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = lengthOverride ?? BigInt(p.length);
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode) & 0xff];
  let ext = Buffer.alloc(0);
  const m = mask ? 0x80 : 0;
  if (len < 126n) head.push(m | Number(len));
  else if (len < 65536n) { head.push(m | 126); ext = Buffer.alloc(2); ext.writeUInt16BE(Number(len)); }
  else { head.push(m | 127); ext = Buffer.alloc(8); ext.writeBigUInt64BE(len); }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, p]);
  const key = randomBytes(4);
  const masked = Buffer.from(p);
  for (let i = 0; i < masked.length; i++) masked[i] ^= key[i % 4];
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
}

/** Parse unmasked server frames from `buf`; returns {frames, rest}. */
function parseFrames(buf) {
  const frames = [];
  let off = 0;
  while (buf.length - off >= 2) {
    const b0 = buf[off];
    const b1 = buf[off + 1];
    let len = b1 & 0x7f;
    let p = off + 2;
    if (len === 126) { if (buf.length - p < 2) break; len = buf.readUInt16BE(p); p += 2; } else if (len === 127) { if (buf.length - p < 8) break; len = Number(buf.readBigUInt64BE(p)); p += 8; }
    if (buf.length - p < len) break;
    const payload = buf.subarray(p, p + len);
    frames.push({ fin: Boolean(b0 & 0x80), opcode: b0 & 0x0f, payload });
    off = p + len;
  }
  return { frames, rest: buf.subarray(off) };
}

/**
 * Open /api/ws with `token` over a raw socket. Resolves
 * {status, sock, frames, send(buf), closed: Promise<{code, reason}|null>, messages()}
 * (`closed` resolves on the server's close frame, or with null when the TCP connection ends without one)
 * (status is the HTTP status of the handshake answer; 101 when upgraded).
 */
export function rawWs(port, token, { localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress });
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const frames = [];
    let closeFrame = null;
    let resolveClosed;
    const closed = new Promise((r) => { resolveClosed = r; });
    sock.on('error', () => {});
    sock.on('close', () => resolveClosed(closeFrame));
    sock.on('connect', () => {
      sock.write(`GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n`
        + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buf.subarray(0, end).toString('latin1'))?.[1]);
        buf = buf.subarray(end + 4);
        upgraded = true;
        const handle = {
          status, sock, frames, closed,
          send: (b) => { if (!sock.destroyed) sock.write(b); },
          /** Text frames received so far, parsed as JSON where possible. */
          messages: () => frames.filter((f) => f.opcode === 1).map((f) => { try { return JSON.parse(f.payload.toString('utf8')); } catch { return { unparsable: f.payload.toString('utf8') }; } }),
        };
        resolve(handle);
      }
      const p = parseFrames(buf);
      buf = p.rest;
      for (const f of p.frames) {
        frames.push(f);
        if (f.opcode === 8) {
          closeFrame = { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005, reason: f.payload.subarray(2).toString('utf8') };
          resolveClosed(closeFrame); // the server waits for our close reply; we never send one
        }
      }
    });
    setTimeout(() => { if (!upgraded) { sock.destroy(); reject(new Error('no handshake answer')); } }, 5000);
  });
}
