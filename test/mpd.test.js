// The MPD backend against a real MPD (null output), plus the address rules,
// a server that never answers, and a process-exit check.
import t from 'tap';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpdSource, MpdPlayer, resolveMpdAddress } from '../dist/core/players/mpd.js';
import { MpdConnection, MpdAckError, quoteArg, formatCommand, formatNumber } from '../dist/core/players/mpd-protocol.js';
import { NoPlayerError, TimeoutError, UsageError, ConfigError } from '../dist/core/errors.js';
import { startMpd, startHungServer, freePort } from './helpers/mpd.js';
import { tempDir, makeMusic, waitFor } from './helpers/proc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const tcp = (host, port, password) => resolveMpdAddress({ env: { MPD_HOST: password ? `${password}@${host}` : host, MPD_PORT: String(port) } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `mpc status` fields as an object. */
function mpcStatus(mpd) {
  const [mpcState, volume, random, repeat, single, time, pos, total] =
    mpd.mpc('status', '%state%;%volume%;%random%;%repeat%;%single%;%currenttime%;%songpos%;%totaltime%').split(';');
  const secs = (mmss) => mmss.split(':').reduce((a, b) => a * 60 + Number(b), 0);
  // mpc 0.34's %state% says "paused" when MPD is stopped; the plain status has no [state] line then.
  const plain = mpd.mpc('status');
  const state = /^\[playing\]/m.test(plain) ? 'playing' : /^\[paused\]/m.test(plain) ? 'paused' : 'stopped';
  return { mpcState, state, volume: volume.trim(), random, repeat, single, time: secs(time), pos: Number(pos), total: secs(total) };
}

// ---------------------------------------------------------------------------
t.test('resolveMpdAddress: allowed', async (t) => {
  const cases = [
    ['defaults', {}, { kind: 'tcp', host: 'localhost', port: 6600, display: 'localhost:6600' }],
    ['empty MPD_HOST is unset', { env: { MPD_HOST: '' } }, { kind: 'tcp', host: 'localhost', port: 6600 }],
    ['MPD_HOST host', { env: { MPD_HOST: 'box.lan' } }, { kind: 'tcp', host: 'box.lan', port: 6600 }],
    ['MPD_HOST password@host', { env: { MPD_HOST: 'pw@box' } }, { kind: 'tcp', host: 'box', port: 6600, password: 'pw', display: 'box:6600' }],
    ['socket path', { env: { MPD_HOST: '/run/mpd/socket' } }, { kind: 'unix', path: '/run/mpd/socket', display: 'socket (unix socket)' }],
    ['password@socket path', { env: { MPD_HOST: 'pw@/run/mpd/socket' } }, { kind: 'unix', path: '/run/mpd/socket', password: 'pw' }],
    ['@ inside a socket path is part of the path', { env: { MPD_HOST: '/tmp/a@b/socket' } }, { kind: 'unix', path: '/tmp/a@b/socket' }],
    ['abstract socket', { env: { MPD_HOST: '@mpd' } }, { kind: 'unix', path: '@mpd', display: '@mpd' }],
    ['MPD_PORT', { env: { MPD_PORT: '6601' } }, { kind: 'tcp', host: 'localhost', port: 6601 }],
    ['MPD_PORT with spaces', { env: { MPD_PORT: ' 6601 ' } }, { kind: 'tcp', port: 6601 }],
    ['[IPv6]', { env: { MPD_HOST: '[::1]' } }, { kind: 'tcp', host: '::1', port: 6600, display: '[::1]:6600' }],
    ['[IPv6]:port', { env: { MPD_HOST: '[::1]:6602', MPD_PORT: '7000' } }, { kind: 'tcp', host: '::1', port: 6602 }],
    ['bare IPv6', { env: { MPD_HOST: 'fe80::1' } }, { kind: 'tcp', host: 'fe80::1', port: 6600 }],
    ['host:port', { env: { MPD_HOST: 'box:6603' } }, { kind: 'tcp', host: 'box', port: 6603 }],
    ['config fallback', { configHost: 'cfg.lan', configPort: 6611 }, { kind: 'tcp', host: 'cfg.lan', port: 6611 }],
    ['config socket', { configHost: '/var/run/mpd.sock' }, { kind: 'unix', path: '/var/run/mpd.sock' }],
    ['env host beats config host, config port still applies', { env: { MPD_HOST: 'envbox' }, configHost: 'cfg', configPort: 6611 }, { host: 'envbox', port: 6611 }],
    ['MPD_PORT beats config port', { env: { MPD_PORT: '6622' }, configHost: 'cfg', configPort: 6611 }, { host: 'cfg', port: 6622 }],
    ['config password with config host', { configHost: 'cfg', configPassword: 'cpw' }, { host: 'cfg', password: 'cpw' }],
    ['config password with the default host', { configPassword: 'cpw' }, { host: 'localhost', password: 'cpw' }],
    ['config password when MPD_HOST names the same host', { env: { MPD_HOST: 'cfg' }, configHost: 'cfg', configPassword: 'cpw' }, { host: 'cfg', password: 'cpw' }],
    ['MPD_HOST password beats config password', { env: { MPD_HOST: 'epw@cfg' }, configHost: 'cfg', configPassword: 'cpw' }, { password: 'epw' }],
  ];
  for (const [name, input, want] of cases) {
    const a = resolveMpdAddress({ env: {}, ...input });
    const got = { kind: a.kind, host: a.host, path: a.path, port: a.port, password: a.password, display: a.display };
    t.match(got, want, name);
    if (!('password' in want)) t.equal(a.password, undefined, `${name}: no password`);
  }
});

