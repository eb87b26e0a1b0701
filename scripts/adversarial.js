#!/usr/bin/env node
// `npm run test:adversarial`: the adversarial suite (test/adversarial/) at
// full size (MEDIAGATE_ADVERSARIAL=full: 10-minute soak, 40,000 fuzz
// requests, …), then one report table of every part. Each part also prints
// its own table in the TAP output. Extra arguments go to tap.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readReport, table } from '../test/adversarial/lib/report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const reportDir = mkdtempSync(join(tmpdir(), 'mg-adv-report-'));
const env = { ...process.env, MEDIAGATE_ADVERSARIAL: process.env.MEDIAGATE_ADVERSARIAL ?? 'full', MEDIAGATE_ADV_REPORT_DIR: reportDir };
const started = Date.now();
const files = readdirSync(join(root, 'test', 'adversarial')).filter((n) => n.endsWith('.test.js')).map((n) => join('test', 'adversarial', n));
const r = spawnSync(join(root, 'node_modules', '.bin', 'tap'), ['--disable-coverage', '--timeout', '1500', ...process.argv.slice(2), ...files],
  { cwd: root, env, stdio: 'inherit' });
const rows = readReport(reportDir);
rmSync(reportDir, { recursive: true, force: true });
const failures = rows.reduce((n, x) => n + Number(x.failures || 0), 0);
const tried = rows.reduce((n, x) => n + Number(x.tried || 0), 0);
process.stdout.write(`\nAdversarial suite (${env.MEDIAGATE_ADVERSARIAL === 'full' ? 'full size' : 'CI size'}), ${Math.round((Date.now() - started) / 1000)} s: ${rows.length} checks, ${tried} cases tried, ${failures} failures\n${table(rows)}\n`);
process.exit(r.status ?? 1);
