#!/usr/bin/env node
// One real volume change reaching 1,000 WebSocket clients of a real
// `mediagate serve`, against a bare `ws` server — side by side, rounds
// interleaved. The WebSocket part of `npm run bench:server` (bench/server.js);
// run alone with `npm run bench:ws`.
//
// Each server has its own PulseAudio (null sink, test/helpers/pulse.js) so a
// change reaches only the server measured. A round: `pactl set-sink-volume`
// on that server's PulseAudio (run synchronously, so the clock starts the
// moment pactl has exited, i.e. PulseAudio has applied the change), then the
// time until every one of the 1,000 clients (all in this process) has the
// new volume message.
//   mediagate: `mediagate serve` (child process, volume.backend pulse, read
//     token, clients authenticated by Bearer header and subscribed). Its path:
//     PulseAudio's sink event on its native subscribed connection → the
//     default sink read on that same connection (level and mute) → LiveState
//     'volume' → /api/ws broadcast. No child process.
//   bare (bench/ws-bare-server.js), two baselines:
//     'event': its own `pactl subscribe` → broadcast a same-size JSON at once
//       (does NOT read the new level: the cheapest possible server);
//     'reread': the same plus reading level and mute with pactl first —
//       the work any server must do to know the new level.
// NODE_EXTRA_CA_CERTS unset for every Node process. Medians of the rounds.
import { fork, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import { startPulse } from '../test/helpers/pulse.js';
import { startServe } from '../test/helpers/serve.js';
import { BIN, ROOT, cleanEnv, loadAverage, median, round, privateEnv } from './lib.js';

/** Open `n` clients (250 at a time); `ready(ws)` resolves when one may be counted. */
async function openClients(url, n, headers, subscribe) {
  const sockets = [];
  const one = () => new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('open', () => {
      if (!subscribe) { resolve(ws); return; }
      ws.send('{"type":"subscribe"}');
      // subscribed once the first volume message (the current state) is in
      const first = (data) => { if (JSON.parse(data).type === 'volume') { ws.off('message', first); resolve(ws); } };
      ws.on('message', first);
    });
  });
  for (let i = 0; i < n; i += 250) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 250); j++) batch.push(one());
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

/** Count, per round, the clients that have a volume message; resolve when all have. */
function counter(sockets) {
  let seen = new Set();
  let done = null;
  let last = null;
  for (const ws of sockets) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data);
      if (msg.type !== 'volume' || seen.has(ws)) return;
      seen.add(ws);
      last = msg;
      if (seen.size === sockets.length && done) { const d = done; done = null; d(performance.now()); }
    });
  }
  return {
    arm() { seen = new Set(); return new Promise((resolve) => { done = resolve; }); },
    last: () => last,
  };
}

/**
 * Run the WS part. `t` takes teardowns; `mpd` is a running MPD for serve's
 * player. Returns the result object (not written anywhere).
 */
