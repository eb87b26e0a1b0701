// Count tap's results from the saved TAP streams (.tap/test-results/**/*.tap):
// every assertion is a line "ok N" / "not ok N" without "# time=" (those close
// subtests). A failed run with no failed assertion (a crash, a coverage gate)
// still counts as one failure. SKIP and TODO lines count as neither; they are
// reported on the line before the last.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [dir = '.tap/test-results', rcText = '0'] = process.argv.slice(2);
const files = [];
const walk = (d) => {
  let names = [];
  try { names = readdirSync(d); } catch { return; }
  for (const n of names) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p); else if (n.endsWith('.tap')) files.push(p);
  }
};
walk(dir);
let passed = 0, failed = 0, skipped = 0, todo = 0;
for (const f of files) {
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const m = /^\s*(not ok|ok) \d+(.*)$/.exec(line);
    if (!m || /# time=/.test(m[2])) continue;
    if (/#\s*SKIP/i.test(m[2])) skipped++;
    else if (/#\s*TODO/i.test(m[2])) todo++;
    else if (m[1] === 'ok') passed++;
    else failed++;
  }
}
if (Number(rcText) !== 0 && failed === 0) failed = 1;
// Skips and todos on a line of their own: the closing line is exactly "N passed, N failed".
if (skipped || todo) console.log(`${skipped} skipped, ${todo} todo`);
console.log(`${passed} passed, ${failed} failed`);