t.test('resolveMpdAddress: the password stays out of display, JSON and inspect', async (t) => {
  const a = resolveMpdAddress({ env: { MPD_HOST: 'hunter2@box' } });
  t.equal(a.password, 'hunter2');
  t.notMatch(a.display, /hunter2/);
  t.notMatch(JSON.stringify(a), /hunter2/);
  const { inspect } = await import('node:util');
  t.notMatch(inspect(a), /hunter2/);
});

t.test('resolveMpdAddress: denied', async (t) => {
  const bad = [
    ['MPD_PORT not a number', { env: { MPD_PORT: 'abc' } }, UsageError],
    ['MPD_PORT 0', { env: { MPD_PORT: '0' } }, UsageError],
    ['MPD_PORT too big', { env: { MPD_PORT: '70000' } }, UsageError],
    ['MPD_PORT with junk', { env: { MPD_PORT: '66a' } }, UsageError],
    ['MPD_PORT negative', { env: { MPD_PORT: '-1' } }, UsageError],
    ['password but no host', { env: { MPD_HOST: 'secretpw@' } }, UsageError],
    ['space in host', { env: { MPD_HOST: 'secretpw@bad host' } }, UsageError],
    ['newline in host', { env: { MPD_HOST: 'box\nx' } }, UsageError],
    ['unclosed bracket', { env: { MPD_HOST: '[::1' } }, UsageError],
    ['bad host:port', { env: { MPD_HOST: 'box:port' } }, UsageError],
    ['port without host', { env: { MPD_HOST: ':6600' } }, UsageError],
    ['bare @', { env: { MPD_HOST: '@' } }, UsageError],
    ['config port 0', { configPort: 0 }, ConfigError],
    ['config port not an integer', { configPort: 6600.5 }, ConfigError],
    ['config host with space', { configHost: 'a b' }, ConfigError],
  ];
  for (const [name, input, Err] of bad) {
    try {
      resolveMpdAddress({ env: {}, ...input });
      t.fail(`${name}: accepted`);
    } catch (e) {
      t.type(e, Err, name);
      t.notMatch(e.message, /secretpw/, `${name}: password not echoed`);
      t.ok(e.message.length > 10, `${name}: says why (${e.message})`);
    }
  }
});

