#!/usr/bin/env node
// The baseline of bench/control.js: a bare Node loop that sends MPD the
// command a toggle ends in (`pause 1`, then `pause 0`, …) over one persistent
// TCP connection, one at a time, each after the answer to the last — no HTTP,
// no auth, no audit, no status read, no parsing beyond finding `OK`.
//   node bench/mpd-bare-loop.js HOST PORT SECONDS
// Prints one JSON line: {commands, seconds, perSecond}.
import net from 'node:net';

const [host, port, seconds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 5)];
const socket = net.createConnection({ host, port });
socket.setNoDelay(true);
let buffered = '';
let answered = null;
socket.setEncoding('utf8').on('data', (d) => {
  buffered += d;
  let nl;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    if (line.startsWith('OK') || line.startsWith('ACK')) {
      if (line.startsWith('ACK')) { console.error(line); process.exit(1); }
      const done = answered;
      answered = null;
      done?.();
    }
  }
});
const send = (line) => new Promise((resolve) => { answered = resolve; socket.write(`${line}\n`); });
await new Promise((resolve) => { answered = resolve; }); // the greeting
const start = performance.now();
const end = start + seconds * 1000;
let n = 0;
while (performance.now() < end) {
  await send(n % 2 ? 'pause 0' : 'pause 1');
  n++;
}
const took = (performance.now() - start) / 1000;
socket.end();
console.log(JSON.stringify({ commands: n, seconds: took, perSecond: Math.round(n / took) }));
