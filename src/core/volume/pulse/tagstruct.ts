import { CHANNELS_MAX, Tag } from './protocol.js';

/** A packet that does not parse as the tagstruct we expect (garbage, or a server we do not understand). */
export class MalformedPacket extends Error {
  override name = 'MalformedPacket';
}

/**
 * Writes a tagstruct: each value is its tag byte, then the value big-endian.
 * Only the value kinds the volume client sends.
 */
export class TagWriter {
  private chunks: Buffer[] = [];

  private push(b: Buffer): this { this.chunks.push(b); return this; }

  u32(v: number): this {
    const b = Buffer.allocUnsafe(5);
    b[0] = Tag.U32;
    b.writeUInt32BE(v >>> 0, 1);
    return this.push(b);
  }
  string(s: string | null): this {
    if (s === null) return this.push(Buffer.from([Tag.STRING_NULL]));
    return this.push(Buffer.concat([Buffer.from([Tag.STRING]), Buffer.from(s, 'utf8'), Buffer.from([0])]));
  }
  bool(v: boolean): this { return this.push(Buffer.from([v ? Tag.BOOLEAN_TRUE : Tag.BOOLEAN_FALSE])); }
  arbitrary(data: Buffer): this {
    const head = Buffer.allocUnsafe(5);
    head[0] = Tag.ARBITRARY;
    head.writeUInt32BE(data.length, 1);
    return this.push(Buffer.concat([head, data]));
  }
  cvolume(values: readonly number[]): this {
    if (values.length < 1 || values.length > CHANNELS_MAX) throw new RangeError(`a volume has 1–${CHANNELS_MAX} channels, got ${values.length}`);
    const b = Buffer.allocUnsafe(2 + 4 * values.length);
    b[0] = Tag.CVOLUME;
    b[1] = values.length;
    values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 2 + 4 * i));
    return this.push(b);
  }
  /** A property list of UTF-8 strings (each value stored with its NUL, as libpulse does). */
  proplist(props: Record<string, string>): this {
    this.push(Buffer.from([Tag.PROPLIST]));
    for (const [k, v] of Object.entries(props)) {
      const value = Buffer.concat([Buffer.from(v, 'utf8'), Buffer.from([0])]);
      this.string(k).u32(value.length).arbitrary(value);
    }
    return this.string(null);
  }
  toBuffer(): Buffer { return Buffer.concat(this.chunks); }
}

export interface SampleSpec { format: number; channels: number; rate: number }

/**
 * Reads a tagstruct. Every getter checks the tag and the length and throws
 * MalformedPacket otherwise: a reply is never read past its end or as
 * another kind of value.
 */
export class TagReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get eof(): boolean { return this.pos >= this.buf.length; }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new MalformedPacket(`truncated ${what}`);
  }
  private tag(expected: number, what: string): void {
    this.need(1, what);
    const got = this.buf[this.pos]!;
    if (got !== expected) throw new MalformedPacket(`expected ${what}, found tag 0x${got.toString(16).padStart(2, '0')}`);
    this.pos++;
  }
  private rawU32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u32(): number { this.tag(Tag.U32, 'u32'); return this.rawU32('u32'); }
  u8(): number { this.tag(Tag.U8, 'u8'); this.need(1, 'u8'); return this.buf[this.pos++]!; }
  /** A 64-bit microsecond count, as a number (exact below 2^53 µs, some 285 years). */
  usec(): number {
    this.tag(Tag.USEC, 'usec');
    const hi = this.rawU32('usec');
    return hi * 2 ** 32 + this.rawU32('usec');
  }
  bool(): boolean {
    this.need(1, 'boolean');
    const b = this.buf[this.pos]!;
    if (b !== Tag.BOOLEAN_TRUE && b !== Tag.BOOLEAN_FALSE) throw new MalformedPacket(`expected boolean, found tag 0x${b.toString(16)}`);
    this.pos++;
    return b === Tag.BOOLEAN_TRUE;
  }
  string(): string | null {
    this.need(1, 'string');
    if (this.buf[this.pos] === Tag.STRING_NULL) { this.pos++; return null; }
    this.tag(Tag.STRING, 'string');
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new MalformedPacket('unterminated string');
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  arbitrary(): Buffer {
    this.tag(Tag.ARBITRARY, 'arbitrary');
    const n = this.rawU32('arbitrary length');
    this.need(n, 'arbitrary data');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  sampleSpec(): SampleSpec {
    this.tag(Tag.SAMPLE_SPEC, 'sample spec');
    this.need(6, 'sample spec');
    const format = this.buf[this.pos]!;
    const channels = this.buf[this.pos + 1]!;
    this.pos += 2;
    return { format, channels, rate: this.rawU32('sample rate') };
  }
  channelMap(): number[] {
    this.tag(Tag.CHANNEL_MAP, 'channel map');
    const n = this.count('channel map');
    this.need(n, 'channel map');
    const map = [...this.buf.subarray(this.pos, this.pos + n)];
    this.pos += n;
    return map;
  }
  cvolume(): number[] {
    this.tag(Tag.CVOLUME, 'volume');
    const n = this.count('volume');
    const values: number[] = [];
    for (let i = 0; i < n; i++) values.push(this.rawU32('volume'));
    return values;
  }
  volume(): number { this.tag(Tag.VOLUME, 'volume value'); return this.rawU32('volume value'); }
  /** A property list; values are raw bytes (strings carry their NUL). */
  proplist(): Map<string, Buffer> {
    this.tag(Tag.PROPLIST, 'property list');
    const props = new Map<string, Buffer>();
    for (;;) {
      const key = this.string();
      if (key === null) return props;
      const n = this.u32();
      const value = this.arbitrary();
      if (value.length !== n) throw new MalformedPacket(`property '${key.slice(0, 40)}' length mismatch`);
      props.set(key, value);
    }
  }

  private count(what: string): number {
    this.need(1, what);
    const n = this.buf[this.pos++]!;
    if (n > CHANNELS_MAX) throw new MalformedPacket(`${what} with ${n} channels`);
    return n;
  }
}
