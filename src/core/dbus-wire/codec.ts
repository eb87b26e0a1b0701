/**
 * The D-Bus marshalling format for the types MPRIS uses: reading values in
 * either byte order, writing them little-endian. Values come out as
 * dbus-next gives them (so callers need not care which client read them):
 * a Variant {signature, value} for `v`, bigint for `x`/`t`, a Buffer for
 * `ay`, a plain object for a dictionary, an array for a struct. Every read
 * is bounds-checked; malformed input is a WireError, never a crash.
 */
import { WireError } from './errors.js';
import { alignOf, singleType, type WireType } from './signature.js';

/** A D-Bus variant: a value with the signature of its type. */
export class Variant<T = unknown> {
  constructor(readonly signature: string, readonly value: T) {}
}

/** Spec limit on one array's byte length. */
export const MAX_ARRAY_BYTES = 1 << 26;
/** Nesting limit across arrays, structs and variants together. */
const MAX_DEPTH = 64;

const pad = (pos: number, align: number): number => (pos + align - 1) & ~(align - 1);

/** Reads values from `buf` between `pos` and `end`; offsets (and so alignment) are relative to the message start. */
export class Reader {
  constructor(private readonly buf: Buffer, public pos: number, private readonly end: number, private readonly little: boolean) {}

  private need(n: number): void {
    if (this.pos + n > this.end) throw new WireError('message truncated: a value runs past its end');
  }

  align(n: number): void {
    const to = pad(this.pos, n);
    if (to > this.end) throw new WireError('message truncated in padding');
    this.pos = to;
  }

  u8(): number { this.need(1); return this.buf[this.pos++]!; }

  u32(): number {
    this.align(4); this.need(4);
    const v = this.little ? this.buf.readUInt32LE(this.pos) : this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  private str(lenBytes: 1 | 4): string {
    const len = lenBytes === 1 ? this.u8() : this.u32();
    this.need(len + 1);
    if (this.buf[this.pos + len] !== 0) throw new WireError('string is not NUL-terminated');
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len + 1;
    return s;
  }

  /** One value of type `t`. */
  read(t: WireType, depth = 0): unknown {
    if (depth > MAX_DEPTH) throw new WireError('values nest too deep');
    const b = this.buf;
    const le = this.little;
    switch (t.kind) {
      case 'y': return this.u8();
      case 'b': {
        const v = this.u32();
        if (v > 1) throw new WireError(`boolean value ${v} is neither 0 nor 1`);
        return v === 1;
      }
      case 'n': { this.align(2); this.need(2); const v = le ? b.readInt16LE(this.pos) : b.readInt16BE(this.pos); this.pos += 2; return v; }
      case 'q': { this.align(2); this.need(2); const v = le ? b.readUInt16LE(this.pos) : b.readUInt16BE(this.pos); this.pos += 2; return v; }
      case 'i': { this.align(4); this.need(4); const v = le ? b.readInt32LE(this.pos) : b.readInt32BE(this.pos); this.pos += 4; return v; }
      case 'u': case 'h': return this.u32();
      case 'x': { this.align(8); this.need(8); const v = le ? b.readBigInt64LE(this.pos) : b.readBigInt64BE(this.pos); this.pos += 8; return v; }
      case 't': { this.align(8); this.need(8); const v = le ? b.readBigUInt64LE(this.pos) : b.readBigUInt64BE(this.pos); this.pos += 8; return v; }
      case 'd': { this.align(8); this.need(8); const v = le ? b.readDoubleLE(this.pos) : b.readDoubleBE(this.pos); this.pos += 8; return v; }
      case 's': case 'o': return this.str(4);
      case 'g': return this.str(1);
      case 'v': {
        const sig = this.str(1);
        return new Variant(sig, this.read(singleType(sig), depth + 1));
      }
      case '(': {
        this.align(8);
        return t.fields.map((f) => this.read(f, depth + 1));
      }
      case '{': throw new WireError('dictionary entry outside an array');
      case 'a': {
        const len = this.u32();
        if (len > MAX_ARRAY_BYTES) throw new WireError(`array of ${len} bytes is over the ${MAX_ARRAY_BYTES}-byte limit`);
        this.align(alignOf(t.of));
        this.need(len);
        const stop = this.pos + len;
        if (t.of.kind === 'y') { const v = Buffer.from(b.subarray(this.pos, stop)); this.pos = stop; return v; }
        const inner = new Reader(b, this.pos, stop, le);
        let out: unknown;
        if (t.of.kind === '{') {
          const dict: Record<string, unknown> = {};
          const { key, value } = t.of;
          while (inner.pos < stop) {
            inner.align(8);
            const k = String(inner.read(key, depth + 1));
            // defineProperty: a key named __proto__ is data, not the prototype.
            Object.defineProperty(dict, k, { value: inner.read(value, depth + 1), enumerable: true, writable: true, configurable: true });
          }
          out = dict;
        } else {
          const list: unknown[] = [];
          while (inner.pos < stop) list.push(inner.read(t.of, depth + 1));
          out = list;
        }
        if (inner.pos !== stop) throw new WireError('array elements overrun the array length');
        this.pos = stop;
        return out;
      }
    }
  }
}

/** Builds a little-endian message; offsets (and so alignment) are relative to its start. */
export class Writer {
  private buf = Buffer.alloc(256);
  pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  align(n: number): void {
    const to = pad(this.pos, n);
    this.room(to - this.pos);
    this.buf.fill(0, this.pos, to);
    this.pos = to;
  }

