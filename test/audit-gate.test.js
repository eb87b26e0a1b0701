// DenialGate: a denial kind from one address is recorded once per window,
// the rest counted and reported with the next one; memory stays bounded and
// an idle gate lets go of what carries no information.
import t from 'tap';
import { DenialGate } from '../dist/server/audit-gate.js';

t.test('first denial recorded, repeats in the window counted, reported with the next window', (t) => {
  let now = 0;
  const gate = new DenialGate(60_000, 100, () => now);
  t.same(gate.check('1.2.3.4|auth.forbidden|x'), { record: true, suppressed: 0 }, 'first: recorded');
  t.same(gate.check('1.2.3.4|auth.forbidden|x'), { record: false, suppressed: 0 }, 'repeat in the window: not recorded');
  gate.check('1.2.3.4|auth.forbidden|x');
  t.same(gate.check('5.6.7.8|auth.forbidden|x'), { record: true, suppressed: 0 }, 'another address is not affected');
  now = 60_001;
  t.same(gate.check('1.2.3.4|auth.forbidden|x'), { record: true, suppressed: 2 }, 'after the window: recorded with the count');
  gate.clear();
  t.end();
});

t.test('bounded: never more than maxKeys entries under a flood of distinct addresses', (t) => {
  let now = 0;
  const gate = new DenialGate(60_000, 1000, () => now);
  for (let i = 0; i < 20_000; i++) { gate.check(`10.0.${i >> 8}.${i & 255}|auth.missing_token|anonymous`); now += 0.01; }
  t.equal(gate.size, 1000);
  gate.clear();
  t.end();
});

t.test('idle: entries past their window with nothing counted are dropped, counted ones kept', (t) => {
  let now = 0;
  const gate = new DenialGate(60_000, 10_000, () => now);
  for (let i = 0; i < 500; i++) gate.check(`10.0.${i >> 8}.${i & 255}|auth.missing_token|anonymous`);
  gate.check('10.0.0.1|auth.missing_token|anonymous'); // counted: one suppressed
  now = 59_000;
  t.equal(gate.prune(), 0, 'nothing dropped inside the window');
  now = 60_001;
  t.equal(gate.prune(), 499, 'every entry without a count dropped after the window');
  t.equal(gate.size, 1, 'the entry holding a count is kept');
  t.same(gate.check('10.0.0.1|auth.missing_token|anonymous'), { record: true, suppressed: 1 }, 'and its count is still reported');
  gate.clear();
  t.end();
});

t.test('the sweep runs by itself (unref\'d timer) once the window has passed', async (t) => {
  const gate = new DenialGate(50);
  for (let i = 0; i < 100; i++) gate.check(`10.1.0.${i}|auth.forbidden|x`);
  t.equal(gate.size, 100);
  await new Promise((r) => setTimeout(r, 1300));
  t.equal(gate.size, 0, 'emptied without any further request');
  gate.clear();
});
