#!/usr/bin/env node
// resolveToken cost with 1 vs 10,000 stored tokens (median of many timed
// batches), plus what a reload of the 10,000-token file costs after another
// process changed it. Run after a build: node bench/resolve-token.js
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TokenStore, hashSecret } from '../dist/core/tokens.js';

function makeStore(n) {
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-'));
  const tokens = [];
  const records = [];
  for (let i = 0; i < n; i++) {
    const token = `mg_${randomBytes(32).toString('base64url')}`;
    tokens.push(token);
    records.push({ id: `tok_${i.toString(32).padStart(8, '0')}`, label: `t${i}`, scope: 'read', hash: hashSecret(token), createdAt: new Date().toISOString(), expiresAt: null, lastSeenAt: null });
  }
  const path = join(dir, 'tokens.json');
  writeFileSync(path, JSON.stringify({ version: 1, tokens: records }), { mode: 0o600 });
  // Long stat interval: measure the lookup itself; the 250 ms stat check is measured separately.
  const store = new TokenStore({ path, env: { MEDIAGATE_STATE_DIR: dir }, checkIntervalMs: 60_000 });
  return { dir, path, tokens, store };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** ns per call: median over `batches` batches of `per` calls. */
function timeIt(fn, batches = 200, per = 500) {
  for (let i = 0; i < 2000; i++) fn(i); // warm up
  const samples = [];
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < per; i++) fn(b * per + i);
    samples.push(Number(process.hrtime.bigint() - t0) / per);
  }
  return median(samples);
}

const results = {};
for (const n of [1, 10_000]) {
  const { dir, tokens, store } = makeStore(n);
  store.resolveToken(tokens[0]); // first load
  const unknown = `mg_${randomBytes(32).toString('base64url')}`;
  results[n] = {
    valid: timeIt((i) => store.resolveToken(tokens[i % tokens.length])),
    unknown: timeIt(() => store.resolveToken(unknown)),
    malformed: timeIt(() => store.resolveToken('mgp_notatoken')),
  };
  await store.flush();
  rmSync(dir, { recursive: true, force: true });
}

// Reload after an external change, and the stat check alone.
const big = makeStore(10_000);
const reloadStore = new TokenStore({ path: big.path, env: { MEDIAGATE_STATE_DIR: big.dir }, checkIntervalMs: 0 });
reloadStore.resolveToken(big.tokens[0]);
const statOnly = timeIt(() => reloadStore.resolveToken(big.tokens[1]), 50, 200);
const reloads = [];
for (let i = 0; i < 20; i++) {
  writeFileSync(big.path, `${JSON.stringify({ version: 1, tokens: JSON.parse((await import('node:fs')).readFileSync(big.path, 'utf8')).tokens })}\n`, { mode: 0o600 });
  const t0 = process.hrtime.bigint();
  reloadStore.resolveToken(big.tokens[2]);
  reloads.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
await reloadStore.flush();
rmSync(big.dir, { recursive: true, force: true });

const fmt = (ns) => `${(ns / 1000).toFixed(2)} µs`;
console.log('resolveToken, median per call');
console.log(`  1 token:       valid ${fmt(results[1].valid)}, unknown ${fmt(results[1].unknown)}, malformed ${fmt(results[1].malformed)}`);
console.log(`  10,000 tokens: valid ${fmt(results[10000].valid)}, unknown ${fmt(results[10000].unknown)}, malformed ${fmt(results[10000].malformed)}`);
console.log(`  with a stat check on every call (10,000 tokens): ${fmt(statOnly)}`);
console.log(`  reload of the 10,000-token file after an external change: ${median(reloads).toFixed(1)} ms (median of ${reloads.length})`);
