// WebSocket fuzzing of a real `mediagate serve` (real MPD behind it):
// generated messages (fast-check, fixed seed) — invalid JSON, binary, wrong
// types, unknown fields, huge numbers, bad ids — over many sockets, each
// message with a unique id answered exactly once; then protocol-level
// attacks over raw sockets (oversized, invalid UTF-8, unmasked, reserved
// bits and opcodes, lying lengths, bad close frames), a message flood, a
// ping flood and connection churn. Holds when every answer is well-formed,
// each attack ends with the right close code (or not at all), the server
// stays up, and its descriptors and live heap come back.
import t from 'tap';
import fc from 'fast-check';
import WebSocket from 'ws';
import { startMpd } from '../helpers/mpd.js';
import { api, cliToken, serveEnv, startServe } from '../helpers/serve.js';
import { frame, rawWs } from './lib/ws-raw.js';
import { fmtTally, LEAKY, mb, pool, sleep, tally } from './lib/holds.js';
import { alive, fdCount, rssKb, settledFds, tcpConnectionsTo } from './lib/procfs.js';
import { INSPECT_OPTION, inspectorUrl, openInspector } from './lib/inspect.js';
import { Report } from './lib/report.js';
import { SEED, SIZE } from './lib/size.js';

t.setTimeout(15 * 60_000);
const report = new Report(t, 'ws-fuzz');

const num = fc.oneof(fc.integer({ min: -200, max: 200 }), fc.double(), fc.constantFrom(1e308, -1e308, 0.5, 150, -1, 86401, 9007199254740993, -0));
const val = fc.oneof(num, fc.string({ maxLength: 20 }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }));
const args = fc.oneof(
  fc.constant(undefined),
  fc.record({ level: num }, { requiredKeys: [] }),
  fc.record({ position: num, offset: num, percent: num, player: fc.oneof(fc.constantFrom('mpd', 'nope', '\u0000x', ' ', 'p'.repeat(300)), fc.string()) }, { requiredKeys: [] }),
  fc.record({ level: val, change: val, muted: val, toggleMute: val, target: fc.constantFrom('system', 'player', 'moon', 5) }, { requiredKeys: [] }),
  fc.dictionary(fc.string({ maxLength: 12 }), val, { maxKeys: 3 }),
  val,
);
const ACTIONS = ['play', 'pause', 'toggle', 'stop', 'next', 'previous', 'seek', 'volume'];
/** Plausible args for an action, each field sometimes of the wrong type or out of range. */
const plausibleArgs = fc.oneof(
  fc.constant(undefined),
  fc.record({ player: fc.constantFrom('mpd', 'nope') }),
  fc.record({ position: num }), fc.record({ offset: num }), fc.record({ percent: num }),
  fc.record({ level: fc.oneof(fc.integer({ min: 0, max: 100 }), num) }), fc.record({ change: fc.integer({ min: -20, max: 20 }) }),
  fc.record({ muted: fc.oneof(fc.boolean(), val) }), fc.record({ toggleMute: fc.constant(true) }),
  fc.record({ level: fc.integer({ min: 0, max: 100 }), target: fc.constantFrom('system', 'player', 'moon') }),
);
/** A message: a JSON object (mostly with the fuzzer's unique id, so its answer can be counted) or raw junk. */
const wsMessage = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('command'), action: fc.constantFrom(...ACTIONS), args: plausibleArgs, extra: fc.constant(null),
    idKind: fc.constantFrom('mine', 'mine', 'mine', 'mine', 'none') }).map((m) => ({ kind: 'object', ...m })) },
  { weight: 2, arbitrary: fc.record({ type: fc.constantFrom('subscribe', 'unsubscribe'), action: fc.constant(null), args: fc.constant(undefined), extra: fc.constant(null),
    idKind: fc.constantFrom('mine', 'mine', 'mine', 'number', 'none') }).map((m) => ({ kind: 'object', ...m })) },
  { weight: 4, arbitrary: fc.record({
    type: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('subscribe', 'unsubscribe', 'command') }, { weight: 1, arbitrary: fc.constantFrom('Subscribe', 'ping', '', '__proto__', 'constructor', 'command ') }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }),
    action: fc.option(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...ACTIONS) }, { weight: 1, arbitrary: fc.constantFrom('explode', 'constructor', '', 'PLAY') }, { weight: 1, arbitrary: val })),
    args,
    extra: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), val, { minKeys: 1, maxKeys: 2 }), { freq: 6 }),
    idKind: fc.constantFrom('mine', 'mine', 'mine', 'mine', 'mine', 'mine', 'none', 'number', 'huge', 'object', 'float'),
  }).map((m) => ({ kind: 'object', ...m })) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }).map((s) => ({ kind: 'text', s })) },
  { weight: 1, arbitrary: fc.constantFrom('[]', '1', '"subscribe"', 'null', 'true', '{', '{"type":"subscribe"', '{"type":"subscribe"}}', '', ' ', '\ufeff{"type":"subscribe"}', '{"type":"command","args":{"level":1e400}}').map((s) => ({ kind: 'text', s })) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => ({ kind: 'binary', b })) },
  { weight: 1, arbitrary: fc.constantFrom('deep', 'big').map((k) => ({ kind: k })) },
);

