// The native PulseAudio client's pure parts: pactl's volume arithmetic
// (checked against a real pactl and PulseAudio), the balance-keeping scale
// (properties over random volumes), the tagstruct and frame codecs with
// malformed input, and where the server and the cookie are looked for.
import t from 'tap';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { startPulse, pulseChannels } from './helpers/pulse.js';
import { tempDir } from './helpers/proc.js';
import { percentOf, rawOf, levelOf, scaleKeepingBalance, VOLUME_NORM } from '../dist/core/volume/pulse/volume-math.js';
import { TagReader, TagWriter } from '../dist/core/volume/pulse/tagstruct.js';
import { encodeFrame, FrameDecoder, MAX_FRAME } from '../dist/core/volume/pulse/frame.js';
import { pulseAddress, pulseCookie } from '../dist/core/volume/pulse/address.js';

t.test("volume arithmetic is pactl's, checked against pactl", async (t) => {
  const pa = await startPulse(t);
  const bad = [];
  for (let level = 0; level <= 150; level++) {
    pa.pactl('set-sink-volume', '@DEFAULT_SINK@', `${level}%`);
    const [ch] = pulseChannels(pa);
    if (ch.raw !== rawOf(level) || ch.percent !== percentOf(ch.raw) || levelOf([ch.raw, ch.raw]) !== level) bad.push({ level, ...ch, ours: rawOf(level) });
  }
  t.same(bad, [], 'N% sets what pactl sets and reads back as N, for 0–150');
  fc.assert(fc.property(fc.integer({ min: 0, max: 3 * VOLUME_NORM }), (raw) => {
    pa.pactl('set-sink-volume', '@DEFAULT_SINK@', String(raw));
    const [ch] = pulseChannels(pa);
    return ch.raw === raw && ch.percent === percentOf(raw);
  }), { numRuns: 60 });
  t.pass('a raw volume prints as percentOf says (60 random raw values)');
});

t.test('scaleKeepingBalance: the level read back is the level asked for, and the balance stays', async (t) => {
  const volumes = fc.array(fc.integer({ min: 0, max: 2 * VOLUME_NORM }), { minLength: 1, maxLength: 8 }).filter((v) => v.some((x) => x > 0));
  fc.assert(fc.property(volumes, fc.integer({ min: 0, max: 100 }), (values, level) => {
    const out = scaleKeepingBalance(values, level);
    if (levelOf(out) !== level) return false;
    if (values.every((v) => v === values[0])) return out.every((v) => v === rawOf(level));
    const avg = values.reduce((a, v) => a + v, 0) / values.length;
    return out.every((v, i) => (values[i] === 0 ? v === 0 : Math.abs(v - (values[i] * rawOf(level)) / avg) <= (2 * VOLUME_NORM) / 100 + 1));
  }), { numRuns: 2000 });
  t.pass('2,000 random sinks: level exact, each channel within two percent steps of its scaled value, silent channels silent');
  const out = scaleKeepingBalance([26214, 52428], 90);
  t.equal(levelOf(out), 90);
  t.ok(Math.abs(out[1] / out[0] - 2) < 0.02, `40%/80% → ${out.map(percentOf).join('%/')}%`);
  t.same(scaleKeepingBalance([0, 0], 30), [rawOf(30), rawOf(30)], 'all silent: every channel gets the level');
});

t.test('tagstruct: round trip and malformed input refused', async (t) => {
  const w = new TagWriter().u32(7).string('mediagate').string(null).bool(true).cvolume([1, 65536]).arbitrary(Buffer.from([1, 2, 3])).proplist({ 'application.name': 'x' });
  const r = new TagReader(w.toBuffer());
  t.equal(r.u32(), 7);
  t.equal(r.string(), 'mediagate');
  t.equal(r.string(), null);
  t.equal(r.bool(), true);
  t.same(r.cvolume(), [1, 65536]);
  t.same([...r.arbitrary()], [1, 2, 3]);
  t.same([...r.proplist()].map(([k, v]) => [k, v.toString()]), [['application.name', 'x\0']]);
  t.ok(r.eof, 'allowed: everything written is read back, to the end');
  const refuse = (bytes, read, what) => t.throws(() => read(new TagReader(Buffer.from(bytes))), { name: 'MalformedPacket' }, `denied: ${what}`);
  refuse([0x4c, 0, 0], (x) => x.u32(), 'a truncated u32');
  refuse([0x74, 0x61, 0x62], (x) => x.string(), 'an unterminated string');
  refuse([0x42, 1], (x) => x.u32(), 'a u8 where a u32 belongs');
  refuse([0x76, 33, ...Array(33 * 4).fill(0)], (x) => x.cvolume(), 'a volume of 33 channels');
  refuse([0x78, 0xff, 0xff, 0xff, 0xff, 1], (x) => x.arbitrary(), 'an arbitrary longer than the packet');
  refuse([0x50, 0x74, 0x6b, 0, 0x4c, 0, 0, 0, 9, 0x78, 0, 0, 0, 1, 0], (x) => x.proplist(), 'a property whose lengths disagree');
  refuse([], (x) => x.bool(), 'nothing where a boolean belongs');
  t.throws(() => new TagWriter().cvolume([]), { name: 'RangeError' }, 'a volume of no channels is not written');
});

