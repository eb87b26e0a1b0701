// The small D-Bus wire client (src/core/dbus-wire/): its codec against
// hand-made bytes in both byte orders, refusals of malformed input, and its
// connection against a real dbus-daemon (answers compared with dbus-next's
// for the same call) and against a scripted socket for what a real bus does
// not do (refuse auth, announce an oversized message, send garbage, never answer).
import t from 'tap';
import { createServer } from 'node:net';
import { join } from 'node:path';
import dbus from 'dbus-next';
import { Reader, Variant, Writer } from '../dist/core/dbus-wire/codec.js';
import { parseSignature } from '../dist/core/dbus-wire/signature.js';
import { decodeMessage, encodeCall, frameLength, NO_AUTO_START } from '../dist/core/dbus-wire/message.js';
import { WireConnection } from '../dist/core/dbus-wire/connection.js';
import { AuthRejectedError, DbusReplyError, WireError } from '../dist/core/dbus-wire/errors.js';
import { MprisSource } from '../dist/core/players/mpris.js';
import { NoPlayerError, TimeoutError } from '../dist/core/errors.js';
import { startSessionBus, startFakePlayer } from './helpers/dbus.js';
import { tempDir } from './helpers/proc.js';

const type = (sig) => parseSignature(sig)[0];

/** Bytes written little-endian by Writer, read back by Reader. */
function roundTrip(sig, value) {
  const w = new Writer();
  w.write(type(sig), value);
  const buf = Buffer.from(w.bytes());
  const r = new Reader(buf, 0, buf.length, true);
  const out = r.read(type(sig));
  return { out, used: r.pos, size: buf.length };
}

/** A big-endian method return, built byte by byte (our writer only writes little-endian). */
function bigEndianReturn(replySerial, sig, bodyBytes) {
  const fields = [];
  const push = (...b) => fields.push(...b);
  const align = (n) => { while (fields.length % n) fields.push(0); };
  // fields start at offset 16, a multiple of 8, so aligning `fields` aligns the message
  align(8); push(5, 1, 0x75, 0); const u = Buffer.alloc(4); u.writeUInt32BE(replySerial); push(...u); // REPLY_SERIAL u
  align(8); push(8, 1, 0x67, 0, sig.length, ...Buffer.from(sig), 0); // SIGNATURE g
  const head = Buffer.alloc(16);
  head.write('B', 0, 'latin1'); head[1] = 2; head[2] = 0; head[3] = 1;
  head.writeUInt32BE(bodyBytes.length, 4); head.writeUInt32BE(9, 8); head.writeUInt32BE(fields.length, 12);
  const padded = [...fields]; while ((16 + padded.length) % 8) padded.push(0);
  return Buffer.concat([head, Buffer.from(padded), bodyBytes]);
}

t.test('codec: the types MPRIS uses survive a round trip', async (t) => {
  t.same(roundTrip('s', 'héllo').out, 'héllo');
  t.same(roundTrip('o', '/org/mpris/MediaPlayer2').out, '/org/mpris/MediaPlayer2');
  t.same(roundTrip('g', 'a{sv}').out, 'a{sv}');
  t.equal(roundTrip('x', -5n).out, -5n, 'x is a bigint, as dbus-next gives it');
  t.equal(roundTrip('t', 2n ** 63n).out, 2n ** 63n);
  t.equal(roundTrip('d', 0.25).out, 0.25);
  t.equal(roundTrip('b', true).out, true);
  t.equal(roundTrip('i', -7).out, -7);
  t.equal(roundTrip('u', 4000000000).out, 4000000000);
  t.equal(roundTrip('n', -2).out, -2);
  t.equal(roundTrip('q', 65535).out, 65535);
  t.equal(roundTrip('y', 255).out, 255);
  t.same(roundTrip('as', ['a', 'bc', '']).out, ['a', 'bc', '']);
  t.same(roundTrip('as', []).out, []);
  t.same(roundTrip('ay', Buffer.from([1, 2, 3])).out, Buffer.from([1, 2, 3]));
  t.same(roundTrip('(ox)', ['/t/1', 9n]).out, ['/t/1', 9n]);
  const meta = { 'xesam:title': new Variant('s', 'T'), 'xesam:artist': new Variant('as', ['A', 'B']), 'mpris:length': new Variant('x', 1000000n),
    nested: new Variant('a{sv}', { deep: new Variant('v', new Variant('d', 1.5)) }), count: new Variant('u', 3), ok: new Variant('b', false) };
  const { out } = roundTrip('a{sv}', { Metadata: new Variant('a{sv}', meta), Volume: new Variant('d', 0.5) });
  t.type(out.Metadata, Variant, 'a variant is a Variant {signature, value}');
  t.equal(out.Metadata.signature, 'a{sv}');
  t.same(out.Metadata.value['xesam:artist'].value, ['A', 'B']);
  t.equal(out.Metadata.value['mpris:length'].value, 1000000n);
  t.equal(out.Metadata.value.nested.value.deep.value.value, 1.5, 'variants in variants');
  t.equal(out.Volume.value, 0.5);
  const proto = roundTrip('a{sv}', { ['__proto__']: new Variant('s', 'x') }).out;
  t.equal(Object.getPrototypeOf(proto), Object.prototype, 'a key named __proto__ does not set the prototype');
  t.equal(Object.keys(proto).length, 1);
});