function encode(m, id) {
  switch (m.kind) {
    case 'text': return { data: m.s };
    case 'binary': return { data: Buffer.from(m.b), binary: true };
    case 'deep': return { data: `{"type":"command","id":"${id}","action":"volume","args":${'['.repeat(2000)}${']'.repeat(2000)}}`, id };
    case 'big': return { data: JSON.stringify({ type: 'subscribe', id, pad: 'x'.repeat(60_000) }), id };
    default: {
      const o = { type: m.type };
      if (m.action !== null) o.action = m.action;
      if (m.args !== undefined) o.args = m.args;
      if (m.extra) Object.assign(o, m.extra);
      let mine;
      switch (m.idKind) {
        case 'mine': o.id = mine = id; break;
        case 'number': o.id = 42; break;
        case 'huge': o.id = 'i'.repeat(500); break;
        case 'object': o.id = { a: 1 }; break;
        case 'float': o.id = 1.5; break;
      }
      return { data: JSON.stringify(o), id: mine && Object.keys(o).includes('id') && o.id === mine ? mine : undefined };
    }
  }
}

/** Problems with one server message. */
function checkServerMessage(msg) {
  const out = [];
  if (!msg || typeof msg !== 'object' || !['status', 'volume', 'result', 'error'].includes(msg.type)) out.push(`unexpected message ${JSON.stringify(msg).slice(0, 80)}`);
  if (msg?.type === 'error' && (typeof msg.code !== 'string' || typeof msg.message !== 'string')) out.push('error without code/message');
  if (msg?.type === 'error' && msg.code === 'server.internal') out.push(`server.internal: ${msg.message}`);
  if (LEAKY.test(JSON.stringify(msg))) out.push(`stack or path in ${JSON.stringify(msg).slice(0, 120)}`);
  return out;
}

function openWs(url, token, from) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false, localAddress: from });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