t.test('protocol quoting', async (t) => {
  t.equal(quoteArg('plain'), '"plain"');
  t.equal(quoteArg('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
  t.equal(quoteArg(12.5), '"12.5"');
  t.equal(formatNumber(1e-7), '0');
  t.equal(formatNumber(1 / 3), '0.333');
  t.equal(formatCommand('seekcur', ['+5']), 'seekcur "+5"');
  t.throws(() => quoteArg('a\nstatus'), UsageError, 'no command injection through a newline');
  t.throws(() => formatCommand('status\nkill'), UsageError);
});

// ---------------------------------------------------------------------------
t.test('MPD down: NoPlayerError quickly, with a hint', async (t) => {
  const port = await freePort();
  const src = new MpdSource({ env: {}, timeoutMs: 2000, address: tcp('127.0.0.1', port) });
  t.teardown(() => src.close());
  const s = Date.now();
  const err = await src.list().catch((e) => e);
  const ms = Date.now() - s;
  t.type(err, NoPlayerError);
  t.equal(err.code, 'player.unavailable');
  t.match(err.message, `no MPD at 127.0.0.1:${port}: connection refused`);
  t.match(err.hint, /MPD_HOST/);
  t.ok(ms < 500, `refused in ${ms} ms`);

  const dir = tempDir(t);
  const src2 = new MpdSource({ env: { MPD_HOST: join(dir, 'nope.sock') }, timeoutMs: 2000 });
  t.teardown(() => src2.close());
  const err2 = await src2.list().catch((e) => e);
  t.type(err2, NoPlayerError);
  t.match(err2.message, /no such socket/);
  const err3 = await src2.watch(() => {}).catch((e) => e);
  t.type(err3, NoPlayerError, 'watch rejects too');
});

t.test('hung server: TimeoutError within the limit and the socket is let go', async (t) => {
  for (const greeting of [undefined, 'OK MPD 0.23.5\n']) {
    const hung = await startHungServer(t, { greeting });
    const src = new MpdSource({ env: {}, timeoutMs: 300, address: tcp(hung.host, hung.port) });
    const s = Date.now();
    const err = await src.list().catch((e) => e);
    const ms = Date.now() - s;
    t.type(err, TimeoutError, greeting ? 'silent after greeting' : 'no greeting');
    t.equal(err.code, 'backend.timeout');
    t.ok(ms >= 280 && ms < 1500, `timed out after ${ms} ms`);
    await waitFor(() => hung.open === 0, { timeoutMs: 1000, what: 'client socket closed' });
    t.equal(hung.open, 0, 'connection closed by the client');
    // A second call tries again (fresh connection), and also times out.
    const err2 = await src.player().state().catch((e) => e);
    t.type(err2, TimeoutError);
    await src.close();
    await waitFor(() => hung.open === 0, { timeoutMs: 1000, what: 'client socket closed' });
    t.equal(hung.accepted, 2);
  }
});

// ---------------------------------------------------------------------------
t.test('against a real MPD', async (t) => {
  const musicDir = makeMusic(join(tempDir(t, 'mg-music-'), 'music'));
  // A file name that needs quoting: spaces, a double quote and a backslash.
  mkdirSync(join(musicDir, 'odd dir'));
  const oddName = 'odd dir/say "hi" \\ there.flac';
  copyFileSync(join(musicDir, 'b.flac'), join(musicDir, oddName));
  const mpd = await startMpd(t, { musicDir });
  const src = new MpdSource({ env: {}, timeoutMs: 2000, address: tcp(mpd.host, mpd.port) });
  t.teardown(() => src.close());

  /** Queue = the three test tracks, stopped, plain options. */
  const reset = (...files) => {
    mpd.mpc('-q', 'stop');
    mpd.mpc('-q', 'clear');
    for (const f of files.length ? files : ['a.ogg', 'b.flac', 'c.mp3']) mpd.mpc('-q', 'add', f);
    for (const [k, v] of [['random', 'off'], ['repeat', 'off'], ['single', 'off'], ['consume', 'off']]) mpd.mpc('-q', k, v);
    mpd.mpc('-q', 'volume', '100');
  };

  const players = await src.list();
  t.equal(players.length, 1);
  const p = players[0];
  t.type(p, MpdPlayer);
  t.equal(p.name, 'mpd');
  t.equal(p.backend, 'mpd');

  t.test('round trip', async (t) => {
    reset();
    await p.state();
    const n = 50;
    const s = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await p.state();
    const ms = Number(process.hrtime.bigint() - s) / 1e6 / n;
    t.comment(`state() (status+currentsong, one command list) average ${ms.toFixed(2)} ms`);
    t.ok(ms < 50, `state() round trip ${ms.toFixed(2)} ms`);
  });

  t.test('state() reflects mpc changes', async (t) => {
    reset();
    let st = await p.state();
    t.match(st, {
      player: 'mpd', status: 'stopped', title: null, artist: null, album: null, duration: null,
      position: null, positionUpdatedAt: null, volume: 100, shuffle: false, repeat: 'off', artUrl: null,
      capabilities: { canControl: true, canPlay: true, canPause: false, canSeek: false, canGoNext: false, canGoPrevious: false, canSetVolume: true },
    });

    mpd.mpc('-q', 'play', '1');
    const before = Date.now();
    st = await p.state();
    t.equal(st.status, 'playing');
    t.equal(st.title, 'SineA');
    t.equal(st.artist, 'Probe');
    t.ok(Math.abs(st.duration - 30) < 0.5, `duration ${st.duration}`);
    t.ok(st.position >= 0 && st.position < 5, `position ${st.position}`);
    t.ok(Math.abs(Date.parse(st.positionUpdatedAt) - before) < 1000, 'positionUpdatedAt is now');
    t.match(st.capabilities, { canPause: true, canSeek: true, canGoNext: true, canGoPrevious: true });

    mpd.mpc('-q', 'pause');
    mpd.mpc('-q', 'seek', '0:10');
    st = await p.state();
    t.equal(st.status, 'paused');
    t.ok(Math.abs(st.position - 10) < 0.5, `seeked by mpc: position ${st.position}`);
    t.equal(st.capabilities.canPause, true, 'can pause (i.e. stay paused) while paused');

    mpd.mpc('-q', 'volume', '40');
    t.equal((await p.state()).volume, 40);
    mpd.mpc('-q', 'random', 'on');
    t.equal((await p.state()).shuffle, true);
    mpd.mpc('-q', 'repeat', 'on');
    t.equal((await p.state()).repeat, 'playlist');
    mpd.mpc('-q', 'single', 'on');
    t.equal((await p.state()).repeat, 'track');
    mpd.mpc('-q', 'random', 'off');
    mpd.mpc('-q', 'repeat', 'off');
    mpd.mpc('-q', 'single', 'off');

    mpd.mpc('-q', 'play', '3');
    st = await p.state();
    t.equal(st.title, 'c.mp3', 'no Title tag: the file name');
    t.equal(st.artist, null);
    t.equal(st.capabilities.canGoNext, false, 'last song, no repeat: no next');
    mpd.mpc('-q', 'repeat', 'on');
    t.equal((await p.state()).capabilities.canGoNext, true, 'with repeat it wraps');
  });

  t.test('act() changes the real state', async (t) => {
    reset();
    const steps = [
      ['play', { state: 'playing', pos: 1 }],
      ['pause', { state: 'paused', pos: 1 }],
      ['toggle', { state: 'playing', pos: 1 }],
      ['toggle', { state: 'paused', pos: 1 }],
      ['play', { state: 'playing', pos: 1 }],
      ['next', { state: 'playing', pos: 2 }],
      ['previous', { state: 'playing', pos: 1 }],
      ['stop', { state: 'stopped' }],
      ['toggle', { state: 'playing', pos: 1 }],
    ];
    for (const [action, want] of steps) {
      await p.act(action);
      t.match(mpcStatus(mpd), want, `${action} → ${JSON.stringify(want)}`);
    }
    // `play` while paused resumes where it was, not from the start.
    await p.act('pause');
    mpd.mpc('-q', 'seek', '0:07');
    await p.act('play');
    const s = mpcStatus(mpd);
    t.ok(s.state === 'playing' && s.time >= 7, `resumed at ${s.time} s`);
    // Stop is fine when already stopped.
    await p.act('stop');
    await p.act('stop');
    t.equal(mpcStatus(mpd).state, 'stopped');
  });

  t.test('toggles sent at once: each sets the opposite of what it read, so together they agree', async (t) => {
    reset();
    mpd.mpc('-q', 'play');
    // Ten people pressing pause on a playing player at once: it ends paused (each read "playing").
    await Promise.all(Array.from({ length: 10 }, () => p.act('toggle')));
    t.equal(mpcStatus(mpd).state, 'paused', '10 toggles at once from playing: paused');
    mpd.mpc('-q', 'stop');
    await p.act('toggle');
    t.equal(mpcStatus(mpd).state, 'playing', 'from stopped a toggle plays');
  });

  t.test('seekTo / seekBy', async (t) => {
    reset();
    mpd.mpc('-q', 'play');
    mpd.mpc('-q', 'pause');
    await p.seekTo(12);
    t.equal(mpcStatus(mpd).time, 12, 'seekTo 12');
    t.ok(Math.abs((await p.state()).position - 12) < 0.1);
    await p.seekBy(5);
    t.equal(mpcStatus(mpd).time, 17, 'seekBy +5');
    await p.seekBy(-2.5);
    t.ok(Math.abs((await p.state()).position - 14.5) < 0.1, 'seekBy -2.5 (fractions)');
    await p.seekBy(-100);
    t.equal(mpcStatus(mpd).time, 0, 'seekBy -100 clamps to 0');
    t.equal(mpcStatus(mpd).pos, 1, 'same song');
    await t.rejects(p.seekTo(100), UsageError, 'past the end is refused');
    await t.rejects(p.seekTo(-1), UsageError);
    await t.rejects(p.seekTo(NaN), UsageError);
    await t.rejects(p.seekBy(Infinity), UsageError);
    t.equal(mpcStatus(mpd).time, 0, 'refused seeks changed nothing');
  });

  t.test('setVolume', async (t) => {
    reset();
    await p.setVolume(25);
    t.equal(mpcStatus(mpd).volume, '25%');
    await p.setVolume(0);
    t.equal((await p.state()).volume, 0);
    await p.setVolume(100);
    t.equal(mpcStatus(mpd).volume, '100%');
    for (const bad of [150, -1, 2.5, NaN]) {
      const err = await p.setVolume(bad).catch((e) => e);
      t.type(err, UsageError, `setVolume(${bad}) refused`);
    }
    t.equal(mpcStatus(mpd).volume, '100%', 'unchanged');
  });

  t.test('unsupported actions are errors, not no-ops', async (t) => {
    reset('a.ogg');
    mpd.mpc('-q', 'play');
    const cases = [
      ['next on a one-song queue without repeat', () => p.act('next'), /mpd cannot go to the next song/],
    ];
    for (const [name, fn, msg] of cases) {
      const err = await fn().catch((e) => e);
      t.type(err, NoPlayerError, name);
      t.equal(err.code, 'player.unsupported', name);
      t.match(err.message, msg, name);
    }
    t.match(mpcStatus(mpd), { state: 'playing', pos: 1 }, 'state unchanged');

    mpd.mpc('-q', 'stop');
    for (const [name, fn] of [
      ['seekTo while stopped', () => p.seekTo(5)],
      ['seekBy while stopped', () => p.seekBy(5)],
      ['pause while stopped', () => p.act('pause')],
      ['next while stopped', () => p.act('next')],
      ['previous while stopped', () => p.act('previous')],
    ]) {
      const err = await fn().catch((e) => e);
      t.type(err, NoPlayerError, name);
      t.equal(err.code, 'player.unsupported', name);
    }
    t.equal(mpcStatus(mpd).state, 'stopped');

    mpd.mpc('-q', 'clear');
    for (const action of ['play', 'toggle']) {
      const err = await p.act(action).catch((e) => e);
      t.equal(err.code, 'player.unsupported', `${action} with an empty queue`);
      t.match(err.message, /queue is empty/);
    }
  });

  t.test('watch() reports mpc changes within 1 s, and is quiet otherwise', async (t) => {
    reset();
    mpd.mpc('-q', 'play');
    await sleep(200); // MPD reports `player` twice when playback starts; let that settle
    let events = [];
    let waiter = null;
    const stop = await src.watch((name) => {
      events.push({ name, at: Date.now() });
      if (waiter) { const w = waiter; waiter = null; w(); }
    });
    await sleep(300);
    t.equal(events.length, 0, 'no events while nothing changes');
    const latencies = [];
    for (const args of [['pause'], ['volume', '30'], ['random', 'on'], ['play'], ['next'], ['seek', '0:05']]) {
      events = [];
      const got = new Promise((r) => { waiter = r; });
      const s = Date.now();
      mpd.mpc('-q', ...args);
      await Promise.race([got, sleep(1500)]);
      t.ok(events.length >= 1, `event for mpc ${args.join(' ')}`);
      if (events.length) {
        t.equal(events[0].name, 'mpd');
        const ms = events[0].at - s;
        latencies.push(ms);
        t.ok(ms < 1000, `mpc ${args.join(' ')} seen after ${ms} ms`);
      }
      await sleep(50);
    }
    t.comment(`watch latency (incl. spawning mpc): ${latencies.join(', ')} ms`);
    await stop();
    events = [];
    mpd.mpc('-q', 'pause');
    await sleep(200);
    t.equal(events.length, 0, 'no events after stop');
  });

  t.test('unix socket and command quoting round trip', async (t) => {
    const s2 = new MpdSource({ env: { MPD_HOST: mpd.socketPath }, timeoutMs: 2000 });
    t.teardown(() => s2.close());
    const [pl] = await s2.list();
    t.equal((await pl.state()).player, 'mpd');
    const conn = await MpdConnection.open({ kind: 'unix', path: mpd.socketPath }, { timeoutMs: 2000, display: mpd.socketPath });
    t.teardown(() => conn.close());
    t.match(conn.serverVersion, /^\d+\.\d+/);
    const found = await conn.command('find', 'file', oddName);
    t.same(found.filter(([k]) => k === 'file').map(([, v]) => v), [oddName], 'a file name with " and \\ survives quoting');
    const err = await conn.command('play', '99').catch((e) => e);
    t.type(err, MpdAckError, 'ACK becomes MpdAckError');
    t.match(err.message, /Bad song index/);
    t.equal(err.ack, 2);
    t.equal(err.command, 'play');
    // The connection is still usable after an ACK.
    t.ok((await conn.command('status')).length > 3);
    const lists = await conn.commandList([['status'], ['currentsong']]);
    t.equal(lists.length, 2);
  });
});

// ---------------------------------------------------------------------------
t.test('password', async (t) => {
  const mpd = await startMpd(t, { password: 'sekrit-pw' });
  const good = new MpdSource({ env: { MPD_HOST: `sekrit-pw@127.0.0.1`, MPD_PORT: String(mpd.port) }, timeoutMs: 2000 });
  t.teardown(() => good.close());
  const [p] = await good.list();
  t.equal((await p.state()).status, 'stopped', 'correct password works');
  await p.act('play');
  t.equal(mpcStatus(mpd).state, 'playing');

  const wrong = new MpdSource({ env: {}, timeoutMs: 2000, address: tcp('127.0.0.1', mpd.port, 'WrongPass-123') });
  t.teardown(() => wrong.close());
  const err = await wrong.list().catch((e) => e);
  t.type(err, NoPlayerError);
  t.equal(err.code, 'player.auth');
  t.match(err.message, /rejected the password/);
  for (const text of [err.message, err.hint, String(err), err.stack, JSON.stringify(err)]) {
    t.notMatch(text ?? '', /WrongPass-123/, 'password not echoed');
  }

  const none = new MpdSource({ env: {}, timeoutMs: 2000, address: tcp('127.0.0.1', mpd.port) });
  t.teardown(() => none.close());
  const err2 = await none.list().catch((e) => e);
  t.type(err2, NoPlayerError);
  t.equal(err2.code, 'player.auth', 'no password: permission denied');
  t.match(err2.hint, /password/);

  const err3 = await wrong.watch(() => {}).catch((e) => e);
  t.equal(err3.code, 'player.auth', 'watch with a wrong password rejects');
});

t.test('watch() survives an MPD restart', async (t) => {
  const mpd = await startMpd(t);
  const src = new MpdSource({ env: { MPD_HOST: mpd.socketPath }, timeoutMs: 1000 });
  t.teardown(() => src.close());
  let n = 0;
  const stop = await src.watch(() => { n++; });
  const [p] = await src.list();
  await p.state();
  await mpd.restart();
  t.equal((await p.state()).player, 'mpd', 'commands reconnect after MPD dropped the kept connection');
  await waitFor(() => n >= 2, { timeoutMs: 5000, what: 'drop + reconnect events' });
  n = 0;
  // Give the watcher time to be back in idle, then change something.
  await waitFor(async () => {
    mpd.mpc('-q', 'volume', String(10 + Math.floor(Math.random() * 80)));
    await sleep(150);
    return n > 0;
  }, { timeoutMs: 5000, what: 'event after reconnect' });
  t.ok(n > 0, 'events after reconnect');
  await stop();
});

t.test('a process exits promptly: after close(), and even without it', async (t) => {
  const mpd = await startMpd(t);
  const url = new URL('../dist/core/players/mpd.js', import.meta.url).href;
  const run = (body) => new Promise((resolve) => {
    const code = `import { MpdSource } from ${JSON.stringify(url)};
      const src = new MpdSource({ env: { MPD_HOST: '127.0.0.1', MPD_PORT: '${mpd.port}' }, timeoutMs: 2000 });
      ${body}`;
    const s = Date.now();
    execFile(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, timeout: 5000 }, (err, stdout, stderr) => {
      resolve({ err, stdout, stderr, ms: Date.now() - s });
    });
  });
  const withClose = await run(`const [p] = await src.list(); await p.state(); const stop = await src.watch(() => {});
    await stop(); await src.watch(() => {}); await src.close(); await src.close(); console.log('done');`);
  t.equal(withClose.err, null, withClose.stderr);
  t.equal(withClose.stdout.trim(), 'done');
  const noClose = await run(`const [p] = await src.list(); console.log((await p.state()).player);`);
  t.equal(noClose.err, null, 'a forgotten source does not keep node alive');
  t.equal(noClose.stdout.trim(), 'mpd');
  t.comment(`child process with close: ${withClose.ms} ms, without: ${noClose.ms} ms`);
  t.ok(withClose.ms < 3000 && noClose.ms < 3000);
});
