// DenialGate: every denial of a kind from one address is recorded, up to 30
// a window; beyond, they are counted and one summary with the exact count is
// written when the window ends (or the entry is evicted, or on flush); a
// global budget bounds floods from many addresses; memory stays bounded and
// an idle gate lets go of everything.
import t from 'tap';
import { DenialGate } from '../dist/server/audit-gate.js';

function gateWith(opts = {}) {
  const summaries = [];
  const clock = { now: 0 };
  const gate = new DenialGate({ windowMs: 60_000, now: () => clock.now, onSummary: (s) => summaries.push(s), ...opts });
  return { gate, summaries, clock };
}

t.test('normal scale: every denial recorded individually (20 → 20)', (t) => {
  const { gate, summaries } = gateWith();
  let recorded = 0;
  for (let i = 0; i < 20; i++) if (gate.check('1.2.3.4|auth.forbidden|x', { i }).record) recorded++;
  t.equal(recorded, 20);
  gate.clear();
  t.same(summaries, [], 'nothing counted, no summary');
  t.end();
});

t.test('past the budget: counted, one summary with the exact count when the window ends', (t) => {
  const { gate, summaries, clock } = gateWith();
  const key = '1.2.3.4|rate_limit.exceeded|anonymous';
  const d = [];
  for (let i = 0; i < 100; i++) d.push(gate.check(key, { first: i }).record);
  t.equal(d.filter(Boolean).length, 30, 'the first 30 recorded');
  t.ok(d.slice(0, 30).every(Boolean) && d.slice(30).every((x) => !x), 'in order');
  t.same(gate.check('5.6.7.8|rate_limit.exceeded|anonymous'), { record: true }, 'another address is not affected');
  t.equal(summaries.length, 0, 'no summary while the window lasts');
  clock.now = 60_001;
  t.equal(gate.prune(), 2, 'both windows ended');
  t.same(summaries, [{ context: { first: 30 }, count: 70, windowMs: 60_000 }], 'one summary: exact count, the context of the first counted one');
  t.same(gate.check(key), { record: true }, 'a new window records again');
  gate.clear();
  t.end();
});

t.test('the count is written when the same key comes back after its window, without a sweep', (t) => {
  const { gate, summaries, clock } = gateWith({ perKey: 2 });
  for (let i = 0; i < 5; i++) gate.check('k', 'ctx');
  clock.now = 70_000;
  t.same(gate.check('k', 'ctx'), { record: true });
  t.same(summaries, [{ context: 'ctx', count: 3, windowMs: 60_000 }]);
  gate.clear();
  t.end();
});

t.test('flush (shutdown) writes pending counts of open windows, once', (t) => {
  const { gate, summaries } = gateWith({ perKey: 1 });
  for (let i = 0; i < 4; i++) gate.check('a', 'A');
  gate.check('b', 'B');
  gate.flush();
  t.same(summaries, [{ context: 'A', count: 3, windowMs: 60_000 }]);
  gate.clear();
  t.equal(summaries.length, 1, 'not written twice');
  t.end();
});

t.test('global budget: a flood from many addresses is bounded too', (t) => {
  const { gate, summaries } = gateWith({ globalPerWindow: 100 });
  let recorded = 0;
  for (let i = 0; i < 1000; i++) if (gate.check(`10.0.${i >> 8}.${i & 255}|auth.missing_token|anonymous`, i).record) recorded++;
  t.equal(recorded, 100, 'at most the global budget recorded individually');
  gate.clear();
  t.equal(summaries.reduce((a, s) => a + s.count, 0), 900, 'every other one is in a count');
  t.end();
});

t.test('bounded: never more than maxKeys entries; an evicted entry\'s count is written', (t) => {
  const { gate, summaries, clock } = gateWith({ maxKeys: 1000, perKey: 1 });
  gate.check('first', 'F');
  gate.check('first', 'F'); // counted
  for (let i = 0; i < 20_000; i++) { gate.check(`10.0.${i >> 8}.${i & 255}|auth.missing_token|anonymous`); clock.now += 0.01; }
  t.equal(gate.size, 1000);
  t.same(summaries[0], { context: 'F', count: 1, windowMs: 60_000 }, 'the count of the evicted entry was not lost');
  gate.clear();
  t.end();
});

t.test('idle: entries past their window are dropped (counts written)', (t) => {
  const { gate, summaries, clock } = gateWith({ perKey: 1 });
  for (let i = 0; i < 500; i++) gate.check(`10.0.${i >> 8}.${i & 255}|auth.missing_token|anonymous`);
  gate.check('10.0.0.1|auth.missing_token|anonymous', 'X'); // counted
  clock.now = 59_000;
  t.equal(gate.prune(), 0, 'nothing dropped inside the window');
  clock.now = 60_001;
  t.equal(gate.prune(), 500, 'every entry dropped after the window');
  t.equal(gate.size, 0);
  t.same(summaries, [{ context: 'X', count: 1, windowMs: 60_000 }], 'and the count written');
  gate.clear();
  t.end();
});

t.test('the sweep runs by itself (unref\'d timer) once the window has passed and writes the counts', async (t) => {
  const summaries = [];
  const gate = new DenialGate({ windowMs: 50, perKey: 1, onSummary: (s) => summaries.push(s) });
  for (let i = 0; i < 100; i++) gate.check(`10.1.0.${i}|auth.forbidden|x`);
  gate.check('10.1.0.1|auth.forbidden|x', 'c');
  t.equal(gate.size, 100);
  await new Promise((r) => setTimeout(r, 1300));
  t.equal(gate.size, 0, 'emptied without any further request');
  t.same(summaries, [{ context: 'c', count: 1, windowMs: 50 }]);
  gate.clear();
});