t.test('codec: a big-endian reply decodes like a little-endian one', async (t) => {
  // body of signature a{sv}: {"Volume": <d 0.5>, "Position": <x 42>, "Rate": <i -1>, "Title": <s "BE">}
  const b = [];
  const al = (n) => { while (b.length % n) b.push(0); };
  const u32 = (v) => { al(4); const x = Buffer.alloc(4); x.writeUInt32BE(v); b.push(...x); };
  const str = (s) => { u32(Buffer.byteLength(s)); b.push(...Buffer.from(s), 0); };
  const sig = (s) => b.push(s.length, ...Buffer.from(s), 0);
  u32(0); const lenAt = b.length - 4; al(8); const start = b.length;
  al(8); str('Volume'); sig('d'); al(8); { const x = Buffer.alloc(8); x.writeDoubleBE(0.5); b.push(...x); }
  al(8); str('Position'); sig('x'); al(8); { const x = Buffer.alloc(8); x.writeBigInt64BE(42n); b.push(...x); }
  al(8); str('Rate'); sig('i'); al(4); { const x = Buffer.alloc(4); x.writeInt32BE(-1); b.push(...x); }
  al(8); str('Title'); sig('s'); str('BE');
  const body = Buffer.from(b); body.writeUInt32BE(body.length - start, lenAt);
  const msg = decodeMessage(bigEndianReturn(7, 'a{sv}', body));
  t.equal(msg.type, 2);
  t.equal(msg.replySerial, 7);
  const d = msg.body[0];
  t.equal(d.Volume.value, 0.5);
  t.equal(d.Position.value, 42n);
  t.equal(d.Rate.value, -1);
  t.equal(d.Title.value, 'BE');
});

t.test('message: a method call carries its fields, body and NO_AUTO_START', async (t) => {
  const bytes = encodeCall({ destination: 'org.mpris.MediaPlayer2.mpv', path: '/org/mpris/MediaPlayer2', interface: 'org.freedesktop.DBus.Properties',
    member: 'Set', signature: 'ssv', body: ['org.mpris.MediaPlayer2.Player', 'Volume', new Variant('d', 0.3)], flags: NO_AUTO_START }, 5);
  t.equal(frameLength(bytes), bytes.length);
  const m = decodeMessage(bytes);
  t.match(m, { type: 1, flags: NO_AUTO_START, serial: 5, destination: 'org.mpris.MediaPlayer2.mpv', member: 'Set', signature: 'ssv' });
  t.equal(m.body[2].value, 0.3);
  t.throws(() => encodeCall({ path: '/', member: 'X', signature: 's', body: [] }, 1), WireError, 'body shorter than its signature: refused');
  t.throws(() => encodeCall({ path: '/', member: 'X', signature: 'u', body: [-1] }, 1), WireError, 'a value outside its type: refused');
  t.throws(() => encodeCall({ path: '/', member: 'X', signature: 's', body: ['a\0b'] }, 1), WireError, 'NUL in a string: refused');
});

