// The report of the adversarial suite: each part records rows
// {part, check, tried, failures, figures} and prints them as a table at its
// end (t.comment, so the table is in the TAP output). When
// MEDIAGATE_ADV_REPORT_DIR is set (scripts/adversarial.js sets it), the rows
// are also written there as <part>.json, and the runner prints one table of
// every part once tap has finished.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIZE } from './size.js';

export class Report {
  constructor(t, part) {
    this.part = part;
    this.rows = [];
    this.t = t;
    t.teardown(() => this.print());
  }

  /** One line of the table. `failures` is a number; `figures` a short text. */
  row(check, tried, failures, figures = '') {
    this.rows.push({ part: this.part, check, tried, failures, figures: String(figures) });
  }

  print() {
    if (this.printed) return;
    this.printed = true;
    this.t.comment(`adversarial report (${SIZE.mode} size): ${this.part}\n${table(this.rows)}`);
    const dir = process.env.MEDIAGATE_ADV_REPORT_DIR;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${this.part.replace(/[^\w.-]+/g, '_')}.json`), `${JSON.stringify(this.rows, null, 1)}\n`);
    }
  }
}

/** Rows → a fixed-width text table. */
export function table(rows) {
  const head = ['part', 'check', 'tried', 'failures', 'figures'];
  const cells = rows.map((r) => [r.part, r.check, String(r.tried), String(r.failures), r.figures]);
  const width = head.map((h, i) => Math.min(i === 4 ? 200 : 60, Math.max(h.length, ...cells.map((c) => c[i].length))));
  const line = (c) => `| ${c.map((v, i) => (i === 4 ? v : v.padEnd(width[i]))).join(' | ')}`;
  return [line(head), `|${width.map((w, i) => '-'.repeat(i === 4 ? 9 : w + 2)).join('|')}`, ...cells.map(line)].join('\n');
}

/** Every row written to `dir` (the runner's final table). */
export function readReport(dir) {
  let names = [];
  try { names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort(); } catch { return []; }
  return names.flatMap((n) => { try { return JSON.parse(readFileSync(join(dir, n), 'utf8')); } catch { return []; } });
}
