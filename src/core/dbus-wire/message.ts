/**
 * D-Bus messages: the fixed header, the header fields, the body. Writes
 * method calls (little-endian); reads any message in either byte order,
 * refusing a malformed or oversized one before buffering it.
 */
import { Reader, Writer, MAX_ARRAY_BYTES, type Variant } from './codec.js';
import { WireError } from './errors.js';
import { parseSignature } from './signature.js';

export const MessageType = { methodCall: 1, methodReturn: 2, error: 3, signal: 4 } as const;
/** Header flag: do not start a service to receive this call (MPRIS players are never auto-started). */
export const NO_AUTO_START = 0x2;
export const NO_REPLY_EXPECTED = 0x1;
/** Spec limit on one message, header and body together. */
export const MAX_MESSAGE_BYTES = 1 << 27;

const FIELD = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6, sender: 7, signature: 8, unixFds: 9 } as const;
const FIELDS_TYPE = parseSignature('a(yv)')[0]!;

export interface WireMessage {
  type: number;
  flags: number;
  serial: number;
  path?: string | undefined;
  interface?: string | undefined;
  member?: string | undefined;
  errorName?: string | undefined;
  replySerial?: number | undefined;
  destination?: string | undefined;
  sender?: string | undefined;
  signature: string;
  body: unknown[];
}

export interface MethodCall {
  destination?: string;
  path: string;
  interface?: string;
  member: string;
  signature?: string;
  body?: unknown[];
  flags?: number;
}

/**
 * The bytes of a method call with this serial, built in one buffer: the
 * header fields written directly (no Variant objects), the body after them.
 * Throws WireError when the body does not fit the signature.
 */
export function encodeCall(call: MethodCall, serial: number): Buffer {
  const signature = call.signature ?? '';
  const values = call.body ?? [];
  const types = parseSignature(signature);
  if (types.length !== values.length) throw new WireError(`signature "${signature}" wants ${types.length} values, got ${values.length}`);
  const w = new Writer();
  w.u8(0x6c); // 'l': little-endian
  w.u8(MessageType.methodCall);
  w.u8(call.flags ?? 0);
  w.u8(1);
  w.u32(0); // body length, patched below
  w.u32(serial);
  w.u32(0); // header fields' byte length, patched below
  const fieldsStart = w.pos; // 16: already 8-aligned
  w.field(FIELD.path, 'o', call.path);
  w.field(FIELD.member, 's', call.member);
  if (call.interface) w.field(FIELD.interface, 's', call.interface);
  if (call.destination) w.field(FIELD.destination, 's', call.destination);
  if (signature) w.field(FIELD.signature, 'g', signature);
  w.patchU32(12, w.pos - fieldsStart);
  w.align(8);
  const bodyStart = w.pos;
  types.forEach((t, i) => w.write(t, values[i]));
  w.patchU32(4, w.pos - bodyStart);
  if (w.pos > MAX_MESSAGE_BYTES) throw new WireError('message too long');
  return w.bytes();
}

const pad8 = (n: number): number => (n + 7) & ~7;

/**
 * The length of the message at the start of `buf`, or undefined while its
 * first 16 bytes have not all arrived. Throws WireError for a header that
 * cannot start a message or announces one over the limits.
 */
export function frameLength(buf: Buffer, maxBytes = MAX_MESSAGE_BYTES): number | undefined {
  if (buf.length < 16) return undefined;
  const endian = buf[0];
  if (endian !== 0x6c && endian !== 0x42) throw new WireError(`bad byte-order mark 0x${endian!.toString(16)}`);
  if (buf[3] !== 1) throw new WireError(`unsupported protocol version ${buf[3]}`);
  const little = endian === 0x6c;
  const bodyLen = little ? buf.readUInt32LE(4) : buf.readUInt32BE(4);
  const fieldsLen = little ? buf.readUInt32LE(12) : buf.readUInt32BE(12);
  if (fieldsLen > MAX_ARRAY_BYTES) throw new WireError(`header fields of ${fieldsLen} bytes are over the limit`);
  const total = pad8(16 + fieldsLen) + bodyLen;
  if (total > maxBytes) throw new WireError(`message of ${total} bytes is over the ${maxBytes}-byte limit`);
  return total;
}

/** Decode one whole message (exactly frameLength bytes). Throws WireError for anything malformed. */
export function decodeMessage(buf: Buffer): WireMessage {
  const total = frameLength(buf);
  if (total === undefined || buf.length < total) throw new WireError('message truncated');
  const little = buf[0] === 0x6c;
  const type = buf[1]!;
  if (type < 1 || type > 4) throw new WireError(`unknown message type ${type}`);
  const serial = little ? buf.readUInt32LE(8) : buf.readUInt32BE(8);
  if (serial === 0) throw new WireError('message serial 0');
  const fieldsLen = little ? buf.readUInt32LE(12) : buf.readUInt32BE(12);
  const headEnd = 16 + fieldsLen;
  const head = new Reader(buf, 12, headEnd, little);
  const fields = head.read(FIELDS_TYPE) as Array<[number, Variant]>;
  const msg: WireMessage = { type, flags: buf[2]!, serial, signature: '', body: [] };
  const want = (v: Variant, sig: string, code: number): unknown => {
    if (v.signature !== sig) throw new WireError(`header field ${code} has signature "${v.signature}", not "${sig}"`);
    return v.value;
  };
  for (const [code, v] of fields) {
    switch (code) {
      case FIELD.path: msg.path = want(v, 'o', code) as string; break;
      case FIELD.interface: msg.interface = want(v, 's', code) as string; break;
      case FIELD.member: msg.member = want(v, 's', code) as string; break;
      case FIELD.errorName: msg.errorName = want(v, 's', code) as string; break;
      case FIELD.replySerial: msg.replySerial = want(v, 'u', code) as number; break;
      case FIELD.destination: msg.destination = want(v, 's', code) as string; break;
      case FIELD.sender: msg.sender = want(v, 's', code) as string; break;
      case FIELD.signature: msg.signature = want(v, 'g', code) as string; break;
      case FIELD.unixFds: throw new WireError('file descriptors were not negotiated');
      default: break; // unknown fields must be ignored
    }
  }
  if ((type === MessageType.methodReturn || type === MessageType.error) && msg.replySerial === undefined) {
    throw new WireError('a reply without a reply serial');
  }
  if (type === MessageType.error && msg.errorName === undefined) throw new WireError('an error without an error name');
  const bodyStart = pad8(headEnd);
  const body = new Reader(buf, bodyStart, total, little);
  const types = parseSignature(msg.signature);
  msg.body = types.map((t) => body.read(t));
  if (body.pos !== total) throw new WireError('the body is longer than its signature says');
  return msg;
}