t.test(`WebSocket: ${SIZE.wsFrames} generated messages (seed ${SEED}), protocol attacks, floods`, async (t) => {
  const mpd = await startMpd(t);
  const e = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port), NODE_OPTIONS: INSPECT_OPTION }, { 'server.rateLimit.rps': 0, 'volume.backend': 'player' });
  const control = await cliToken(e.env, 'adv-ws-control', 'control');
  const read = await cliToken(e.env, 'adv-ws-read', 'read');
  const srv = await startServe(t, e.env);
  const wsUrl = `${srv.url.replace('http', 'ws')}/api/ws`;
  const inspector = await openInspector(inspectorUrl(srv.err()));
  t.teardown(() => inspector.close());

  // Warm-up: a few sockets through the normal paths.
  for (let i = 0; i < 20; i++) {
    const ws = await openWs(wsUrl, control.token, '127.0.7.1');
    ws.send(JSON.stringify({ type: 'subscribe', id: 'w' }));
    await new Promise((r) => ws.once('message', r));
    ws.close();
  }
  await sleep(500);
  const baseMem = await inspector.memoryAfterGc();
  const base = { fds: fdCount(srv.pid), mpd: tcpConnectionsTo(srv.pid, mpd.port), heap: baseMem.heapUsed, rss: rssKb(srv.pid) };
  t.comment(`after warm-up and a full GC: heap ${mb(base.heap / 1024)}, RSS ${mb(base.rss)}, ${base.fds} fds; seed ${SEED}`);

  // 1. Generated messages, 30 per socket (inside the burst of 40), each socket waiting for its answers.
  const msgs = fc.sample(wsMessage, { seed: SEED, numRuns: SIZE.wsFrames });
  const batches = [];
  for (let i = 0; i < msgs.length; i += 30) batches.push(msgs.slice(i, i + 30).map((m, k) => ({ m, n: i + k })));
  const answers = new Map(); // id → count
  const expected = new Set();
  const types = {};
  const codes = {};
  const problems = {};
  const examples = [];
  let closedEarly = 0;
  await pool(batches, 8, async (batch, b) => {
    const useRead = b % 5 === 4;
    const ws = await openWs(wsUrl, useRead ? read.token : control.token, `127.0.8.${1 + (b % 50)}`);
    let pendingIds = 0;
    let wake;
    ws.on('message', (data, isBinary) => {
      let msg;
      try { msg = JSON.parse(data.toString('utf8')); } catch { msg = { unparsable: true, isBinary }; }
      tally(types, msg.type ?? 'unparsable');
      if (msg.type === 'error') tally(codes, msg.code);
      for (const p of checkServerMessage(msg)) { tally(problems, p.replace(/:.*$/, '')); if (examples.length < 10) examples.push(p); }
      if ((msg.type === 'result' || msg.type === 'error') && typeof msg.id === 'string' && msg.id.startsWith('f')) {
        answers.set(msg.id, (answers.get(msg.id) ?? 0) + 1);
        if (expected.has(msg.id) && answers.get(msg.id) === 1) { pendingIds--; if (pendingIds === 0) wake?.(); }
      }
    });
    const closed = new Promise((r) => ws.once('close', (code) => { r(code); wake?.(); }));
    for (const { m, n } of batch) {
      const enc = encode(m, `f${n}`);
      if (enc.id) { expected.add(enc.id); pendingIds++; }
      ws.send(enc.data, { binary: Boolean(enc.binary) });
    }
    if (pendingIds > 0) await Promise.race([new Promise((r) => { wake = r; }), sleep(8000)]);
    if (ws.readyState !== WebSocket.OPEN) closedEarly++;
    ws.close();
    await closed;
  });
  let lost = 0;
  let twice = 0;
  for (const id of expected) {
    const n = answers.get(id) ?? 0;
    if (n === 0) { lost++; if (examples.length < 10) examples.push(`no answer to ${id}`); }
    if (n > 1) { twice++; if (examples.length < 10) examples.push(`${n} answers to ${id}`); }
  }
  t.comment(`messages: ${msgs.length} on ${batches.length} sockets; answers by type: ${fmtTally(types)}`);
  t.comment(`error codes: ${fmtTally(codes, 20)}`);
  if (examples.length) t.comment(`examples:\n${examples.join('\n')}`);
  t.same(problems, {}, 'every server message is a well-formed status/volume/result/error without stack or path');
  t.equal(lost, 0, `every message with an id answered (${expected.size})`);
  t.equal(twice, 0, 'none answered twice');
  t.equal(closedEarly, 0, 'bad messages never closed a socket');
  report.row('generated messages (ids answered exactly once)', msgs.length, Object.values(problems).reduce((a, b) => a + b, 0) + lost + twice + closedEarly,
    `${expected.size} with ids: ${lost} lost, ${twice} twice; ${batches.length} sockets; ${fmtTally(types)}`);

  // 2. Protocol attacks over raw sockets: each must end with its close code (the server decides, not us).
  const attacks = [
    ['oversized text frame (70 KB)', [frame({ payload: Buffer.alloc(70 * 1024, 0x20) })], 1009],
    ['invalid UTF-8 in a text frame', [frame({ payload: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) })], 1007],
    ['unmasked client frame', [frame({ payload: '{"type":"subscribe"}', mask: false })], 1002],
    ['reserved bit RSV1 without an extension', [frame({ payload: '{}', rsv: 4 })], 1002],
    ['reserved opcode 3', [frame({ opcode: 3, payload: 'x' })], 1002],
    ['fragmented ping', [frame({ opcode: 9, payload: 'p', fin: false })], 1002],
    ['length field 2^63', [frame({ payload: Buffer.alloc(0), lengthOverride: 2n ** 63n })], 1009],
    ['continuation without a start', [frame({ opcode: 0, payload: 'x' })], 1002],
    ['ping payload over 125 bytes', [frame({ opcode: 9, payload: Buffer.alloc(126) })], 1002],
    ['close code 999', [frame({ opcode: 8, payload: Buffer.from([0x03, 0xe7]) })], 1002],
    ['close frame with a 1-byte payload', [frame({ opcode: 8, payload: Buffer.from([0x03]) })], 1002],
    ['new text frame inside a fragmented one', [frame({ payload: '{"ty', fin: false }), frame({ payload: 'pe":1}' })], 1002],
  ];
  let attackFailures = 0;
  const attackCodes = {};
  for (const [what, frames, code] of attacks) {
    const c = await rawWs(srv.port, control.token, { localAddress: '127.0.9.1' });
    t.equal(c.status, 101, `${what}: upgraded`);
    for (const f of frames) c.send(f);
    const closed = await Promise.race([c.closed, sleep(5000).then(() => 'open')]);
    c.sock.destroy();
    const got = closed === 'open' ? 'still open' : closed?.code ?? 'no close frame';
    tally(attackCodes, got);
    if (got !== code) attackFailures++;
    t.equal(got, code, `${what}: closed with ${code}`);
    for (const m of c.messages()) for (const p of checkServerMessage(m)) { attackFailures++; t.fail(`${what}: ${p}`); }
  }
  // Benign raw cases: a valid fragmented message is answered; binary gets an error; a truncated frame is left to the peer.
  const frag = await rawWs(srv.port, control.token, { localAddress: '127.0.9.2' });
  frag.send(frame({ payload: '{"type":"subscribe",', fin: false }));
  frag.send(frame({ opcode: 0, payload: '"id":"frag"}' }));
  frag.send(frame({ opcode: 2, payload: Buffer.from([1, 2, 3]) }));
  frag.send(frame({ payload: '{"type":"uns' }).subarray(0, 5)); // half a frame header, then silence
  await sleep(800);
  const fragMsgs = frag.messages();
  t.ok(fragMsgs.some((m) => m.type === 'result' && m.id === 'frag'), 'a fragmented message is reassembled and answered');
  t.ok(fragMsgs.some((m) => m.type === 'error' && m.code === 'request.binary_frame'), 'a binary frame gets an error message');
  frag.sock.destroy();
  report.row('protocol attacks over raw sockets', attacks.length + 3, attackFailures + (fragMsgs.some((m) => m.id === 'frag') ? 0 : 1), fmtTally(attackCodes));

  // 3. Floods: messages (rate limit, then 1008), pings (answered, socket stays), connection churn.
  const flood = await rawWs(srv.port, control.token, { localAddress: '127.0.9.3' });
  const burst = Buffer.concat(Array.from({ length: 400 }, (_, i) => frame({ payload: JSON.stringify({ type: 'unsubscribe', id: `fl${i}` }) })));
  flood.send(burst);
  const floodClose = await Promise.race([flood.closed, sleep(5000).then(() => null)]);
  const limited = flood.messages().filter((m) => m.code === 'rate_limit.exceeded').length;
  t.equal(floodClose?.code, 1008, `a message flood is closed with 1008 (after ${limited} rate_limit.exceeded errors)`);
  flood.sock.destroy();

  // Pings at a pace a client could keep up (30 at a time, then read): every one answered.
  const pinger = await rawWs(srv.port, control.token, { localAddress: '127.0.9.4' });
  const pings = 300;
  for (let i = 0; i < pings; i += 30) {
    pinger.send(Buffer.concat(Array.from({ length: 30 }, (_, k) => frame({ opcode: 9, payload: `p${i + k}` }))));
    await sleep(30);
  }
  pinger.send(frame({ payload: '{"type":"subscribe","id":"after-pings"}' }));
  await sleep(1000);
  const pongs = pinger.frames.filter((f) => f.opcode === 10).length;
  t.equal(pongs, pings, `paced pings: every one answered with a pong (${pongs}/${pings})`);
  t.ok(pinger.messages().some((m) => m.id === 'after-pings'), 'the socket still works after them');
  pinger.sock.destroy();
  // A burst of 1000 pings in one write: ws cuts the socket once 60 pongs are pending (its flood guard).
  const burstPing = await rawWs(srv.port, control.token, { localAddress: '127.0.9.5' });
  burstPing.send(Buffer.concat(Array.from({ length: 1000 }, (_, i) => frame({ opcode: 9, payload: `b${i}` }))));
  const burstEnd = await Promise.race([burstPing.closed.then(() => 'cut'), sleep(5000).then(() => 'open')]);
  const burstPongs = burstPing.frames.filter((f) => f.opcode === 10).length;
  t.ok(burstEnd === 'cut' || burstPongs === 1000, `a burst of 1000 pings: ${burstEnd === 'cut' ? `cut after ${burstPongs} pongs` : 'all answered'}`);
  burstPing.sock.destroy();

  const churn = SIZE.mode === 'full' ? 2000 : 400;
  let churnFailures = 0;
  await pool(Array.from({ length: churn }), 16, async (_, i) => {
    try {
      const ws = await openWs(wsUrl, i % 3 ? control.token : read.token, `127.0.10.${1 + (i % 100)}`);
      if (i % 2) ws.terminate(); else ws.close();
    } catch { churnFailures++; }
  });
  t.equal(churnFailures, 0, `${churn} connects and disconnects (half closed cleanly, half cut)`);
  report.row('floods: 400 messages, pings, connection churn', 3 + churn, (floodClose?.code === 1008 ? 0 : 1) + (pongs === pings ? 0 : 1) + churnFailures,
    `message flood closed ${floodClose?.code} after ${limited} limited; ${pongs}/${pings} paced pongs; 1000-ping burst ${burstEnd} after ${burstPongs}; ${churn} connects`);

  // After: alive, health, descriptors and live heap back.
  await sleep(1500);
  t.ok(alive(srv.pid), 'serve alive');
  t.equal((await api(srv, 'GET', '/api/health')).status, 200, 'health fine afterwards');
  const ws = await openWs(wsUrl, control.token, '127.0.7.2');
  ws.send(JSON.stringify({ type: 'subscribe', id: 'last' }));
  const last = await new Promise((r) => ws.on('message', (d) => { const m = JSON.parse(d); if (m.id === 'last') r(m); }));
  t.equal(last.type, 'result', 'a new socket works afterwards');
  ws.close();
  await sleep(500);
  const afterMem = await inspector.memoryAfterGc();
  const settled = await settledFds(srv.pid, { mpdPort: mpd.port, baseMpd: base.mpd, limit: base.fds + 2 });
  const after = { fds: settled.fds, heap: afterMem.heapUsed, rss: rssKb(srv.pid) };
  const note = `after a full GC: heap ${mb(base.heap / 1024)} → ${mb(after.heap / 1024)}, RSS ${mb(base.rss)} → ${mb(after.rss)}; fds ${base.fds} → ${after.fds} (MPD connections ${base.mpd} → ${settled.mpd}: the idle watch plus a pool of at most 3)`;
  t.comment(note);
  t.ok(settled.counted <= base.fds + 2 && settled.mpd <= 4, `descriptors back (${note})`);
  t.ok(after.heap < base.heap + 8 * 1024 * 1024, `live heap back (${note})`);
  report.row('serve afterwards', 1, (alive(srv.pid) ? 0 : 1), note);
  inspector.close();
  const stopped = await srv.stop();
  t.same(stopped, { code: 0, signal: null }, 'serve shut down cleanly');
  t.notMatch(srv.err(), /failed:|\n\s+at /, 'no internal failure or stack on stderr');
});
