// The native PulseAudio client when the server fails it: no socket, a
// server that closes mid-exchange, one that does not speak the protocol,
// one that never answers. Each fails within the backend time limit with a
// clear error (exit 3 from the CLI), pactl tried instead where it may help
// (no time left after a silent server: not tried); and pactl really takes
// over for a TCP server and for a socket list whose unix entry is missing.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakePulse } from './helpers/fake-pulse.js';
import { startPulse, pulseVolume } from './helpers/pulse.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { tempDir, waitFor } from './helpers/proc.js';
import { PulseMixer } from '../dist/core/volume/pulse/mixer.js';
import { watchMixer } from '../dist/core/volume/watch.js';

const LIMIT = 1000;

async function timed(p) {
  const t0 = Date.now();
  try { await p; return { ms: Date.now() - t0, error: null }; } catch (error) { return { ms: Date.now() - t0, error }; }
}

/** A CLI env reaching `runtime`, volume.backend pulse, backend.timeoutMs LIMIT. */
function cli(t, extra) {
  const { env, configDir } = cliEnv(t, { MPD_PORT: '1', ...extra });
  writeFileSync(join(configDir, 'config.json'), `${JSON.stringify({ volume: { backend: 'pulse' }, backend: { timeoutMs: LIMIT } })}\n`, { mode: 0o600 });
  return env;
}

t.test('no socket: a clear error, pactl tried, within the limit', async (t) => {
  const runtime = join(tempDir(t, 'mg-nosock-'), 'xdg');
  mkdirSync(runtime);
  const m = new PulseMixer({ env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: runtime, LANG: 'C' }, timeoutMs: LIMIT });
  const { ms, error } = await timed(m.get());
  t.match(error, { code: 'volume.pulse_no_server', exitCode: 3 }, 'denied: no server');
  t.match(error.message, /no PulseAudio server at .*pulse\/native \(no such socket\)/);
  t.match(error.hint, /pactl, tried instead/, 'pactl was tried and its failure reported');
  t.ok(ms < LIMIT + 2000, `within the limit (${ms} ms)`);
  const r = await runCli(['volume', '--json'], { env: cli(t, { XDG_RUNTIME_DIR: runtime }) });
  t.equal(r.code, 3, 'CLI: exit 3');
  t.match(r.stderr, /no PulseAudio server at/);
  t.equal(r.stdout, '', 'nothing on stdout');
});

for (const [mode, code, message] of [
  ['close', 'volume.pulse_closed', /closed the connection during AUTH/],
  ['garbage', 'volume.pulse_protocol', /malformed packet during AUTH \(frame of \d+ bytes\)/],
  ['badtag', 'volume.pulse_protocol', /malformed packet during AUTH \(a reply to tag 77, which was never sent\)/],
]) {
  t.test(`a server that ${mode === 'close' ? 'closes mid-exchange' : 'answers what is not the protocol'} (${mode})`, async (t) => {
    const fake = await startFakePulse(t, mode);
    const m = new PulseMixer({ env: fake.env, timeoutMs: LIMIT });
    const { ms, error } = await timed(m.get());
    t.match(error, { code, exitCode: 3 }, `denied: ${code}`);
    t.match(error.message, message);
    t.match(error.hint, /pactl, tried instead/);
    t.ok(fake.accepted() >= 2, `pactl connected after us (${fake.accepted()} connections)`);
    t.ok(ms < LIMIT + 2000, `within the limit (${ms} ms)`);
    await t.rejects(m.set(50), { code }, 'a set fails the same way');
    const r = await runCli(['volume', '50'], { env: cli(t, { XDG_RUNTIME_DIR: fake.runtime }) });
    t.equal(r.code, 3, 'CLI: exit 3');
    t.match(r.stderr, message);
  });
}

t.test('a server that never answers: a timeout at the limit, pactl not started', async (t) => {
  const fake = await startFakePulse(t, 'silent');
  const m = new PulseMixer({ env: fake.env, timeoutMs: LIMIT });
  const { ms, error } = await timed(m.get());
  t.match(error, { code: 'backend.timeout', exitCode: 3 }, 'denied: timeout');
  t.match(error.message, new RegExp(`PulseAudio at .*native did not answer within ${LIMIT} ms`));
  t.ok(ms >= LIMIT - 20 && ms < LIMIT + 1500, `at the limit (${ms} ms)`);
  t.equal(fake.accepted(), 1, 'no pactl after the time is spent');
  const t0 = Date.now();
  const r = await runCli(['volume', '+5'], { env: cli(t, { XDG_RUNTIME_DIR: fake.runtime }) });
  t.equal(r.code, 3, 'CLI: exit 3');
  t.match(r.stderr, /did not answer within 1000 ms/);
  t.ok(Date.now() - t0 < LIMIT + 8000, 'the CLI ends instead of hanging');
});

t.test('pactl takes over where the native client cannot go', async (t) => {
  const pa = await startPulse(t, { tcp: true });
  const tcp = `tcp:127.0.0.1:${pa.tcpPort}`;
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '41%');
  for (const [what, server] of [['a TCP server', tcp], ['a list whose unix socket is missing, then TCP', `unix:/nonexistent/pulse/native ${tcp}`]]) {
    const env = { PATH: process.env.PATH, HOME: pa.home, LANG: 'C', PULSE_SERVER: server, XDG_RUNTIME_DIR: join(pa.dir, 'elsewhere') };
    const m = new PulseMixer({ env, timeoutMs: 3000 });
    t.same(await m.get(), { level: 41, muted: false }, `allowed: ${what} is read`);
    t.equal(m.via, 'pactl', 'through pactl');
    const r = await runCli(['volume', '44', '--json'], { env: cli(t, { PULSE_SERVER: server, HOME: pa.home }) });
    t.equal(r.code, 0, r.stderr);
    t.same(JSON.parse(r.stdout), { level: 44, muted: false, target: 'system', backend: 'pulse' }, 'volume --json as always');
    t.equal(pulseVolume(pa).level, 44, 'and the change reached the server');
    pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '41%');
  }
  // the watch over TCP is pactl subscribe: events arrive (without a reading: the caller re-reads)
  const calls = [];
  const stop = watchMixer('pulse', { PATH: process.env.PATH, HOME: pa.home, LANG: 'C', PULSE_SERVER: tcp }, (r) => calls.push(r), 3000);
  t.teardown(stop);
  await waitFor(() => calls.length > 0, { what: 'pactl subscribe listening', timeoutMs: 8000 });
  const before = calls.length;
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '47%');
  await waitFor(() => calls.length > before, { what: 'an event through pactl subscribe', timeoutMs: 5000 });
  t.ok(calls.every((r) => r === undefined), 'allowed: pactl subscribe reports changes for the caller to re-read');
});

t.test('the watch when the server fails it', async (t) => {
  for (const mode of ['silent', 'close', 'garbage']) {
    const fake = await startFakePulse(t, mode);
    const calls = [];
    const t0 = Date.now();
    const stop = watchMixer('pulse', fake.env, (r) => calls.push({ r, at: Date.now() - t0 }), LIMIT);
    await waitFor(() => calls.length > 0, { what: `a call after ${mode}`, timeoutMs: LIMIT + 5000 });
    stop();
    t.equal(calls[0].r, undefined, `${mode}: the caller is told to look for itself (no reading)`);
    t.ok(calls[0].at < LIMIT + 3000, `${mode}: within the limit (${calls[0].at} ms)`);
  }
});
