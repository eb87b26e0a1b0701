// The plain-JS SHA-256 the CLI hashes audit lines with (no node:crypto to load
// for one line) gives node:crypto's results: FIPS 180-4's examples, every
// padding boundary, random and non-ASCII text; a chain written with it
// verifies with node:crypto's hash, and an edited line still does not.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '../dist/core/sha256.js';
import { nativeSha256, sealRecord, GENESIS, parseLine } from '../dist/core/audit/record.js';
import { writeBatch } from '../dist/core/audit/writer.js';
import { verifyAudit } from '../dist/core/audit/verify.js';

const native = (s) => createHash('sha256').update(s, 'utf8').digest('hex');

t.test('known answers (FIPS 180-4 examples)', async (t) => {
  t.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  t.equal(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  t.equal(sha256Hex('a'.repeat(1_000_000)), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
});

t.test('the same as node:crypto: every padding boundary, random bytes, non-ASCII text', async (t) => {
  const texts = [];
  for (let n = 0; n <= 200; n++) texts.push('x'.repeat(n)); // 55/56/63/64/119/120… all crossed
  for (let i = 0; i < 2000; i++) texts.push(randomBytes(i % 400).toString('latin1'));
  texts.push('é€😀\u2028\u0000 mixed', '\ud83d'); // a lone surrogate: both encode it as U+FFFD
  t.same(texts.filter((s) => sha256Hex(s) !== native(s)).map((s) => s.length), [], `${texts.length} texts, no difference`);
  t.equal(sha256Hex('abc'), nativeSha256('abc'), 'the plain-JS hash and record.ts\'s node:crypto one agree');
});

t.test('a chain written with the JS hash (the CLI) verifies with node:crypto; an edited line does not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-sha-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const actor = { id: 'local:test', label: 'test' };
  const events = Array.from({ length: 20 }, (_, i) => ({ time: new Date(i * 1000).toISOString(), actor, action: 'volume.set', outcome: 'ok', detail: `+${i} é` }));
  await writeBatch(dir, events, { maxBytes: 1 << 20, fsync: false, lockTimeoutMs: 2000, now: () => new Date(), io: 'sync' });
  const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n');
  t.equal(lines.length, 20);
  t.ok(lines.every((l) => parseLine(l).selfOk), 'every line checks with node:crypto');
  const rec = sealRecord(events[0], 1, GENESIS, sha256Hex);
  t.equal(rec.hash, sealRecord(events[0], 1, GENESIS, nativeSha256).hash, 'sealRecord: the same hash either way');
  let r = await verifyAudit(dir);
  t.ok(r.ok, 'audit verify passes');
  writeFileSync(join(dir, 'audit.jsonl'), `${lines.map((l, i) => (i === 7 ? l.replace('"+7 é"', '"+70 é"') : l)).join('\n')}\n`);
  r = await verifyAudit(dir);
  t.notOk(r.ok, 'an edited line: verify fails');
  t.equal(r.kind, 'edited');
  t.equal(r.firstBadLine.seq ?? 8, 8, 'at the line edited');
});
