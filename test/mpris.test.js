// MPRIS backend against a real private D-Bus session bus, real mpv + mpv-mpris,
// and small fake MPRIS peers (dbus-next services) for what mpv cannot show.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MprisSource } from '../dist/core/players/mpris.js';
import { sessionBusAddress, parseBusAddress } from '../dist/core/players/dbus-address.js';
import { MediagateError, NoPlayerError, TimeoutError, UsageError } from '../dist/core/errors.js';
import { startSessionBus, startMpv, startFakePlayer } from './helpers/dbus.js';
import { makeMusic, tempDir, waitFor } from './helpers/proc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Wait (briefly) for a daemon to apply a change; the assertion follows. */
const until = (fn, what) => waitFor(fn, { timeoutMs: 3000, stepMs: 25, what });

/** test/mpris-wire.test.js runs this whole file again with the one-shot sources (the small wire client). */
const ONE_SHOT = process.env.MEDIAGATE_TEST_MPRIS_ONE_SHOT === '1';

function source(t, env, timeoutMs = 2000) {
  const src = new MprisSource({ env, timeoutMs, oneShot: ONE_SHOT });
  t.teardown(() => src.close());
  return src;
}

async function rejection(promise) {
  try { await promise; } catch (e) { return e; }
  throw new Error('expected a rejection');
}

