// A generated fuzz of MQTT commands against a real serve (with MPD) through a
// real Mosquitto: random JSON, wrong types, huge numbers, binary, empty and
// oversized payloads, plain words, unknown players, random retain flags —
// MEDIAGATE_MQTT_FUZZ_N of them (default 5000), fast-check with a fixed seed
// (MEDIAGATE_ADV_SEED to change it). Every payload gets exactly one outcome:
// a refusal on the error topic, or a command that ran (audited ok); serve
// never crashes or stops answering; `audit verify` passes afterwards.
import t from 'tap';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { runCli } from './helpers/cli.js';
import { api, auditEvents } from './helpers/serve.js';
import { bridgeConnected, startStack } from './helpers/mqtt-stack.js';

t.setTimeout(600000);

const N = Number(process.env.MEDIAGATE_MQTT_FUZZ_N ?? 5000);
const SEED = Number(process.env.MEDIAGATE_ADV_SEED ?? 20260312);

const WORDS = ['play', 'pause', 'toggle', 'stop', 'next', 'previous', 'prev', 'seek', 'shuffle', 'repeat', 'PLAY', 'ON', 'OFF', 'TOGGLE', 'mpd', 'token.create', 'config.set', 'audit'];
const payload = fc.oneof(
  // Well-formed commands (some valid only on some topics), so that commands also run.
  fc.constantFrom('play', 'pause', 'toggle', 'stop', 'seek +1', 'seek 0', '40', '+5', '-5', 'ON', 'OFF', 'TOGGLE', 'mpd', '{"action":"play","id":"f1"}').map((w) => Buffer.from(w)),
  fc.json().map((s) => Buffer.from(s)),
  fc.record({ action: fc.oneof(fc.constantFrom(...WORDS), fc.string(), fc.integer(), fc.constant(null)), value: fc.oneof(fc.anything(), fc.double(), fc.bigInt().map(String), fc.constantFrom('+10', '-10', '50%', '1:30', '1e309', 'NaN')), id: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 80 })) }, { requiredKeys: ['action'] })
    .map((o) => Buffer.from(JSON.stringify(o, (_, v) => (typeof v === 'bigint' ? String(v) : v)) ?? 'null')),
  fc.tuple(fc.constantFrom(...WORDS), fc.oneof(fc.constant(''), fc.string({ maxLength: 12 }), fc.integer().map(String))).map(([w, v]) => Buffer.from(v ? `${w} ${v}` : w)),
  fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double(), fc.constantFrom(1e308, -1e308, 2 ** 53, 0.5)).map((n) => Buffer.from(String(n))),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.constant(Buffer.alloc(0)),
  fc.integer({ min: 4090, max: 9000 }).map((n) => Buffer.alloc(n, 0x61)),
);
const topic = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('player/mpd/set', 'active/set', 'volume/set', 'mute/set', 'active/player/set') },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9_-]{1,10}$/).map((id) => `player/${id}/set`) },
);
const message = fc.record({ topic, payload, retain: fc.integer({ min: 0, max: 9 }).map((n) => n < 2) });

t.test(`${N} generated MQTT commands: one outcome each, no crash, audit verify passes`, async (t) => {
  const s = await startStack(t, { mpd: true });
  await bridgeConnected(s.srv);
  s.mpd.mpc('-q', 'play');
  const errors = [];
  const watcher = await s.watch([s.topic('error')]);
  const sender = await mqtt.connectAsync(s.mq.url, { protocolVersion: 5, clientId: 'fuzzer' });
  t.teardown(() => sender.end(true));
  const cases = fc.sample(message, { numRuns: N, seed: SEED });
  t.comment(`seed ${SEED}, ${cases.length} payloads`);
  const counts = async () => (await api(s.srv, 'GET', '/api/mqtt', { token: s.srv.adminToken })).json.commandCounts;
  const settle = async (want, ms = 120000) => {
    const end = Date.now() + ms;
    let c;
    while (Date.now() < end) {
      c = await counts();
      if (c.refused + c.ran + c.failed >= want) return c;
      await new Promise((r) => setTimeout(r, 100));
    }
    return c;
  };
  const start = performance.now();
  let sent = 0;
  for (const c of cases) {
    await sender.publishAsync(s.topic(c.topic), c.payload, { qos: 1, retain: c.retain });
    // In batches: the broker drops what a slow subscriber does not take (max_queued_messages), so never run far ahead.
    if (++sent % 100 === 0) await settle(sent - 20);
  }
  // Retained payloads stay on the broker: take them off again (each arrives as one more retained command, refused).
  const retainedTopics = new Set(cases.filter((c) => c.retain).map((c) => c.topic));
  for (const tp of retainedTopics) await sender.publishAsync(s.topic(tp), '', { qos: 1, retain: true });
  const total = N + retainedTopics.size;
  const final = await settle(total);
  await watcher.next(() => watcher.count >= final.refused + final.failed, 20000, 'every refusal on the error topic').catch(() => {});
  const ok = (await auditEvents(s.env, ['--actor', 'mqtt:anonymous', '--outcome', 'ok'])).length;
  t.comment(`counts ${JSON.stringify(final)}; ${ok} audited ok`);
  t.equal(final.received, total, 'the bridge received every payload');
  t.equal(final.refused + final.ran + final.failed, total, 'each got exactly one outcome');
  t.equal(ok, final.ran, 'every command that ran is audited ok');
  for (const m of watcher.messages) errors.push(JSON.parse(m.text));
  t.comment(`${N} payloads in ${((performance.now() - start) / 1000).toFixed(1)} s: ${errors.length} refusals on the error topic, ${ok} ran`);
  t.equal(errors.length, final.refused + final.failed, 'every refusal (and every failed run) is on the error topic');
  t.ok(errors.every((e) => typeof e.code === 'string' && typeof e.message === 'string' && typeof e.topic === 'string'), 'every refusal has a code, a message and the topic');
  t.notOk(errors.some((e) => /\/tmp\/|\/root\/|\/home\/|at .*\.js:\d+/.test(e.message)), 'no path or stack in a refusal');
  const codes = {};
  for (const e of errors) codes[e.code] = (codes[e.code] ?? 0) + 1;
  t.comment(`refusals by code: ${JSON.stringify(codes)}`);
  t.ok(codes['request.retained'] > 0 && codes['request.too_large'] > 0 && codes['request.invalid_encoding'] > 0, 'the generator reached the retained, oversized and binary cases');
  t.equal((await api(s.srv, 'GET', '/api/health')).status, 200, 'serve still answers');
  s.mpd.mpc('-q', 'play');
  const r = await runCli(['audit', 'verify', '--json'], { env: s.env });
  t.equal(r.code, 0, `audit verify passes: ${r.stdout}`);
  t.equal((await s.srv.stop()).code, 0, 'serve stops cleanly');
});