t.test('denied: malformed input is refused with a WireError, never a crash', async (t) => {
  const good = encodeCall({ destination: 'd.e', path: '/p', member: 'M', signature: 'sa{sv}', body: ['x', { a: new Variant('u', 1) }] }, 3);
  t.throws(() => decodeMessage(good.subarray(0, good.length - 3)), WireError, 'truncated message');
  for (let cut = 16; cut < good.length; cut += 3) {
    t.throws(() => decodeMessage(good.subarray(0, cut)), WireError, `truncated at ${cut}`);
  }
  const badEndian = Buffer.from(good); badEndian[0] = 0x58;
  t.throws(() => frameLength(badEndian), /byte-order/, 'bad byte-order mark');
  const badVersion = Buffer.from(good); badVersion[3] = 2;
  t.throws(() => frameLength(badVersion), /version/, 'bad protocol version');
  const huge = Buffer.from(good); huge.writeUInt32LE(2 ** 28, 4);
  t.throws(() => frameLength(huge), /over the/, 'oversized body length: refused from the header alone');
  const hugeFields = Buffer.from(good); hugeFields.writeUInt32LE(2 ** 27, 12);
  t.throws(() => frameLength(hugeFields), /over the limit/, 'oversized header fields');
  t.throws(() => frameLength(good, 16), /over the 16-byte limit/, 'a lower limit is kept');
  // a body whose signature does not match its bytes
  const lying = Buffer.from(encodeCall({ path: '/p', member: 'M', signature: 'u', body: [1] }, 4));
  const sigAt = lying.indexOf(Buffer.from([8, 1, 0x67, 0, 1, 0x75]));
  lying[sigAt + 5] = 0x28; // 'u' → '(' : an unclosed struct
  t.throws(() => decodeMessage(lying), WireError, 'bad signature in the header');
  const boolBytes = Buffer.from(encodeCall({ path: '/p', member: 'M', signature: 'b', body: [true] }, 4));
  boolBytes[boolBytes.length - 4] = 2;
  t.throws(() => decodeMessage(boolBytes), /neither 0 nor 1/, 'a boolean that is 2');
  t.throws(() => parseSignature(`${'a'.repeat(40)}y`), /too deep/, 'arrays nested past 32');
  t.throws(() => parseSignature('a{vs}'), /basic type/, 'a dictionary keyed by a variant');
  t.throws(() => parseSignature('(si'), /unclosed/, 'an unclosed struct');
  t.throws(() => parseSignature('ss'.repeat(130)), /longer than 255/, 'a signature over 255 characters');
  // string without its NUL, array whose length overruns the message
  const s = new Writer(); s.write(type('s'), 'abc'); const sb = Buffer.from(s.bytes()); sb[sb.length - 1] = 0x41;
  t.throws(() => new Reader(sb, 0, sb.length, true).read(type('s')), /NUL-terminated/);
  const a = new Writer(); a.write(type('au'), [1, 2]); const ab = Buffer.from(a.bytes()); ab.writeUInt32LE(400, 0);
  t.throws(() => new Reader(ab, 0, ab.length, true).read(type('au')), /truncated/);
  const bigArr = Buffer.alloc(8); bigArr.writeUInt32LE(2 ** 26 + 1, 0);
  t.throws(() => new Reader(bigArr, 0, 8, true).read(type('ay')), /limit/, 'an array over 64 MiB');
  // a variant nesting itself past the limit
  const deep = []; for (let i = 0; i < 70; i++) deep.push(0x01, 0x76, 0x00); // "v" signature, 70 times
  const vb = Buffer.from([...deep, 0x01, 0x79, 0x00, 7]);
  t.throws(() => new Reader(vb, 0, vb.length, true).read(type('v')), /too deep/, 'variants nested past the limit');
});

/**
 * A scripted bus on a unix socket: `script(socket, messages)` decides what
 * to send; `auth` is the reply to AUTH ('OK', 'REJECTED', or null: silence).
 */
async function scriptedBus(t, { auth = 'OK', onMessage = () => {}, afterAuth } = {}) {
  const dir = tempDir(t, 'mg-wire-');
  const path = join(dir, 'bus');
  const seen = [];
  const sockets = new Set();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
    let authed = false;
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!authed) {
        const text = buf.toString('latin1');
        if (auth === null) return;
        if (text.includes('AUTH ') && text.includes('\r\n') && !text.includes('BEGIN\r\n')) {
          if (auth !== 'OK') { sock.write(`${auth} EXTERNAL\r\n`); buf = Buffer.alloc(0); return; }
          sock.write('OK 0123456789abcdef0123456789abcdef\r\n');
          if (afterAuth) afterAuth(sock);
        }
        const begin = text.indexOf('BEGIN\r\n');
        if (begin < 0) return;
        authed = true;
        buf = buf.subarray(begin + 7);
      }
      for (;;) {
        const n = frameLength(buf);
        if (n === undefined || buf.length < n) return;
        const m = decodeMessage(buf.subarray(0, n));
        buf = buf.subarray(n);
        seen.push(m);
        onMessage(sock, m);
      }
    });
  });
  await new Promise((r) => server.listen(path, r));
  t.teardown(() => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(r)); });
  return { path, seen, env: { DBUS_SESSION_BUS_ADDRESS: `unix:path=${path}` } };
}

