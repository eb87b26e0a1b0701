// The web remote's generated files, made at build time from code (nothing
// is downloaded): the app icon as SVG and PNG (192 and 512 px, full-bleed so
// it also works as a maskable icon), the "no artwork" cover, and a short
// silent WAV that keeps the lock-screen controls up when asked to.
import { deflateSync } from 'node:zlib';

export const ACCENT = '#2f4fd0';
const ACCENT_RGB = [0x2f, 0x4f, 0xd0];

// The play triangle, in a 0..1 square, inside the maskable safe zone (the central 80 %).
const TRIANGLE = [[0.39, 0.3], [0.39, 0.7], [0.72, 0.5]];

export function iconSvg() {
  const pts = TRIANGLE.map(([x, y]) => `${x * 512},${y * 512}`).join(' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" rx="96" fill="${ACCENT}"/><polygon points="${pts}" fill="#fff"/></svg>\n`;
}

export function coverSvg() {
  return '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 320"><rect width="320" height="320" fill="#8a8fa3" fill-opacity=".18"/>'
    + '<path d="M190 92v110a30 30 0 1 1-16-26.5V116l-56 14v86a30 30 0 1 1-16-26.5V110z" fill="#8a8fa3"/></svg>\n';
}

function inTriangle(px, py) {
  const [[ax, ay], [bx, by], [cx, cy]] = TRIANGLE;
  const d1 = (px - bx) * (ay - by) - (ax - bx) * (py - by);
  const d2 = (px - cx) * (by - cy) - (bx - cx) * (py - cy);
  const d3 = (px - ax) * (cy - ay) - (cx - ax) * (py - ay);
  const neg = d1 < 0 || d2 < 0 || d3 < 0;
  const pos = d1 > 0 || d2 > 0 || d3 > 0;
  return !(neg && pos);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** The icon as an RGB PNG of `size`×`size`, the triangle anti-aliased by 4×4 supersampling. */
export function iconPng(size) {
  const row = 1 + size * 3;
  const raw = Buffer.alloc(row * size);
  const n = 4;
  for (let y = 0; y < size; y++) {
    raw[y * row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      let hit = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) if (inTriangle((x + (sx + 0.5) / n) / size, (y + (sy + 0.5) / n) / size)) hit++;
      }
      const a = hit / (n * n);
      const o = y * row + 1 + x * 3;
      for (let ch = 0; ch < 3; ch++) raw[o + ch] = Math.round(ACCENT_RGB[ch] * (1 - a) + 255 * a);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** `seconds` of silence: 8 kHz, 8-bit mono PCM WAV (unsigned: silence is 128). */
export function silenceWav(seconds = 1) {
  const rate = 8000;
  const n = Math.round(rate * seconds);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + n, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate, 28); // bytes per second
  h.writeUInt16LE(1, 32); // block align
  h.writeUInt16LE(8, 34); // bits per sample
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(n, 40);
  return Buffer.concat([h, Buffer.alloc(n, 128)]);
}