t.test('frames: split or joined, other channels skipped, oversize refused', async (t) => {
  const a = encodeFrame(Buffer.from('first'));
  const b = encodeFrame(Buffer.from('second'));
  const audio = Buffer.concat([Buffer.from([0, 0, 0, 2, 0, 0, 0, 1]), Buffer.alloc(12), Buffer.from('zz')]);
  const all = Buffer.concat([a, audio, b]);
  const d = new FrameDecoder();
  const got = [];
  for (let i = 0; i < all.length; i += 3) got.push(...d.push(all.subarray(i, i + 3)));
  t.same(got.map(String), ['first', 'second'], 'allowed: byte by byte, audio frames skipped');
  const big = Buffer.alloc(20);
  big.writeUInt32BE(MAX_FRAME + 1, 0);
  t.throws(() => new FrameDecoder().push(big), { name: 'MalformedPacket' }, 'denied: a frame over the limit, before it is buffered');
  t.throws(() => new FrameDecoder().push(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')), { name: 'MalformedPacket' }, 'denied: text');
});

t.test('where the server is: PULSE_SERVER (unix forms, lists, TCP, machine ids), else XDG_RUNTIME_DIR', async (t) => {
  const id = (() => { try { return readFileSync('/etc/machine-id', 'utf8').trim(); } catch { return 'none'; } })();
  const cases = [
    [{ XDG_RUNTIME_DIR: '/run/user/7' }, { kind: 'unix', paths: ['/run/user/7/pulse/native'] }],
    [{ PULSE_SERVER: 'unix:/tmp/a/native', XDG_RUNTIME_DIR: '/x' }, { kind: 'unix', paths: ['/tmp/a/native'] }],
    [{ PULSE_SERVER: '/tmp/b/native' }, { kind: 'unix', paths: ['/tmp/b/native'] }],
    [{ PULSE_SERVER: 'unix:/a unix:/b tcp:host:4713' }, { kind: 'unix', paths: ['/a', '/b'] }],
    [{ PULSE_SERVER: 'tcp:host:4713 unix:/a' }, { kind: 'other' }],
    [{ PULSE_SERVER: 'livingroom.local' }, { kind: 'other' }],
    [{ PULSE_SERVER: `{not-this-machine}unix:/a {${id}}unix:/b` }, { kind: 'unix', paths: ['/b'] }],
    [{}, { kind: 'other' }],
  ];
  for (const [env, want] of cases) t.match(pulseAddress(env), want, JSON.stringify(env));
});

t.test('the cookie: PULSE_COOKIE, the config file, else zeros; bad files named, never shown', async (t) => {
  const dir = tempDir(t, 'mg-cookie-');
  const good = Buffer.alloc(256, 7);
  writeFileSync(join(dir, 'c'), good);
  t.same(pulseCookie({ PULSE_COOKIE: join(dir, 'c'), HOME: '/nonexistent' }), good, 'allowed: PULSE_COOKIE');
  writeFileSync(join(dir, 'home-cookie'), Buffer.alloc(256, 9));
  const home = join(dir, 'home');
  (await import('node:fs')).mkdirSync(join(home, '.config', 'pulse'), { recursive: true });
  writeFileSync(join(home, '.config', 'pulse', 'cookie'), Buffer.alloc(256, 9));
  t.same(pulseCookie({ HOME: home }), Buffer.alloc(256, 9), 'allowed: ~/.config/pulse/cookie');
  t.same(pulseCookie({ HOME: join(dir, 'nobody') }), Buffer.alloc(256), 'no cookie anywhere: zeros');
  const short = Buffer.from('secret-cookie-content');
  writeFileSync(join(dir, 'short'), short);
  const e = (() => { try { pulseCookie({ PULSE_COOKIE: join(dir, 'short') }); } catch (x) { return x; } })();
  t.match(e, { code: 'volume.cookie_invalid', exitCode: 3 }, 'denied: a cookie file of the wrong size');
  t.notMatch(`${e.message} ${e.hint}`, /secret-cookie-content/, 'its content is not in the error');
  t.throws(() => pulseCookie({ PULSE_COOKIE: join(dir, 'missing') }), { code: 'volume.cookie_unreadable' }, 'denied: a PULSE_COOKIE that is not there');
});
