#!/usr/bin/env node
// The MQTT bridge, measured against baselines in the same run (issue 12):
//
//  latency  one real `mediagate serve` (MPD, a bridge to a real Mosquitto) with
//           a WebSocket client and an MQTT subscriber: each `mpc pause|play`
//           is timed from mpc's exit to its arrival at both; the ratio of the
//           medians (broker / WebSocket) must be ≤ 1.3.
//  idle     the same with MPD playing: BENCH_MQTT_IDLE_SECONDS (default 600)
//           of nothing changing — messages the broker delivers from this node
//           (must be 0: only keep-alives, which are not messages) and serve's
//           CPU (all threads, schedstat) as % of one core (must be < 0.5 %).
//  fleet    20 simulated nodes (retained availability + state on the broker):
//           `mediagate nodes --json` against `mosquitto_sub -C 40` reading the
//           same retained messages, interleaved rounds, medians. Reported both
//           for the whole process (Node's own start-up included) and for the
//           answer itself (Fleet.nodes() with its connection, in a warm
//           process), which the issue's ≤ 2× bounds.
//
// `--only latency,idle,fleet` picks parts. Writes bench/results.json key "mqtt".
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { startMpd } from '../test/helpers/mpd.js';
import { makeMusic } from '../test/helpers/proc.js';
import { cliToken, startServe } from '../test/helpers/serve.js';
import { BIN, cleanEnv, cpuNs, loadAverage, median, privateEnv, round, teardowns, writeResult } from './lib.js';

const only = (() => { const i = process.argv.indexOf('--only'); return i > 0 ? new Set(process.argv[i + 1].split(',')) : null; })();
const want = (p) => !only || only.has(p);
const ROUNDS = Number(process.env.BENCH_MQTT_ROUNDS ?? 20);
const IDLE_S = Number(process.env.BENCH_MQTT_IDLE_SECONDS ?? 600);
const NODES = 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const { t, run: cleanup } = teardowns();

function timed(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    execFile(cmd, args, { env, maxBuffer: 16 * 1024 * 1024 }, (e, stdout) => (e ? reject(e) : resolve({ ms: performance.now() - t0, exitAt: performance.now(), stdout })));
  });
}

async function machine(work, mq, { playing = false, seconds = 60 } = {}) {
  let musicDir;
  if (seconds <= 60) musicDir = makeMusic(join(work, 'music'), seconds);
  else {
    // One long track (no track change inside the idle window), made at a low rate so sox is quick.
    musicDir = join(work, 'music');
    mkdirSync(musicDir);
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '--add-comment', 'TITLE=Long', join(musicDir, 'long.ogg'), 'synth', String(seconds), 'sine', '440', 'vol', '0.1'], { timeout: 300000 });
  }
  const mpd = await startMpd(t, { musicDir });
  if (playing) { mpd.mpc('-q', 'repeat', 'on'); mpd.mpc('-q', 'play'); }
  const env = privateEnv(work, mpd, { config: { mqtt: { url: mq.url, node: 'bench' } } });
  const srv = await startServe(t, env);
  const end = Date.now() + 15000;
  while (!/mqtt: connected/.test(srv.err()) && Date.now() < end) await sleep(50);
  return { mpd, env, srv };
}

async function subscriber(url, filters) {
  const c = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `bench-${Math.random().toString(36).slice(2, 8)}` });
  t.teardown(() => c.end(true));
  const got = [];
  c.on('message', (topic, payload, packet) => got.push({ topic, text: payload.toString(), retain: packet.retain, at: performance.now() }));
  await c.subscribeAsync(filters, { qos: 0 });
  return { c, got };
}