export async function wsVolume({ t, mpd, rounds = 15, warmup = 3, clients = 1000, log = (s) => process.stderr.write(`${s}\n`) }) {
  const work = mkdtempSync(join(tmpdir(), 'mg-bench-ws-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const paMg = await startPulse(t);
  const paBare = await startPulse(t);

  // mediagate serve on paMg, no session bus, general rate limit off (1,000 upgrades from one address)
  const env = privateEnv(work, mpd, { HOME: paMg.home, XDG_RUNTIME_DIR: paMg.runtime, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' });
  for (const [k, v] of [['server.rateLimit.rps', '0'], ['volume.backend', 'pulse']]) execFileSync(process.execPath, [BIN, 'config', 'set', k, v], { env });
  const token = JSON.parse(execFileSync(process.execPath, [BIN, 'token', 'create', '--label', 'bench-ws', '--scope', 'read', '--json'], { env, encoding: 'utf8' })).token;
  const srv = await startServe(t, env);

  // the bare server on paBare
  const bare = fork(join(ROOT, 'bench', 'ws-bare-server.js'), [], { env: cleanEnv({ HOME: paBare.home, XDG_RUNTIME_DIR: paBare.runtime, LANG: 'C' }), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  t.teardown(() => new Promise((r) => { if (bare.exitCode !== null) { r(); return; } bare.once('exit', r); bare.kill(); }));
  const { port: barePort } = await new Promise((resolve, reject) => { bare.once('message', resolve); bare.once('exit', (c) => reject(new Error(`bare ws server exited (${c})`))); });
  let lastSend = null;
  let modeAck = null;
  bare.on('message', (m) => { if (m.sentAt) lastSend = m; else if (m.ok && modeAck) { modeAck(); modeAck = null; } });
  const setMode = (mode) => new Promise((resolve) => { modeAck = resolve; bare.send({ mode }); });

  const mgSockets = await openClients(`${srv.url.replace(/^http/, 'ws')}/api/ws`, clients, { authorization: `Bearer ${token}` }, true);
  const bareSockets = await openClients(`ws://127.0.0.1:${barePort}/`, clients, {}, false);
  const mgCount = counter(mgSockets);
  const bareCount = counter(bareSockets);
  log(`ws: ${clients} clients on mediagate serve (pid ${srv.pid}) and on the bare ws server (pid ${bare.pid})`);

  let level = 30;
  /** One change on `pa`; ms from pactl's exit (and from its start) to the last client's message. */
  async function change(pa, count) {
    level = level >= 70 ? 30 : level + 1; // a new level every time (mediagate does not re-send an equal one)
    const arrived = count.arm();
    const t0 = performance.now();
    const r = spawnSync('pactl', ['set-sink-volume', '@DEFAULT_SINK@', `${level}%`], { env: pa.env });
    const t1 = performance.now();
    const exitWall = performance.timeOrigin + t1;
    lastSend = null;
    if (r.status !== 0) throw new Error(`pactl set-sink-volume: ${r.stderr}`);
    const timeout = new Promise((_, reject) => { const x = setTimeout(() => reject(new Error('not every client got the volume message within 10 s')), 10000); x.unref(); arrived.finally(() => clearTimeout(x)); });
    const tDone = await Promise.race([arrived, timeout]);
    await new Promise((res) => setTimeout(res, 150)); // let stragglers (a second sink event) pass before the next round
    const b = lastSend && { eventAfterExit: lastSend.eventAt - exitWall, sendLoop: lastSend.sentAt - lastSend.eventAt };
    return { fromExit: tDone - t1, fromStart: tDone - t0, level, bare: b };
  }

  const kinds = ['mediagate', 'event', 'reread'];
  const times = Object.fromEntries(kinds.map((k) => [k, []]));
  const fromStart = Object.fromEntries(kinds.map((k) => [k, []]));
  const bareParts = { eventAfterExit: [], sendLoop: [] };
  for (let r = 0; r < warmup + rounds; r++) {
    const order = kinds.map((_, i) => kinds[(i + r) % kinds.length]);
    const row = {};
    for (const kind of order) {
      let x;
      if (kind === 'mediagate') {
        x = await change(paMg, mgCount);
        const got = mgCount.last().data;
        if (got.level !== x.level) throw new Error(`mediagate pushed level ${got.level}, expected ${x.level}`);
      } else {
        await setMode(kind);
        x = await change(paBare, bareCount);
        if (kind === 'event' && r >= warmup && x.bare) { bareParts.eventAfterExit.push(x.bare.eventAfterExit); bareParts.sendLoop.push(x.bare.sendLoop); }
        if (kind === 'reread' && bareCount.last().data.level !== x.level) throw new Error(`bare pushed level ${bareCount.last().data.level}, expected ${x.level}`);
      }
      row[kind] = x.fromExit;
      if (r >= warmup) { times[kind].push(x.fromExit); fromStart[kind].push(x.fromStart); }
    }
    if (r >= warmup) log(`ws round ${r + 1 - warmup}/${rounds}: mediagate ${row.mediagate.toFixed(1)} ms, bare ws (event) ${row.event.toFixed(1)} ms, bare ws (re-read) ${row.reread.toFixed(1)} ms`);
  }
  for (const ws of [...mgSockets, ...bareSockets]) ws.terminate();

  const m = Object.fromEntries(kinds.map((k) => [k, median(times[k])]));
  const ratio = median(times.mediagate.map((x, i) => x / times.event[i]));
  const ratioReread = median(times.mediagate.map((x, i) => x / times.reread[i]));
  return {
    when: new Date().toISOString(),
    node: process.version,
    clients,
    rounds,
    warmupRounds: warmup,
    note: 'ms from the exit of a real `pactl set-sink-volume` until all clients have the volume message; mediagate = real `mediagate serve` (its native PulseAudio subscription, the sink read on that connection, /api/ws push); bare event = bare ws server broadcasting a same-size JSON on its own pactl subscribe event, level not read; bare re-read = the same after reading level and mute with pactl; each server on its own PulseAudio null sink; clients in the bench process; medians of rounds (ratios per round, order rotating); NODE_EXTRA_CA_CERTS unset',
    mediagateMedianMs: round(m.mediagate),
    bareMedianMs: round(m.event),
    bareRereadMedianMs: round(m.reread),
    ratio: round(ratio),
    ratioToReread: round(ratioReread),
    fromPactlStartMedianMs: Object.fromEntries(kinds.map((k) => [k, round(median(fromStart[k]))])),
    bareEventBreakdownMedianMs: { sinkEventAfterPactlExit: round(median(bareParts.eventAfterExit)), sendLoop: round(median(bareParts.sendLoop)) },
    loadAverage: loadAverage(),
    target: '≤ 1.2 (ratio, against the bare ws event broadcast); ratioToReread for the record',
    roundsMs: Object.fromEntries(kinds.map((k) => [k, times[k].map((x) => round(x, 1))])),
  };
}

// Run alone: node bench/ws-volume.js (writes results.json key "wsVolume")
if (import.meta.url === `file://${process.argv[1]}`) {
  const { teardowns, writeResult } = await import('./lib.js');
  const { startMpd } = await import('../test/helpers/mpd.js');
  const td = teardowns();
  try {
    const mpd = await startMpd(td.t);
    const res = await wsVolume({ t: td.t, mpd, rounds: Number(process.env.BENCH_ROUNDS_WS ?? 15) });
    writeResult('wsVolume', res);
    console.log(`volume change to ${res.clients} WS clients: mediagate ${res.mediagateMedianMs} ms, bare ws ${res.bareMedianMs} ms (ratio ${res.ratio}), bare ws + re-read ${res.bareRereadMedianMs} ms (ratio ${res.ratioToReread})`);
  } finally {
    await td.run();
  }
}