/** A method return to `m` (little-endian), with a body of `sig`. */
function replyTo(m, sig = '', body = []) {
  const w = new Writer();
  w.u8(0x6c); w.u8(2); w.u8(0); w.u8(1); w.u32(0); w.u32(1000 + m.serial); w.u32(0);
  const start = w.pos;
  w.align(8); w.u8(5); w.u8(1); w.u8(0x75); w.u8(0); w.u32(m.serial);
  if (sig) w.field(8, 'g', sig);
  w.patchU32(12, w.pos - start);
  w.align(8);
  const bodyAt = w.pos;
  parseSignature(sig).forEach((ty, i) => w.write(ty, body[i]));
  w.patchU32(4, w.pos - bodyAt);
  return Buffer.from(w.bytes());
}

t.test('connection: a real dbus-daemon answers as dbus-next reads it', async (t) => {
  const bus = await startSessionBus(t);
  await startFakePlayer(t, bus, { name: 'wirefake', props: { Position: 123456789, Volume: 0.25 } });
  const { ready } = WireConnection.open({ kind: 'unix', path: bus.socket, abstract: false });
  const conn = await ready;
  t.teardown(() => conn.close());
  const names = (await conn.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'ListNames' })).body[0];
  t.ok(names.includes('org.mpris.MediaPlayer2.wirefake'), 'ListNames');
  t.match(conn.uniqueName, /^:1\.\d+$/, 'Hello gave a unique name');
  const getAll = { destination: 'org.mpris.MediaPlayer2.wirefake', path: '/org/mpris/MediaPlayer2', interface: 'org.freedesktop.DBus.Properties',
    member: 'GetAll', signature: 's', body: ['org.mpris.MediaPlayer2.Player'], flags: NO_AUTO_START };
  const [mine, theirs] = await Promise.all([conn.call(getAll), (async () => {
    const b = dbus.sessionBus({ busAddress: bus.address });
    t.teardown(() => b.disconnect());
    return b.call(new dbus.Message(getAll));
  })()]);
  const plain = (v) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x)));
  t.same(plain(mine.body), plain(theirs.body), 'the same values as dbus-next decodes');
  t.equal(mine.body[0].Position.value, 123456789n);
  const err = await conn.call({ ...getAll, destination: 'org.mpris.MediaPlayer2.absent' }).catch((e) => e);
  t.type(err, DbusReplyError, 'an ERROR reply');
  t.equal(err.name, 'DBusError');
  // dbus-daemon answers NameHasNoOwner only when the call asked not to be auto-started; without the flag it tries activation (ServiceUnknown).
  t.equal(err.type, 'org.freedesktop.DBus.Error.NameHasNoOwner', 'NO_AUTO_START reached the bus: no activation was tried');
  const without = await conn.call({ ...getAll, destination: 'org.mpris.MediaPlayer2.absent', flags: 0 }).catch((e) => e);
  t.equal(without.type, 'org.freedesktop.DBus.Error.ServiceUnknown', 'the same call without the flag: the bus tries to activate it');
});

t.test('MprisSource one-shot: every call is sent with NO_AUTO_START; a call never answered times out within the limit', async (t) => {
  const bus = await scriptedBus(t, {
    onMessage(sock, m) {
      if (m.member === 'Hello') sock.write(replyTo(m, 's', [':1.9']));
      else if (m.member === 'ListNames') sock.write(replyTo(m, 'as', [['org.freedesktop.DBus', 'org.mpris.MediaPlayer2.silent']]));
      // GetAll: never answered
    },
  });
  const src = new MprisSource({ env: bus.env, timeoutMs: 400, oneShot: true });
  t.teardown(() => src.close());
  const [player] = await src.list();
  t.equal(player.name, 'silent');
  const started = Date.now();
  const e = await player.state().catch((x) => x);
  t.type(e, TimeoutError, 'a player that never answers: TimeoutError');
  t.ok(Date.now() - started < 3000, 'within the backend time limit (generous bound)');
  const calls = bus.seen.filter((m) => m.type === 1);
  t.ok(calls.length >= 3, 'Hello, ListNames, GetAll went over the wire');
  t.ok(calls.filter((m) => m.member !== 'Hello').every((m) => (m.flags & NO_AUTO_START) !== 0), 'NO_AUTO_START on every call');
});