async function latency(work, mq) {
  const { mpd, env, srv } = await machine(work, mq);
  const token = (await cliToken(env, 'bench', 'read')).token;
  const ws = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/api/ws`, ['mediagate.v1'], { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  t.teardown(() => ws.terminate());
  const wsGot = [];
  ws.on('message', (d) => { const m = JSON.parse(String(d)); if (m.type === 'status' && m.data) wsGot.push({ status: m.data.status, at: performance.now() }); });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send(JSON.stringify({ type: 'subscribe', player: 'mpd' }));
  const sub = await subscriber(mq.url, ['mediagate/bench/player/mpd/state']);
  await sleep(1500);
  const toWs = [];
  const toBroker = [];
  for (let i = 0; i < ROUNDS * 2; i++) {
    const status = i % 2 === 0 ? 'playing' : 'paused';
    await sleep(150);
    const w0 = wsGot.length;
    const b0 = sub.got.length;
    const { exitAt } = await timed('mpc', ['-q', '-h', mpd.host, '-p', String(mpd.port), status === 'playing' ? 'play' : 'pause'], process.env);
    const end = performance.now() + 5000;
    let w; let b;
    while ((!w || !b) && performance.now() < end) {
      w ??= wsGot.slice(w0).find((m) => m.status === status);
      b ??= sub.got.slice(b0).find((m) => JSON.parse(m.text).status === status);
      if (!w || !b) await sleep(1);
    }
    if (!w || !b) throw new Error(`round ${i}: ${status} did not arrive at ${w ? 'the broker subscriber' : 'the WebSocket client'}`);
    toWs.push(Math.max(0, w.at - exitAt));
    toBroker.push(Math.max(0, b.at - exitAt));
  }
  await srv.stop();
  const r = { rounds: toWs.length, wsMedianMs: round(median(toWs)), brokerMedianMs: round(median(toBroker)), ratio: round(median(toBroker) / median(toWs)), bound: 1.3 };
  console.log(`latency: mpc → WebSocket median ${r.wsMedianMs} ms, → broker subscriber ${r.brokerMedianMs} ms: ${r.ratio}× (≤ ${r.bound})`);
  return r;
}

async function idle(work, mq) {
  const { srv } = await machine(work, mq, { playing: true, seconds: Math.max(600, IDLE_S + 60) });
  const sub = await subscriber(mq.url, ['mediagate/bench/#', 'homeassistant/#']);
  await sleep(5000); // start-up burst and the retained replay are over
  const m0 = sub.got.length;
  const ns0 = cpuNs(srv.pid);
  const t0 = performance.now();
  await sleep(IDLE_S * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = ((cpuNs(srv.pid) - ns0) / 1e9 / seconds) * 100;
  const messages = sub.got.slice(m0);
  await srv.stop();
  const r = { seconds: round(seconds, 1), messages: messages.length, topics: [...new Set(messages.map((m) => m.topic))], cpuPercentOfCore: round(cpu, 3), bound: 0.5 };
  console.log(`idle: ${r.seconds} s with MPD playing: ${r.messages} messages published, serve CPU ${r.cpuPercentOfCore}% of a core (< ${r.bound}%)`);
  return r;
}

async function fleet(work, mq) {
  // 20 simulated nodes: what 20 bridges leave retained.
  const c = await mqtt.connectAsync(mq.url, { protocolVersion: 5, clientId: 'bench-nodes' });
  t.teardown(() => c.end(true));
  for (let i = 0; i < NODES; i++) {
    const node = `node${String(i).padStart(2, '0')}`;
    const p = { id: 'mpd', player: 'mpd', status: 'playing', title: `Track ${i}`, artist: 'Bench', album: null };
    const state = { node, volume: 40 + i, muted: false, mixer: { target: 'system', backend: 'pulse' }, active: 'mpd', nowPlaying: p, players: [{ id: 'mpd', player: 'mpd', status: 'playing', title: p.title, artist: p.artist }] };
    await c.publishAsync(`mediagate/${node}/availability`, 'online', { qos: 1, retain: true });
    await c.publishAsync(`mediagate/${node}/state`, JSON.stringify(state), { qos: 1, retain: true });
  }
  mkdirSync(join(work, 'cli'));
  const env = cleanEnv({ ...privateEnv(join(work, 'cli'), { host: '127.0.0.1', port: 1 }, { config: { mqtt: { url: mq.url } } }) });
  const sub = ['-h', mq.host, '-p', String(mq.port), '-C', String(NODES * 2), '-W', '10', '-t', 'mediagate/+/availability', '-t', 'mediagate/+/state'];
  const { Fleet } = await import('../dist/client/fleet.js');
  const { Config } = await import('../dist/core/config/store.js');
  const config = Config.load(env);
  const cli = [];
  const lib = [];
  const mosq = [];
  for (let i = 0; i < ROUNDS; i++) {
    const m = await timed('mosquitto_sub', sub, process.env);
    if (m.stdout.trim().split('\n').length !== NODES * 2) throw new Error('mosquitto_sub did not read every retained message');
    mosq.push(m.ms);
    const r = await timed(process.execPath, [BIN, 'nodes', '--json'], env);
    if (JSON.parse(r.stdout).length !== NODES) throw new Error('nodes --json did not list every node');
    cli.push(r.ms);
    const l0 = performance.now();
    const f = await Fleet.open(config, env);
    const list = await f.nodes();
    lib.push(performance.now() - l0);
    await f.close();
    if (list.length !== NODES) throw new Error('Fleet.nodes() did not list every node');
  }
  const node0 = [];
  for (let i = 0; i < 5; i++) node0.push((await timed(process.execPath, ['-e', '0'], env)).ms);
  const r = {
    nodes: NODES, rounds: ROUNDS,
    mosquittoSubMedianMs: round(median(mosq)), nodesAnswerMedianMs: round(median(lib)), answerRatio: round(median(lib) / median(mosq)), bound: 2,
    nodesCliMedianMs: round(median(cli)), cliRatio: round(median(cli) / median(mosq)), nodeFloorMs: round(median(node0)),
  };
  console.log(`fleet: ${NODES} nodes — mosquitto_sub -C ${NODES * 2} ${r.mosquittoSubMedianMs} ms; the nodes answer (connect + read) ${r.nodesAnswerMedianMs} ms: ${r.answerRatio}× (≤ ${r.bound}); the whole \`mediagate nodes --json\` process ${r.nodesCliMedianMs} ms (${r.cliRatio}×; node -e 0 alone ${r.nodeFloorMs} ms)`);
  return r;
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'mg-bench-mqtt-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const mq = await startMosquitto(t, { anonymous: true, noDelay: process.env.BENCH_MQTT_NODELAY === '1' });
  const out = { loadBefore: loadAverage() };
  let part = 0;
  const fresh = () => { const d = join(work, `p${part++}`); mkdirSync(d); return d; };
  if (want('latency')) out.latency = await latency(fresh(), mq);
  if (want('fleet')) out.fleet = await fleet(fresh(), await startMosquitto(t, { anonymous: true })); // its own broker: only the 20 simulated nodes
  if (want('idle')) out.idle = await idle(fresh(), mq);
  out.loadAfter = loadAverage();
  console.log(`load average before ${out.loadBefore.join(' ')}, after ${out.loadAfter.join(' ')}`);
  writeResult('mqtt', { ...out, at: new Date().toISOString() });
}

main().then(cleanup, async (e) => { console.error(e); await cleanup(); process.exitCode = 1; });
