import t from 'tap';
import { parseDuration, formatDuration } from '../dist/core/duration.js';

const H = 3_600_000;
const D = 24 * H;

t.test('allowed forms', async (t) => {
  t.equal(parseDuration('30d'), 30 * D);
  t.equal(parseDuration('12h'), 12 * H);
  t.equal(parseDuration('90m'), 90 * 60_000);
  t.equal(parseDuration('1w'), 7 * D);
  t.equal(parseDuration('45s'), 45_000);
  t.equal(parseDuration('1h30m'), 90 * 60_000);
  t.equal(parseDuration(' 2D '), 2 * D, 'case and surrounding space are ignored');
  t.equal(parseDuration('never', { allowNever: true }), null);
  t.equal(parseDuration('NEVER', { allowNever: true }), null);
});

t.test('denied forms', async (t) => {
  for (const bad of ['', '30', 'd', '1y', '1.5d', '-1d', '0d', '0s', '30 d', '1d1d', 'never ', 'abc', '1h-30m', '9999999d']) {
    t.throws(() => parseDuration(bad), { exitCode: 2, code: 'usage.invalid_duration' }, `'${bad}' refused`);
  }
  t.throws(() => parseDuration('never'), { exitCode: 2 }, 'never refused unless allowed');
  t.throws(() => parseDuration('31d', { maxMs: 30 * D }), /at most 30d/, 'over the maximum');
  t.throws(() => parseDuration('30s', { minMs: 60_000 }), /at least 1m/, 'under the minimum');
  t.throws(() => parseDuration('bogus', { what: '--expires', allowNever: true }), /--expires.*\n?/, 'error names the flag');
});

t.test('formatDuration', async (t) => {
  t.equal(formatDuration(90 * 60_000), '1h30m');
  t.equal(formatDuration(2 * D), '2d');
  t.equal(formatDuration(0), '0s');
});