t.test('denied: a bus that accepts the socket but never answers AUTH → TimeoutError', async (t) => {
  const bus = await scriptedBus(t, { auth: null });
  const src = new MprisSource({ env: bus.env, timeoutMs: 300, oneShot: true });
  t.teardown(() => src.close());
  const e = await src.list().catch((x) => x);
  t.type(e, TimeoutError);
});

t.test('denied: EXTERNAL refused → AuthRejectedError from the wire client (one-shot falls back to dbus-next, also refused)', async (t) => {
  const bus = await scriptedBus(t, { auth: 'REJECTED' });
  const { ready } = WireConnection.open({ kind: 'unix', path: bus.path, abstract: false });
  await t.rejects(ready, AuthRejectedError);
  const src = new MprisSource({ env: bus.env, timeoutMs: 500, oneShot: true });
  t.teardown(() => src.close());
  const e = await src.list().catch((x) => x);
  t.type(e, Error, 'still refused after the fallback, with a clear error');
  t.ok(e instanceof NoPlayerError || e instanceof TimeoutError, `${e.name}: ${e.message}`);
});

t.test('denied: an oversized, a truncated or a garbage reply kills the connection and fails the pending call', async (t) => {
  for (const [what, bytes, endAfter] of [
    ['oversized length', (() => { const b = Buffer.alloc(16); b.write('l', 0, 'latin1'); b[1] = 2; b[3] = 1; b.writeUInt32LE(2 ** 28, 4); b.writeUInt32LE(1, 8); return b; })(), false],
    ['garbage', Buffer.from('this is not D-Bus at all, not at all!!'), false],
    ['truncated, then the bus hangs up', null, true],
  ]) {
    const bus = await scriptedBus(t, {
      onMessage(sock, m) {
        if (m.member === 'Hello') { sock.write(replyTo(m, 's', [':1.5'])); return; }
        if (bytes) sock.write(bytes);
        else { const r = replyTo(m, 'as', [['a', 'b', 'c']]); sock.write(r.subarray(0, r.length - 5)); }
        if (endAfter) setTimeout(() => sock.end(), 20);
      },
    });
    const src = new MprisSource({ env: bus.env, timeoutMs: 2000, oneShot: true });
    t.teardown(() => src.close());
    const started = Date.now();
    const e = await src.list().catch((x) => x);
    t.type(e, NoPlayerError, `${what}: NoPlayerError`);
    t.equal(e.code, 'mpris.bus_lost', `${what}: the connection is lost`);
    t.ok(Date.now() - started < 1500, `${what}: at once, not at the time limit`);
  }
});

t.test('connection: a large reply in many small pieces, and two replies in one piece', async (t) => {
  const names = Array.from({ length: 20000 }, (_, i) => `org.example.Name${i}`);
  let hello;
  const bus = await scriptedBus(t, {
    onMessage(sock, m) {
      if (m.member === 'Hello') { hello = m; return; } // answered together with the next reply
      if (m.member === 'ListNames') {
        const big = replyTo(m, 'as', [names]);
        sock.write(Buffer.concat([replyTo(hello, 's', [':1.7']), big.subarray(0, 10)]));
        for (let at = 10; at < big.length; at += 1000) sock.write(big.subarray(at, at + 1000));
      }
    },
  });
  const { ready } = WireConnection.open({ kind: 'unix', path: bus.path, abstract: false });
  const conn = await ready;
  t.teardown(() => conn.close());
  const reply = await conn.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'ListNames' });
  t.equal(reply.body[0].length, names.length, 'every name of a ~600 KB reply');
  t.equal(reply.body[0][19999], 'org.example.Name19999');
  t.equal(conn.uniqueName, ':1.7', 'the Hello reply that shared a piece with the next one');
});
