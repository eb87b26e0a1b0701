#!/usr/bin/env node
// The baseline of the WebSocket part of bench/server.js: a bare `ws` server
// that hears a volume change the way `mediagate serve` does — a `pactl
// subscribe` child on the same kind of PulseAudio — and broadcasts one JSON
// message of the same shape and size as mediagate's volume message with the
// textbook loop `for (const c of wss.clients) c.send(json)`.
//
// Mode (set by the parent over IPC before each change):
//   'event'  — broadcast on the sink event; the level field is a counter,
//              the new level is not read (the cheapest possible server);
//   'reread' — on the sink event, read the level and mute with pactl
//              (get-sink-volume, get-sink-mute in parallel, execFile with
//              argument arrays) and broadcast them: the same work mediagate
//              must do to know what changed, minus everything else it does.
// Forked by bench/ws-volume.js with NODE_EXTRA_CA_CERTS unset and the
// PulseAudio client environment; answers {port} once listening.
import { execFile, spawn } from 'node:child_process';
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
let mode = 'event';
let counter = 0;

const wall = () => performance.timeOrigin + performance.now();
let eventAt = 0;
const broadcast = (level, muted) => {
  const json = JSON.stringify({ type: 'volume', data: { level, muted, target: 'system', backend: 'pulse' } });
  for (const c of wss.clients) c.send(json);
  // for the breakdown: when the sink event came in, when the send loop ended (wall clock, ms)
  process.send({ eventAt, sentAt: wall() });
};
const pactl = (args) => new Promise((resolve, reject) => {
  execFile('pactl', args, { env: { ...process.env, LC_ALL: 'C' } }, (err, out) => (err ? reject(err) : resolve(out)));
});

async function onSinkEvent() {
  if (mode === 'event') { broadcast(++counter % 101, false); return; }
  const [vol, mute] = await Promise.all([pactl(['get-sink-volume', '@DEFAULT_SINK@']), pactl(['get-sink-mute', '@DEFAULT_SINK@'])]);
  broadcast(Number(/(\d+)%/.exec(vol)[1]), /yes/.test(mute));
}

const sub = spawn('pactl', ['subscribe'], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } });
let buf = '';
sub.stdout.setEncoding('utf8').on('data', (d) => {
  buf += d;
  let i;
  let hit = false;
  while ((i = buf.indexOf('\n')) >= 0) {
    if (/on sink /.test(buf.slice(0, i))) hit = true;
    buf = buf.slice(i + 1);
  }
  if (hit) eventAt = wall();
  if (hit) onSinkEvent().catch((e) => process.stderr.write(`bare: ${e.message}\n`));
});
sub.on('exit', (code) => { process.stderr.write(`bare: pactl subscribe exited (${code})\n`); process.exit(1); });
process.on('disconnect', () => { sub.kill(); process.exit(0); });
process.on('message', (m) => { if (m.mode) { mode = m.mode; process.send({ ok: true }); } });
wss.once('listening', () => process.send({ port: wss.address().port, pactlPid: sub.pid }));