t.test('sessionBusAddress', async (t) => {
  t.equal(sessionBusAddress({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x/bus' }), 'unix:path=/x/bus', 'env var wins');

  const runtime = tempDir(t, 'mg-xdg-');
  const server = createServer();
  await new Promise((r) => server.listen(join(runtime, 'bus'), r));
  t.teardown(() => new Promise((r) => server.close(r)));
  t.equal(sessionBusAddress({ XDG_RUNTIME_DIR: runtime }), `unix:path=${runtime}/bus`, 'falls back to $XDG_RUNTIME_DIR/bus');

  const empty = tempDir(t, 'mg-xdg-');
  for (const env of [{ XDG_RUNTIME_DIR: empty }, {}, { DBUS_SESSION_BUS_ADDRESS: '  ' }]) {
    const e = await rejection((async () => sessionBusAddress(env))());
    t.ok(e instanceof NoPlayerError, 'NoPlayerError');
    t.equal(e.code, 'mpris.no_bus');
    t.equal(e.exitCode, 3);
    t.match(e.hint, /DBUS_SESSION_BUS_ADDRESS=unix:path=\/run\/user\/\$\(id -u\)\/bus/, 'hint says how to fix it');
  }
});

t.test('parseBusAddress', async (t) => {
  t.same(parseBusAddress('unix:path=/run/user/1000/bus,guid=abc'), { kind: 'unix', path: '/run/user/1000/bus', abstract: false });
  t.same(parseBusAddress('unix:abstract=/tmp/dbus-XYZ,guid=1'), { kind: 'unix', path: '/tmp/dbus-XYZ', abstract: true });
  t.same(parseBusAddress('unix:path=/tmp/a%20b'), { kind: 'unix', path: '/tmp/a b', abstract: false }, 'percent-unescaped');
  t.same(parseBusAddress('launchd:env=X;tcp:host=127.0.0.1,port=5555'), { kind: 'tcp', host: '127.0.0.1', port: 5555 }, 'skips unsupported entries');
  for (const bad of ['', 'nonsense', 'unix:tmpdir=/tmp', 'tcp:host=x,port=0']) {
    t.throws(() => parseBusAddress(bad), { code: 'mpris.bad_address' }, `rejects ${JSON.stringify(bad)}`);
  }
});

t.test('no bus at all: NoPlayerError mpris.no_bus with a hint', async (t) => {
  const src = source(t, { XDG_RUNTIME_DIR: tempDir(t, 'mg-xdg-') });
  const e = await rejection(src.list());
  t.ok(e instanceof NoPlayerError);
  t.equal(e.code, 'mpris.no_bus');
  t.match(e.hint, /DBUS_SESSION_BUS_ADDRESS/);
  t.equal((await rejection(src.watch(() => {}))).code, 'mpris.no_bus', 'watch() too');
});

t.test('bus address pointing to a missing socket: NoPlayerError', async (t) => {
  const dir = tempDir(t, 'mg-nobus-');
  const src = source(t, { DBUS_SESSION_BUS_ADDRESS: `unix:path=${dir}/missing` });
  const e = await rejection(src.list());
  t.ok(e instanceof NoPlayerError, `${e.code}: ${e.message}`);
  t.equal(e.code, 'mpris.no_bus');
  t.match(e.hint, /DBUS_SESSION_BUS_ADDRESS/);
});

t.test('bus daemon dies: pending calls fail at once, watchers hear it, then stale socket → NoPlayerError', async (t) => {
  const bus = await startSessionBus(t);
  const fake = await startFakePlayer(t, bus, { name: 'hung', hang: true });
  const src = source(t, bus.env, 5000);
  const p = await src.player('hung');
  const events = [];
  await src.watch((name) => events.push(name));
  const pending = rejection(p.state());
  await sleep(50);
  const start = performance.now();
  process.kill(bus.pid, 'SIGKILL');
  await bus.stop();
  const lost = await pending;
  const ms = performance.now() - start;
  t.ok(lost instanceof NoPlayerError, `${lost.code}: ${lost.message}`);
  t.equal(lost.code, 'mpris.bus_lost');
  t.ok(ms < 1000, `pending call failed after ${ms.toFixed(0)} ms, not at the 5 s time limit`);
  // Told on the same lost connection as the pending call, in a tick of its own: allow it a moment.
  for (let waited = 0; events.length === 0 && waited < 2000; waited += 20) await sleep(20);
  t.same(events, ['hung'], 'the watcher was told its players are gone');
  await fake.stop();

  const e = await rejection(src.list());
  t.ok(e instanceof NoPlayerError, `${e.code}: ${e.message}`);
  t.equal(e.code, 'mpris.no_bus', 'reconnecting to the stale socket: ECONNREFUSED');
  t.match(e.message, /nothing listening/);
  t.match(e.hint, /DBUS_SESSION_BUS_ADDRESS/);
});

t.test('a socket that accepts but never speaks D-Bus: TimeoutError within the limit', async (t) => {
  const dir = tempDir(t, 'mg-silent-');
  const peers = new Set();
  const server = createServer((s) => { peers.add(s); s.on('close', () => peers.delete(s)); s.resume(); });
  await new Promise((r) => server.listen(join(dir, 'bus'), r));
  t.teardown(() => { for (const s of peers) s.destroy(); return new Promise((r) => server.close(r)); });
  const src = source(t, { DBUS_SESSION_BUS_ADDRESS: `unix:path=${dir}/bus` }, 300);
  const start = performance.now();
  const e = await rejection(src.list());
  const ms = performance.now() - start;
  t.ok(e instanceof TimeoutError, `${e.code}: ${e.message}`);
  t.ok(ms < 1500, `gave up after ${ms.toFixed(0)} ms`);
  await until(() => peers.size === 0, 'the stuck connection to be closed');
  t.pass('the half-open connection was closed');
});

t.test('against a real bus with mpv', async (t) => {
  const bus = await startSessionBus(t);
  const music = makeMusic(tempDir(t, 'mg-music-'), 120);
  const mpv = await startMpv(t, bus, [join(music, 'a.ogg'), join(music, 'b.flac'), join(music, 'c.mp3')]);
  t.equal(mpv.name, 'mpv');
  await until(() => mpv.playerctl('metadata', 'xesam:title') === 'SineA', 'mpv to load a.ogg');
  mpv.playerctl('pause');
  await until(() => mpv.playerctl('status') === 'Paused', 'mpv to pause');

  const src = source(t, bus.env);
  const get = async (name = 'mpv') => (await src.list()).find((p) => p.name === name);

  t.test('list() finds mpv', async (t) => {
    const players = await src.list();
    t.same(players.map((p) => p.name), ['mpv']);
    t.equal(players[0].backend, 'mpris');
    t.equal(players[0].busName, 'org.mpris.MediaPlayer2.mpv');
    t.equal((await src.player('mpv')).name, 'mpv', 'player(name) addresses one directly');
    t.equal((await rejection(src.player('nope'))).code, 'player.not_found');
    t.equal((await rejection(src.player('bad name!'))).code, 'player.not_found');
  });

  t.test('state() reflects changes made with playerctl', async (t) => {
    const p = await get();
    let s = await p.state();
    t.equal(s.player, 'mpv');
    t.equal(s.status, 'paused');
    t.equal(s.title, 'SineA');
    t.equal(s.artist, 'Probe');
    t.equal(s.album, null, 'missing → null');
    t.equal(s.artUrl, null);
    t.ok(Math.abs(s.duration - 120) < 0.5, `duration ${s.duration}`);
    t.same(s.capabilities, { canPlay: true, canPause: true, canSeek: true, canGoNext: true, canGoPrevious: true, canSetVolume: true, canControl: true, canShuffle: true, canRepeat: true, canOpenUri: true });
    t.ok(Math.abs(Date.parse(s.positionUpdatedAt) - Date.now()) < 2000, 'positionUpdatedAt is the time of the read');

    mpv.playerctl('play');
    await until(async () => (await p.state()).status === 'playing', 'state playing');
    mpv.playerctl('pause');
    await until(async () => (await p.state()).status === 'paused', 'state paused');
    t.pass('status follows playerctl play/pause');

    mpv.playerctl('volume', '0.5');
    await until(async () => (await p.state()).volume === 50, 'volume 50');
    t.pass('volume 0.5 → 50');

    mpv.playerctl('position', '10');
    await until(async () => Math.abs((await p.state()).position - 10) < 0.3, 'position 10');
    s = await p.state();
    t.ok(Math.abs(s.position - 10) < 0.3, `position ${s.position}`);

    mpv.playerctl('loop', 'Playlist');
    await until(async () => (await p.state()).repeat === 'playlist', 'repeat playlist');
    mpv.playerctl('loop', 'Track');
    await until(async () => (await p.state()).repeat === 'track', 'repeat track');
    mpv.playerctl('loop', 'None');
    await until(async () => (await p.state()).repeat === 'off', 'repeat off');
    t.pass('LoopStatus → repeat');
    const shuffle = (await p.state()).shuffle;
    t.type(shuffle, 'boolean');
  });

  t.test('act() changes the real state', async (t) => {
    const p = await get();
    const status = () => mpv.playerctl('status');
    const title = () => mpv.playerctl('metadata', 'xesam:title');
    for (const [action, expect] of [['play', 'Playing'], ['pause', 'Paused'], ['toggle', 'Playing'], ['toggle', 'Paused']]) {
      await p.act(action);
      await until(() => status() === expect, `${action} → ${expect}`);
      t.equal(status(), expect, `${action} → ${expect}`);
    }
    await p.act('next');
    await until(() => title() === 'SineB', 'next → SineB');
    t.equal(title(), 'SineB', 'next → SineB');
    await p.act('previous');
    await until(() => title() === 'SineA', 'previous → SineA');
    t.equal(title(), 'SineA', 'previous → SineA');
    t.equal((await rejection(p.act('dance'))).code, 'usage.invalid', 'unknown action');
  });

  t.test('seekTo / seekBy', async (t) => {
    const p = await get();
    const pos = () => Number(mpv.playerctl('position'));
    // mpv seeks Vorbis audio to the nearest page (~0.2 s), so allow half a second.
    const near = (want) => Math.abs(pos() - want) < 0.5;
    await p.seekTo(20);
    await until(() => near(20), 'position 20');
    t.ok(near(20), `seekTo(20) → ${pos()}`);
    let from = pos();
    await p.seekBy(5);
    await until(() => near(from + 5), `position ${from + 5}`);
    t.ok(near(from + 5), `seekBy(5) from ${from} → ${pos()}`);
    from = pos();
    await p.seekBy(-10);
    await until(() => near(from - 10), `position ${from - 10}`);
    t.ok(near(from - 10), `seekBy(-10) from ${from} → ${pos()}`);
    from = pos();
    const far = await rejection(p.seekTo(9999));
    t.ok(far instanceof UsageError, 'past the end is an error, not a silent no-op');
    t.equal(far.code, 'usage.out_of_range');
    t.ok((await rejection(p.seekTo(-1))) instanceof UsageError);
    t.ok((await rejection(p.seekBy(Number.NaN))) instanceof UsageError);
    t.equal(pos(), from, 'rejected seeks did not move');
  });

  t.test('setVolume', async (t) => {
    const p = await get();
    await p.setVolume(37);
    await until(() => Math.abs(Number(mpv.playerctl('volume')) - 0.37) < 0.005, 'volume 0.37');
    t.equal(Number(mpv.playerctl('volume')), 0.37);
    t.equal((await p.state()).volume, 37);
    for (const bad of [150, -1, Number.NaN]) {
      const e = await rejection(p.setVolume(bad));
      t.ok(e instanceof UsageError, `${bad} rejected: ${e.message}`);
    }
    t.equal(Number(mpv.playerctl('volume')), 0.37, 'unchanged after rejected levels');
  });

  t.test('watch() reports changes within 1 s, event-driven', async (t) => {
    const events = [];
    const stop = await src.watch((name) => events.push({ name, at: performance.now() }));
    await sleep(300);
    events.length = 0;
    await sleep(500);
    t.same(events, [], 'nothing reported while nothing changes (no polling)');

    const waitEvent = async (name, since) => {
      await until(() => events.some((e) => e.name === name && e.at >= since), `an event for ${name}`);
      return events.find((e) => e.name === name && e.at >= since).at - since;
    };
    let since = performance.now();
    mpv.playerctl('volume', '0.6');
    const volMs = await waitEvent('mpv', since);
    t.ok(volMs < 1000, `volume change reported after ${volMs.toFixed(1)} ms`);
    t.comment(`watch latency (playerctl volume → onChange, incl. spawning playerctl): ${volMs.toFixed(1)} ms`);

    // The same through our own API from a second connection: the pure D-Bus signal latency.
    const other = source(t, bus.env);
    since = performance.now();
    await (await other.player('mpv')).setVolume(55);
    const ownMs = await waitEvent('mpv', since);
    t.ok(ownMs < 1000);
    t.comment(`watch latency (setVolume on another connection → onChange): ${ownMs.toFixed(1)} ms`);

    since = performance.now();
    mpv.playerctl('position', '30');
    const seekMs = await waitEvent('mpv', since);
    t.ok(seekMs < 1000, `seek (Seeked) reported after ${seekMs.toFixed(1)} ms`);

    since = performance.now();
    const second = await startMpv(t, bus, [join(music, 'c.mp3')]);
    t.equal(second.name, `mpv.instance${second.pid}`);
    await waitEvent(second.name, since);
    t.pass(`appearing player ${second.name} reported`);
    t.same((await src.list()).map((p) => p.name).sort(), ['mpv', second.name].sort());

    // The new player's own signals map back to its name through the owner map.
    since = performance.now();
    second.playerctl('volume', '0.2');
    await waitEvent(second.name, since);
    t.pass('signals from the new player carry its name');

    since = performance.now();
    await second.stop();
    await waitEvent(second.name, since);
    t.pass('disappearing player reported');
    t.same((await src.list()).map((p) => p.name), ['mpv']);

    since = performance.now();
    const fake = await startFakePlayer(t, bus, { name: 'watchfake' });
    await waitEvent('watchfake', since);
    t.pass('fake player appearing reported');
    since = performance.now();
    fake.changed({ PlaybackStatus: 'Playing' });
    const rawMs = await waitEvent('watchfake', since);
    t.ok(rawMs < 1000);
    t.comment(`watch latency (PropertiesChanged sent → onChange, same process): ${rawMs.toFixed(2)} ms`);
    await fake.stop();

    await stop();
    await stop();
    const before = events.length;
    mpv.playerctl('volume', '0.7');
    await sleep(300);
    t.equal(events.length, before, 'no events after stop()');
  });

  t.test('an action the player cannot do → player.unsupported (checked first)', async (t) => {
    const fake = await startFakePlayer(t, bus, { name: 'nonext', props: { CanGoNext: false, CanSeek: false } });
    const p = await src.player('nonext');
    t.equal((await p.state()).capabilities.canGoNext, false);
    const e = await rejection(p.act('next'));
    t.ok(e instanceof NoPlayerError);
    t.equal(e.code, 'player.unsupported');
    t.match(e.message, /nonext/);
    t.match(e.message, /next/);
    t.ok(e.hint);
    t.same(fake.calls, [], 'Next was never sent');
    t.equal((await rejection(p.seekBy(5))).code, 'player.unsupported', 'seek without CanSeek');
    t.equal((await rejection(p.seekTo(5))).code, 'player.unsupported');
    await p.act('previous');
    t.same(fake.calls, ['Previous'], 'an allowed action goes through');
  });

  t.test('CanControl false: everything unsupported, canSetVolume false', async (t) => {
    await startFakePlayer(t, bus, { name: 'readonly', props: { CanControl: false } });
    const p = await src.player('readonly');
    const s = await p.state();
    t.equal(s.capabilities.canControl, false);
    t.equal(s.capabilities.canSetVolume, false);
    t.equal(s.capabilities.canPlay, false);
    for (const a of ['play', 'pause', 'toggle', 'stop', 'next', 'previous']) {
      t.equal((await rejection(p.act(a))).code, 'player.unsupported', a);
    }
    t.equal((await rejection(p.setVolume(10))).code, 'player.unsupported', 'volume');
  });

  t.test('a D-Bus error from the player becomes a clear MediagateError', async (t) => {
    const fake = await startFakePlayer(t, bus, { name: 'grumpy', fail: { Play: 'no audio device' } });
    const p = await src.player('grumpy');
    const e = await rejection(p.act('play'));
    t.ok(e instanceof MediagateError, e.constructor.name);
    t.equal(e.code, 'player.error');
    t.match(e.message, /grumpy/);
    t.match(e.message, /no audio device/);
    await fake.stop();
    const gone = await rejection(p.state());
    t.equal(gone.code, 'player.not_found', 'a player that quit is reported as gone');
  });

  t.test('a player that never answers: TimeoutError, and list() still lists it (present, not responding)', async (t) => {
    await startFakePlayer(t, bus, { name: 'hung', hang: true });
    const quick = source(t, bus.env, 300);
    const p = await quick.player('hung');
    let start = performance.now();
    const e = await rejection(p.state());
    let ms = performance.now() - start;
    t.ok(e instanceof TimeoutError, `${e.code}: ${e.message}`);
    t.equal(e.code, 'backend.timeout');
    t.ok(ms < 1500, `state() gave up after ${ms.toFixed(0)} ms`);
    start = performance.now();
    t.equal((await rejection(p.act('play'))).code, 'backend.timeout', 'act() too');
    start = performance.now();
    const listed = await quick.list();
    ms = performance.now() - start;
    t.same(listed.map((x) => x.name), ['hung', 'mpv'], 'every org.mpris.MediaPlayer2.* name is listed, the hung one too');
    t.ok(ms < 1500, `list() took ${ms.toFixed(0)} ms (it asks no player)`);
    t.equal((await rejection(listed[0].state())).code, 'backend.timeout', 'the listed hung player times out when asked');
    t.same((await quick.find('hung')).map((x) => x.name), ['hung'], 'find() addresses it directly');
    t.equal((await (await quick.player('mpv')).state()).title, 'SineA', 'the connection still works after timeouts');
  });

  t.test('stop', async (t) => {
    const p = await get();
    await p.act('stop');
    await until(() => mpv.playerctl('status') === 'Stopped', 'stop → Stopped');
    t.equal(mpv.playerctl('status'), 'Stopped');
  });

  t.test('close() is safe twice; the source reconnects on next use', async (t) => {
    const s2 = source(t, bus.env);
    t.equal((await s2.list()).length, 1);
    await s2.close();
    await s2.close();
    t.equal((await s2.list()).length, 1);
  });

  t.test('lazy import, timings, and the process exits after close()', async (t) => {
    const dir = tempDir(t, 'mg-child-');
    mkdirSync(dir, { recursive: true });
    const script = join(dir, 'child.mjs');
    writeFileSync(script, `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).some((k) => k.includes('/node_modules/dbus-next/'));
      const { MprisSource } = await import(${JSON.stringify(join(ROOT, 'dist/core/players/mpris.js'))});
      const src = new MprisSource({ env: process.env, timeoutMs: 2000 });
      const before = loaded();
      let s = performance.now();
      await src.connection();
      const firstConnectMs = performance.now() - s;
      const after = loaded();
      const other = new MprisSource({ env: process.env, timeoutMs: 2000 });
      s = performance.now();
      await other.connection();
      const connectMs = performance.now() - s;
      await other.close();
      const [player] = await src.list();
      const times = [];
      for (let i = 0; i < 200; i++) { s = performance.now(); await player.state(); times.push(performance.now() - s); }
      times.sort((a, b) => a - b);
      await src.watch(() => {});          // left running on purpose: close() must release it
      await src.close();
      console.log(JSON.stringify({ before, after, firstConnectMs, connectMs,
        getAllMedianMs: times[100], getAllP95Ms: times[190] }));
    `);
    const child = spawn(process.execPath, [script], { env: bus.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
    const [code, signal] = await new Promise((r) => child.on('exit', (c, s) => r([c, s])));
    clearTimeout(killer);
    t.equal(signal, null, 'exited by itself (not killed after 10 s)');
    t.equal(code, 0, err);
    const m = JSON.parse(out.trim().split('\n').pop());
    t.equal(m.before, false, 'dbus-next not loaded by importing mpris.js / constructing the source');
    t.equal(m.after, true, 'dbus-next loaded on first use');
    t.comment(`first connect incl. lazy dbus-next import: ${m.firstConnectMs.toFixed(1)} ms; ` +
      `connect (handshake + Hello): ${m.connectMs.toFixed(1)} ms; ` +
      `GetAll round trip: median ${m.getAllMedianMs.toFixed(2)} ms, p95 ${m.getAllP95Ms.toFixed(2)} ms`);
  });
});
