// Unix-socket servers that misbehave like a broken sound server would, at
// $XDG_RUNTIME_DIR/pulse/native of their own runtime dir, for the native
// PulseAudio client's denied cases. Not PulseAudio: each answers only
// enough to fail in one way.
//   close   — reads the client's first frame (AUTH), then closes the connection
//   garbage — answers the first bytes with text that is not the protocol
//   badtag  — answers AUTH with a well-framed reply to a tag never sent
//   silent  — accepts and reads, never answers
import net from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './proc.js';

export async function startFakePulse(t, mode) {
  const runtime = join(tempDir(t, 'mg-fakepa-'), 'xdg');
  mkdirSync(join(runtime, 'pulse'), { recursive: true, mode: 0o700 });
  const socket = join(runtime, 'pulse', 'native');
  const conns = new Set();
  let accepted = 0;
  const server = net.createServer((c) => {
    accepted++;
    conns.add(c);
    c.on('close', () => conns.delete(c));
    c.on('error', () => {});
    c.once('data', () => {
      if (mode === 'close') c.destroy();
      else if (mode === 'garbage') c.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      else if (mode === 'badtag') {
        // descriptor: length 10, control channel; payload: u32 REPLY (2), u32 tag 77
        const b = Buffer.alloc(30);
        b.writeUInt32BE(10, 0); b.writeUInt32BE(0xffffffff, 4);
        b[20] = 0x4c; b.writeUInt32BE(2, 21); b[25] = 0x4c; b.writeUInt32BE(77, 26);
        c.write(b);
      }
      // silent: nothing
    });
  });
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(socket, resolve); });
  t.teardown(() => new Promise((r) => { for (const c of conns) c.destroy(); server.close(() => r()); }));
  return { runtime, socket, env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: runtime, LANG: 'C' }, accepted: () => accepted };
}
