#!/usr/bin/env node
// Token resolution cost with 10,000 tokens stored against 1 token stored,
// measured in the same process, interleaved: each round times one batch on
// each store (alternating which goes first), the ratio is taken per round,
// and the figure is the median of the rounds' ratios. Same access pattern on
// both stores: one valid token resolved over and over (what the number of
// stored tokens can change is the lookup, not the hashing). A second figure,
// "spread", resolves a different one of the 10,000 tokens each call (after
// every token has been seen once, so the once-a-minute lastSeenAt
// bookkeeping is in its steady state) against the 1-token store.
// Also reported: the stat check on every call, and a reload of the
// 10,000-token file after another process changed it.
// Run after a build: node bench/resolve-token.js [--no-write]
// Writes bench/results.json key "resolveToken" (other keys kept).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { TokenStore, hashSecret } from '../dist/core/tokens.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS_TOKENS ?? 41);
const PER_BATCH = 20_000;

function makeStore(n) {
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-tok-'));
  const tokens = [];
  const records = [];
  const now = new Date().toISOString();
  for (let i = 0; i < n; i++) {
    const token = `mg_${randomBytes(32).toString('base64url')}`;
    tokens.push(token);
    records.push({ id: `tok_${i.toString(32).padStart(8, '0')}`, label: `t${i}`, scope: 'read', hash: hashSecret(token), createdAt: now, expiresAt: null, lastSeenAt: null });
  }
  const path = join(dir, 'tokens.json');
  writeFileSync(path, JSON.stringify({ version: 1, tokens: records }), { mode: 0o600 });
  // Long stat interval: measure the lookup itself; the stat check is measured separately.
  const store = new TokenStore({ path, env: { MEDIAGATE_STATE_DIR: dir }, checkIntervalMs: 60_000 });
  return { dir, path, tokens, store };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** ns per call of one batch. */
function batch(fn, n = PER_BATCH) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / n;
}

const one = makeStore(1);
const many = makeStore(10_000);
const hot1 = one.tokens[0];
const hotN = many.tokens[4321];
const check = (r) => { if (!r.ok) throw new Error(`resolution failed: ${r.reason}`); };
check(one.store.resolveToken(hot1));
check(many.store.resolveToken(hotN));
for (const t of many.tokens) check(many.store.resolveToken(t)); // every token seen once

const subjects = {
  one: () => one.store.resolveToken(hot1),
  manySame: () => many.store.resolveToken(hotN),
  manySpread: (i) => many.store.resolveToken(many.tokens[(i * 7919) % many.tokens.length]),
};
for (const fn of Object.values(subjects)) batch(fn, 50_000); // warm up (JIT)

const rows = [];
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 ? ['manySpread', 'manySame', 'one'] : ['one', 'manySame', 'manySpread'];
  const ns = {};
  for (const k of order) ns[k] = batch(subjects[k]);
  rows.push(ns);
}
const unknown = `mg_${randomBytes(32).toString('base64url')}`;
const unknownNs = { one: median(Array.from({ length: 9 }, () => batch(() => one.store.resolveToken(unknown)))), many: median(Array.from({ length: 9 }, () => batch(() => many.store.resolveToken(unknown)))) };

// The stat check on every call, and a reload after an external change (10,000 tokens).
const statStore = new TokenStore({ path: many.path, env: { MEDIAGATE_STATE_DIR: many.dir }, checkIntervalMs: 0 });
check(statStore.resolveToken(hotN));
const statNs = median(Array.from({ length: 9 }, () => batch(() => statStore.resolveToken(hotN), 2000)));
const reloads = [];
for (let i = 0; i < 15; i++) {
  writeFileSync(many.path, `${JSON.stringify({ version: 1, tokens: JSON.parse(readFileSync(many.path, 'utf8')).tokens })}\n`, { mode: 0o600 });
  const t0 = process.hrtime.bigint();
  check(statStore.resolveToken(hotN));
  reloads.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
for (const s of [one.store, many.store, statStore]) await s.flush();
for (const d of [one.dir, many.dir]) rmSync(d, { recursive: true, force: true });

const r2 = (x) => Math.round(x * 100) / 100;
const result = {
  when: new Date().toISOString(),
  node: process.version,
  rounds: ROUNDS,
  callsPerBatch: PER_BATCH,
  note: 'ns per resolveToken call; ratio = 10,000 tokens stored / 1 token stored, per interleaved round, median of rounds; same token resolved repeatedly in both stores',
  oneNs: Math.round(median(rows.map((x) => x.one))),
  manyNs: Math.round(median(rows.map((x) => x.manySame))),
  ratio: r2(median(rows.map((x) => x.manySame / x.one))),
  spreadNs: Math.round(median(rows.map((x) => x.manySpread))),
  spreadRatio: r2(median(rows.map((x) => x.manySpread / x.one))),
  unknownNs: { one: Math.round(unknownNs.one), many: Math.round(unknownNs.many) },
  statEveryCallNs: Math.round(statNs),
  reloadMs: r2(median(reloads)),
  target: '≤ 1.2',
};

console.log('resolveToken, ns per call (median of interleaved rounds)');
console.log(`  1 token stored:                    ${result.oneNs}`);
console.log(`  10,000 stored, same token:         ${result.manyNs}  (ratio ${result.ratio})`);
console.log(`  10,000 stored, a different token:  ${result.spreadNs}  (ratio ${result.spreadRatio})`);
console.log(`  unknown token: 1 stored ${result.unknownNs.one}, 10,000 stored ${result.unknownNs.many}`);
console.log(`  stat check on every call (10,000): ${result.statEveryCallNs}; reload after an external change: ${result.reloadMs} ms`);
if (!process.argv.includes('--no-write')) {
  const path = join(ROOT, 'bench', 'results.json');
  const all = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  all.resolveToken = result;
  writeFileSync(path, `${JSON.stringify(all, null, 2)}\n`);
}
