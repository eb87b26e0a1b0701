import { CONTROL_CHANNEL } from './protocol.js';
import { MalformedPacket } from './tagstruct.js';

/** Every frame starts with five big-endian u32: length, channel, offset high, offset low, flags. */
export const DESCRIPTOR_SIZE = 20;
/**
 * The largest frame we accept. Replies to our commands are a few hundred
 * bytes (a sink info with many ports a few KiB); anything near this is not
 * a reply to us, and is refused rather than buffered.
 */
export const MAX_FRAME = 1 << 20;

/** One control packet (a tagstruct) in a frame of its own. */
export function encodeFrame(payload: Buffer): Buffer {
  const head = Buffer.alloc(DESCRIPTOR_SIZE);
  head.writeUInt32BE(payload.length, 0);
  head.writeUInt32BE(CONTROL_CHANNEL, 4);
  return Buffer.concat([head, payload]);
}

/**
 * Cuts the byte stream from the server into control packets. A frame on
 * another channel (audio data: we open no stream, so none should come) is
 * skipped; a frame longer than MAX_FRAME is malformed.
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private size = 0;

  /** Feed bytes; returns the complete packets' payloads, in order. Throws MalformedPacket. */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.size += chunk.length;
    const out: Buffer[] = [];
    while (this.size >= DESCRIPTOR_SIZE) {
      const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [buf];
      const length = buf.readUInt32BE(0);
      if (length > MAX_FRAME) throw new MalformedPacket(`frame of ${length} bytes`);
      if (buf.length < DESCRIPTOR_SIZE + length) break;
      const channel = buf.readUInt32BE(4);
      // Shared-memory release/revoke notices also use the control channel, flagged in the top byte; we never share memory.
      const shmFlags = buf.readUInt32BE(16) & 0xff000000;
      if (channel === CONTROL_CHANNEL && shmFlags === 0) out.push(buf.subarray(DESCRIPTOR_SIZE, DESCRIPTOR_SIZE + length));
      const rest = buf.subarray(DESCRIPTOR_SIZE + length);
      this.pending = rest.length ? [rest] : [];
      this.size = rest.length;
    }
    return out;
  }
}