  u8(v: number): void { this.room(1); this.buf[this.pos++] = v; }
  u32(v: number): void { this.align(4); this.room(4); this.buf.writeUInt32LE(v, this.pos); this.pos += 4; }

  private str(v: unknown, lenBytes: 1 | 4): void {
    if (typeof v !== 'string') throw new WireError(`expected a string, got ${typeof v}`);
    if (v.includes('\0')) throw new WireError('a D-Bus string cannot contain NUL');
    const len = Buffer.byteLength(v, 'utf8');
    if (lenBytes === 1) { if (len > 255) throw new WireError('signature too long'); this.u8(len); } else this.u32(len);
    this.room(len + 1);
    this.buf.write(v, this.pos, 'utf8');
    this.buf[this.pos + len] = 0;
    this.pos += len + 1;
  }

  private int(v: unknown, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new WireError(`${String(v)} does not fit the integer type`);
    return v;
  }

  write(t: WireType, v: unknown, depth = 0): void {
    if (depth > MAX_DEPTH) throw new WireError('values nest too deep');
    switch (t.kind) {
      case 'y': this.u8(this.int(v, 0, 255)); return;
      case 'b': if (typeof v !== 'boolean') throw new WireError('expected a boolean'); this.u32(v ? 1 : 0); return;
      case 'n': this.align(2); this.room(2); this.buf.writeInt16LE(this.int(v, -0x8000, 0x7fff), this.pos); this.pos += 2; return;
      case 'q': this.align(2); this.room(2); this.buf.writeUInt16LE(this.int(v, 0, 0xffff), this.pos); this.pos += 2; return;
      case 'i': this.align(4); this.room(4); this.buf.writeInt32LE(this.int(v, -0x80000000, 0x7fffffff), this.pos); this.pos += 4; return;
      case 'u': case 'h': this.u32(this.int(v, 0, 0xffffffff)); return;
      case 'x': case 't': {
        const n = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined;
        if (n === undefined) throw new WireError('expected an integer (bigint) for a 64-bit value');
        this.align(8); this.room(8);
        try {
          if (t.kind === 'x') this.buf.writeBigInt64LE(n, this.pos); else this.buf.writeBigUInt64LE(n, this.pos);
        } catch { throw new WireError(`${n} does not fit a 64-bit integer`); }
        this.pos += 8;
        return;
      }
      case 'd':
        if (typeof v !== 'number') throw new WireError('expected a number');
        this.align(8); this.room(8); this.buf.writeDoubleLE(v, this.pos); this.pos += 8;
        return;
      case 's': case 'o': this.str(v, 4); return;
      case 'g': this.str(v, 1); return;
      case 'v': {
        if (!(v instanceof Object) || typeof (v as Variant).signature !== 'string' || !('value' in v)) throw new WireError('expected a Variant');
        const { signature, value } = v as Variant;
        this.str(signature, 1);
        this.write(singleType(signature), value, depth + 1);
        return;
      }
      case '(': {
        if (!Array.isArray(v) || v.length !== t.fields.length) throw new WireError(`expected a struct of ${t.fields.length} values`);
        this.align(8);
        t.fields.forEach((f, i) => this.write(f, v[i], depth + 1));
        return;
      }
      case '{': throw new WireError('dictionary entry outside an array');
      case 'a': {
        this.u32(0);
        const lenAt = this.pos - 4;
        this.align(alignOf(t.of));
        const start = this.pos;
        if (t.of.kind === '{') {
          if (v === null || typeof v !== 'object') throw new WireError('expected an object for a dictionary');
          const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
          for (const [k, x] of entries) {
            this.align(8);
            this.write(t.of.key, t.of.key.kind === 's' || t.of.key.kind === 'o' || t.of.key.kind === 'g' ? String(k) : Number(k), depth + 1);
            this.write(t.of.value, x, depth + 1);
          }
        } else {
          const items = t.of.kind === 'y' && v instanceof Uint8Array ? [...v] : v;
          if (!Array.isArray(items)) throw new WireError('expected an array');
          for (const x of items) this.write(t.of, x, depth + 1);
        }
        const len = this.pos - start;
        if (len > MAX_ARRAY_BYTES) throw new WireError('array too long');
        this.buf.writeUInt32LE(len, lenAt);
        return;
      }
    }
  }

  /** One header field: the struct (y, v) with a string-like (s, o, g) value. */
  field(code: number, sig: 's' | 'o' | 'g', value: string): void {
    this.align(8);
    this.u8(code);
    this.u8(1);
    this.u8(sig.charCodeAt(0));
    this.u8(0);
    this.str(value, sig === 'g' ? 1 : 4);
  }

  patchU32(at: number, v: number): void {
    this.buf.writeUInt32LE(v, at);
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
