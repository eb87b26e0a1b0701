// Process supervision of the desktop backends against fake media-control,
// osascript and powershell.exe first on PATH: exact argv, framing, request-id
// matching, time limits, restart with backoff, no respawn loop, clean shutdown,
// and no MEDIAGATE_* variable in a tool's environment.
import t from 'tap';
import { fakeDesktop } from './helpers/fake-desktop.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { NowPlayingStream, STREAM_ARGS, findMediaControl } from '../dist/core/players/macos/media-control.js';
import { WindowsHelper, HELPER_ARGS, helperScript } from '../dist/core/players/windows/helper.js';
import { findProgram } from '../dist/core/tools/find-program.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

async function until(fn, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  while (Date.now() < end) { const v = await fn(); if (v) return v; await sleep(20); }
  throw new Error(`timed out waiting for ${what}`);
}

function envWith(fake, extra = {}) {
  return { PATH: `${fake.bin}:${process.env.PATH}`, HOME: '/nonexistent', MEDIAGATE_SECRET_KEY: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=', ...extra };
}

t.test('programs are found on PATH, then in the extra dirs (launchd PATHs are minimal)', async (t) => {
  const fake = fakeDesktop(t);
  t.equal(findProgram('media-control', { PATH: '/usr/bin' }, [fake.bin]), `${fake.bin}/media-control`);
  t.equal(findProgram('media-control', { PATH: `${fake.bin}` }, ['/nowhere']), `${fake.bin}/media-control`);
  t.equal(findProgram('media-control', { PATH: 'relative/dir' }, []), undefined, 'a relative PATH entry is not searched');
  t.equal(findMediaControl({ PATH: fake.bin }), `${fake.bin}/media-control`);
});

t.test('media-control stream: argv, merging, restart with backoff, no respawn loop, rotation, clean stop', async (t) => {
  const fake = fakeDesktop(t);
  const changes = [];
  const s = new NowPlayingStream({ path: `${fake.bin}/media-control`, env: envWith(fake), minBackoffMs: 200, maxBackoffMs: 800, onChange: (p) => changes.push(p) });
  t.teardown(() => s.stop());
  s.start();
  await until(() => s.current(), 15000, 'the first line');
  t.equal(s.current().title, 'Happier Than Ever');
  const call = fake.calls('media-control').at(-1);
  t.same(call.argv, STREAM_ARGS, 'exact argv');
  t.notOk(call.env.some((k) => /^MEDIAGATE_/.test(k)), 'no MEDIAGATE_* variable (the secret key above all) reaches it');
  fake.setModel((m) => { m.nowPlaying.playing = false; delete m.nowPlaying.genre; });
  await until(() => s.current()?.playing === false, 5000, 'the diff');
  t.notOk('genre' in s.current(), 'a key the stream set to null is gone');
  t.equal(s.current().title, 'Happier Than Ever', 'the rest is kept');

  // Crashing streams: restarted, but after 200, 400, 800, 800… ms — never in a loop.
  fake.scenario({ 'media-control': { exitAtStart: 2 } });
  const from = fake.calls('media-control').length;
  process.kill(call.pid, 'SIGKILL');
  await until(() => fake.calls('media-control').length - from >= 3, 15000, 'three restarts');
  const starts = fake.calls('media-control').slice(from).map((c) => c.at);
  t.ok(starts.length >= 3, `restarted (${starts.length} times)`);
  const gaps = starts.slice(1).map((at, i) => at - starts[i]);
  const waits = [400, 800, 800, 800, 800];
  gaps.forEach((g, i) => t.ok(g >= waits[i] - 50, `wait ${i + 1} before restarting: ${g} ms (at least ${waits[i]})`));
  t.ok(changes.includes(null), 'listeners are told when the stream is down');

  // Healthy again: it comes back and reads the current state.
  fake.scenario({});
  await until(() => s.running, 5000, 'the stream to come back');
  await s.stop();
  const last = fake.calls('media-control').at(-1);
  await until(() => !alive(last.pid), 3000, 'the stream process to end');
  const n = fake.starts('stream');
  await sleep(1200);
  t.equal(fake.starts('stream'), n, 'a stopped stream is not restarted');
});

t.test('media-control stream: replaced on a timer without losing what is known; split lines and characters; garbage ignored', async (t) => {
  const fake = fakeDesktop(t, { scenario: { 'media-control': { split: true, garbage: true, otherType: true } } });
  fake.setModel((m) => { m.nowPlaying.artist = 'Øneheart ♫'; });
  const s = new NowPlayingStream({ path: `${fake.bin}/media-control`, env: envWith(fake), restartEveryMs: 2000, onChange: () => {} });
  t.teardown(() => s.stop());
  s.start();
  await until(() => s.current(), 15000, 'the first line');
  t.equal(s.current().artist, 'Øneheart ♫', 'bytes split inside characters decode whole');
  t.ok(s.badLines >= 1, 'the garbage line was counted and skipped');
  await until(() => fake.starts('stream') >= 3, 15000, 'two rotations');
  for (let i = 0; i < 10; i++) {
    t.equal(s.current()?.title, 'Happier Than Ever', 'what is known stays while the stream is replaced');
    await sleep(50);
  }
  await s.stop();
});

t.test('Windows helper: argv, id matching with stray answers and noise, split UTF-8, time limit, restart after backoff, clean shutdown', async (t) => {
  const fake = fakeDesktop(t, { scenario: { 'powershell.exe': { stray: true, noise: true, split: true } } });
  const h = new WindowsHelper({ env: envWith(fake), timeoutMs: 1500, minBackoffMs: 500, maxBackoffMs: 2000 });
  t.teardown(() => h.close());
  const r = await h.request('sessions');
  t.equal(r.sessions[0].title, 'Ünïcödé ♫ 日本語', 'UTF-8 through split chunks');
  const call = fake.calls('powershell.exe').at(-1);
  t.same(call.argv, [...HELPER_ARGS, helperScript()], 'exact argv: -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -File <package>/helpers/windows/helper.ps1');
  t.notOk(call.env.some((k) => /^MEDIAGATE_/.test(k)), 'no MEDIAGATE_* variable in its environment');
  const [a, b] = await Promise.all([h.request('volume.get'), h.request('sessions')]);
  t.same(a, { level: 40, muted: false }, 'answers matched to their requests by id');
  t.ok(Array.isArray(b.sessions));
  t.ok(h.strays >= 2, 'answers to unknown ids are dropped');
  t.ok(h.noise >= 1, 'non-protocol lines are ignored');
  t.equal(h.starts, 1, 'one helper for every request');

  fake.scenario({ 'powershell.exe': { hangOn: ['sessions'] } });
  await h.close();
  const h2 = new WindowsHelper({ env: envWith(fake), timeoutMs: 800, minBackoffMs: 600, maxBackoffMs: 2000 });
  t.teardown(() => h2.close());
  await h2.request('volume.get');
  const hungPid = fake.calls('powershell.exe').at(-1).pid;
  const t0 = Date.now();
  await t.rejects(h2.request('sessions'), { code: 'backend.timeout', exitCode: 3 });
  t.ok(Date.now() - t0 < 3000, 'the time limit holds');
  await until(() => !alive(hungPid), 3000, 'the hung helper to be ended');
  await t.rejects(h2.request('volume.get'), { code: 'windows.helper_exited' }, 'within the backoff no new helper is started');
  t.equal(h2.starts, 1);
  await sleep(700);
  t.same(await h2.request('volume.get'), { level: 40, muted: false }, 'after the backoff a new helper answers');
  t.equal(h2.starts, 2);
  const pid = fake.calls('powershell.exe').at(-1).pid;
  await h2.close();
  await until(() => !alive(pid), 3000, 'the helper to end on close');
});

t.test('Windows helper: crashes are not respawned in a loop; a crash rejects what was pending', async (t) => {
  const fake = fakeDesktop(t, { scenario: { 'powershell.exe': { crashAfter: 0 } } });
  const h = new WindowsHelper({ env: envWith(fake), timeoutMs: 1500, minBackoffMs: 300, maxBackoffMs: 1200 });
  t.teardown(() => h.close());
  const from = fake.calls('powershell.exe').length;
  const t0 = Date.now();
  let tries = 0;
  while (Date.now() - t0 < 3500) {
    tries++;
    await h.request('sessions').catch((e) => { if (e.code !== 'windows.helper_exited') t.fail(e.code); });
    await sleep(25);
  }
  const starts = fake.calls('powershell.exe').slice(from).map((c) => c.at);
  t.ok(starts.length >= 3 && starts.length < tries, `asked ${tries} times, started ${starts.length} helpers`);
  const gaps = starts.slice(1).map((at, i) => at - starts[i]);
  const waits = [300, 600, 1200, 1200];
  gaps.forEach((g, i) => t.ok(g >= waits[i] - 50, `wait ${i + 1} before a new helper: ${g} ms (at least ${waits[i]})`));
  t.match(h.stderrTail.join('\n'), /crashed on purpose/, 'its stderr is kept for the message');
});

t.test('Windows helper: start time limit, protocol version, no WinRT', async (t) => {
  const fake = fakeDesktop(t, { scenario: { 'powershell.exe': { neverReady: true } } });
  const h = new WindowsHelper({ env: envWith(fake), timeoutMs: 500, startTimeoutMs: 700 });
  t.teardown(() => h.close());
  await t.rejects(h.request('sessions'), { code: 'backend.timeout' });
  fake.scenario({ 'powershell.exe': { version: 99 } });
  const h2 = new WindowsHelper({ env: envWith(fake), timeoutMs: 1000 });
  t.teardown(() => h2.close());
  await t.rejects(h2.request('sessions'), { code: 'windows.helper_version' });
  fake.scenario({ 'powershell.exe': { winrt: false } });
  const h3 = new WindowsHelper({ env: envWith(fake), timeoutMs: 1000 });
  t.teardown(() => h3.close());
  await t.rejects(h3.request('sessions'), { code: 'windows.no_winrt', exitCode: 3 });
  t.same(await h3.request('volume.get'), { level: 40, muted: false }, 'the volume does not need WinRT');
  const missing = new WindowsHelper({ env: { PATH: '/nonexistent' }, timeoutMs: 500 });
  await t.rejects(missing.request('sessions'), { code: 'windows.no_powershell', exitCode: 3 });
});

t.test('osascript: exact argv, values as arguments, -1743 with its fix (exit 4), a hung osascript times out (exit 3)', async (t) => {
  const fake = fakeDesktop(t);
  const { env } = cliEnv(t, fake.env('darwin'));
  let r = await runCli(['volume', '30'], { env });
  t.equal(r.code, 0, r.stderr);
  t.same(fake.calls('osascript').at(-1).argv, ['-e', 'on run argv', '-e', 'set volume output volume ((item 1 of argv) as integer)', '-e', 'end run', '30']);
  t.equal(fake.model().volume.level, 30);
  r = await runCli(['volume', 'mute', '--json'], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { level: 30, muted: true, target: 'system', backend: 'macos' });
  fake.setModel((m) => { m.volume.missing = true; });
  r = await runCli(['volume', '--target', 'system'], { env });
  t.equal(r.code, 3);
  t.match(r.stderr, /no volume control/);

  // AppleScript players: media-control's test fails here.
  fake.scenario({ 'media-control': { test: 1 }, osascript: { deny: true } });
  const denied = cliEnv(t, fake.env('darwin'));
  r = await runCli(['status', '--player', 'music'], { env: denied.env });
  t.equal(r.code, 4, r.stderr);
  t.match(r.stderr, /Automation permission, error -1743/);
  t.match(r.stderr, /Privacy & Security → Automation/);
  fake.scenario({ 'media-control': { test: 1 }, osascript: { hang: true } });
  const hung = cliEnv(t, fake.env('darwin'));
  writeConfig(hung.configDir, { backend: { timeoutMs: 700 } });
  const t0 = Date.now();
  r = await runCli(['status', '--player', 'music', '--json'], { env: hung.env });
  t.equal(r.code, 3, r.stderr);
  t.match(JSON.parse(r.stderr.trim().split('\n').pop()), { error: { code: 'backend.timeout' } });
  t.ok(Date.now() - t0 < 8000, 'within the time limit');
});

t.test('macOS: without media-control (or when its test fails) AppleScript runs Music and Spotify, and says why', async (t) => {
  const fake = fakeDesktop(t, { scenario: { 'media-control': { test: 1 } } });
  const { env } = cliEnv(t, fake.env('darwin'));
  let r = await runCli(['play', 'players', '--json'], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), [{ name: 'music', backend: 'macos', status: 'playing', title: 'So What' }]);
  t.equal(fake.calls('media-control').filter((c) => c.argv[0] === 'test').length, 1);
  r = await runCli(['status', '--json'], { env });
  t.equal(fake.calls('media-control').filter((c) => c.argv[0] === 'test').length, 1, 'the verdict of media-control test is remembered: a CLI call does not pay for it again');
  r = await runCli(['doctor', '--json'], { env });
  const doc = JSON.parse(r.stdout);
  t.match(doc.checks.find((c) => c.id === 'macos-via'), { found: /AppleScript/ });
  t.match(doc.checks.find((c) => c.id === 'media-control'), { status: 'warn', why: /exited 1/ });
  t.equal(r.code, 0, 'AppleScript works, so the main job can run');
  r = await runCli(['pause', '--player', 'music'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(fake.model().apps.Music.state, 'paused');
  r = await runCli(['status', '--player', 'spotify'], { env });
  t.equal(r.code, 3, 'Spotify is not running: not launched, reported');
  t.match(r.stderr, /no player named 'spotify'/);
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
function writeConfig(dir, obj) {
  writeFileSync(join(dir, 'config.json'), JSON.stringify(obj), { mode: 0o600 });
}
