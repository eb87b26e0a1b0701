// The CLI against a real MPD (null output): every control command changes the
// real player, checked with mpc; status reflects changes made with mpc.
import t from 'tap';
import { startMpd, startHungServer, freePort } from './helpers/mpd.js';
import { cliEnv, followCli, runCli } from './helpers/cli.js';

const mpcState = (mpd) => {
  const lines = mpd.mpc('status').split('\n');
  const m = /^\[(playing|paused)\]/.exec(lines[1] ?? '');
  return m ? m[1] : 'stopped';
};
const mpcTitle = (mpd) => mpd.mpc('current', '-f', '%title%');

t.test('play commands drive a real MPD', async (t) => {
  const mpd = await startMpd(t);
  const { env } = cliEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
  const mg = (...args) => runCli([...args, '--player', 'mpd'], { env });

  let r = await mg('status', '--json');
  t.equal(r.code, 0, r.stderr);
  let s = JSON.parse(r.stdout);
  t.equal(s.player, 'mpd');
  t.equal(s.status, 'stopped');
  t.same(Object.keys(s).sort(), ['album', 'artUrl', 'artist', 'capabilities', 'duration', 'player', 'position', 'positionUpdatedAt', 'repeat', 'shuffle', 'status', 'title', 'volume'].sort());

  r = await mg('play');
  t.equal(r.code, 0, r.stderr);
  t.equal(mpcState(mpd), 'playing', 'mediagate play → mpc sees playing');

  r = await mg('pause');
  t.equal(r.code, 0, r.stderr);
  t.equal(mpcState(mpd), 'paused', 'pause → paused');

  r = await mg('toggle');
  t.equal(r.code, 0, r.stderr);
  t.equal(mpcState(mpd), 'playing', 'toggle → playing');

  r = await mg('next', '--json');
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { ok: true, player: 'mpd', action: 'next' });
  t.equal(mpcTitle(mpd), 'SineB', 'next → second track');

  r = await mg('prev');
  t.equal(r.code, 0, r.stderr);
  t.equal(mpcTitle(mpd), 'SineA', 'prev → first track');

  mpd.mpc('pause');
  r = await mg('play', 'seek', '1:30');
  t.not(r.code, 0, 'seek past the end of a 30 s track is refused');
  t.match(r.stderr, /past the end/);
  r = await mg('play', 'seek', '20');
  t.equal(r.code, 0, r.stderr);
  t.match(mpd.mpc('status').split('\n')[1], /0:20\//, 'seek 20 → 0:20');
  r = await mg('play', 'seek', '-10');
  t.equal(r.code, 0, r.stderr);
  t.match(mpd.mpc('status').split('\n')[1], /0:10\//, 'seek -10 → 0:10');
  r = await mg('play', 'seek', '+5');
  t.equal(r.code, 0, r.stderr);
  t.match(mpd.mpc('status').split('\n')[1], /0:15\//, 'seek +5 → 0:15');
  r = await mg('play', 'seek', '50%');
  t.equal(r.code, 0, r.stderr);
  t.match(mpd.mpc('status').split('\n')[1], /0:15\//, 'seek 50% of 0:30 → 0:15');

  // status reflects what mpc changed
  mpd.mpc('volume', '33');
  mpd.mpc('random', 'on');
  mpd.mpc('repeat', 'on');
  mpd.mpc('seek', '7');
  s = JSON.parse((await mg('status', '--json')).stdout);
  t.equal(s.status, 'paused');
  t.equal(s.title, 'SineA');
  t.equal(s.artist, 'Probe');
  t.equal(s.volume, 33);
  t.equal(s.shuffle, true);
  t.equal(s.repeat, 'playlist');
  t.equal(Math.round(s.position), 7);
  t.equal(Math.round(s.duration), 30);
  t.ok(Date.parse(s.positionUpdatedAt) > Date.now() - 60000, 'positionUpdatedAt is a recent ISO time');
  t.equal(s.capabilities.canSeek, true);

  r = await mg('status', '--format', '{{artist}} - {{title}} [{{duration(position)}}/{{duration(duration)}}] {{uc(status)}}');
  t.equal(r.stdout, 'Probe - SineA [0:07/0:30] PAUSED\n');

  r = await mg('status');
  t.match(r.stdout, /^player\s+mpd$/m);
  t.match(r.stdout, /^title\s+SineA$/m);

  r = await mg('play', 'stop');
  t.equal(r.code, 0, r.stderr);
  t.equal(mpcState(mpd), 'stopped', 'stop → stopped');

  r = await runCli(['play', 'players', '--json'], { env });
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout).map((p) => p.name), ['mpd']);
});

t.test('a command the player cannot do is an error, not a no-op', async (t) => {
  const mpd = await startMpd(t);
  const { env } = cliEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
  mpd.mpc('-q', 'play', '3'); // last track, repeat off: no next
  const r = await runCli(['next', '--player', 'mpd'], { env });
  t.equal(r.code, 3);
  t.match(r.stderr, /next/);
  t.equal(mpd.mpc('current', '-f', '%file%'), 'c.mp3', 'still on the last track');

  // Control actions are audited, failures included, with the local actor.
  let ok = await runCli(['pause', '--player', 'mpd'], { env });
  t.equal(ok.code, 0, ok.stderr);
  ok = await runCli(['volume', '20', '--target', 'player', '--player', 'mpd'], { env });
  t.equal(ok.code, 0, ok.stderr);
  const audit = await runCli(['audit', '--json'], { env });
  t.equal(audit.code, 0, audit.stderr);
  const events = JSON.parse(audit.stdout).map((e) => [e.action, e.outcome, e.target ?? null, e.actor.id.startsWith('local:')]);
  t.same(events, [
    ['player.next', 'error', null, true],
    ['player.pause', 'ok', 'mpd', true],
    ['volume.set', 'ok', 'player:player', true],
  ]);
  const verify = await runCli(['audit', 'verify'], { env });
  t.equal(verify.code, 0, verify.stderr);
});

t.test('--follow prints a line within 1 s of a change made with mpc', async (t) => {
  const mpd = await startMpd(t);
  const { env } = cliEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
  const f = followCli(t, ['status', '--follow', '--json', '--player', 'mpd'], env);
  const next = (n) => f.nth(n);
  const first = await next(1);
  t.equal(first.status, 'stopped');
  const start = Date.now();
  mpd.mpc('-q', 'play');
  const second = await next(2);
  const ms = Date.now() - start;
  t.equal(second.status, 'playing');
  t.ok(ms < 1000, `change seen in ${ms} ms`);
  const exit = new Promise((r) => f.child.once('exit', (code) => r(code)));
  f.child.kill('SIGINT');
  t.equal(await exit, 0, 'exits cleanly on SIGINT');
});

t.test('denied: unknown player, MPD down, hung MPD, no session bus', async (t) => {
  const port = await freePort();
  const { env } = cliEnv(t, { MPD_HOST: '127.0.0.1', MPD_PORT: String(port) });

  let r = await runCli(['status', '--player', 'mpd'], { env });
  t.equal(r.code, 3, 'MPD down → exit 3');
  t.match(r.stderr, /no MPD at 127\.0\.0\.1:\d+/);
  t.match(r.stderr, /hint:/);

  r = await runCli(['status'], { env });
  t.equal(r.code, 3, 'nothing at all → exit 3');
  t.match(r.stderr, /DBUS_SESSION_BUS_ADDRESS/, 'the hint says how to find the session bus');

  r = await runCli(['status', '--player', 'nosuchplayer'], { env });
  t.equal(r.code, 3, 'unknown player → exit 3');

  const hung = await startHungServer(t);
  const { env: env2 } = cliEnv(t, { MPD_HOST: hung.host, MPD_PORT: String(hung.port) });
  r = await runCli(['config', 'set', 'backend.timeoutMs', '400'], { env: env2 });
  t.equal(r.code, 0, r.stderr);
  const start = Date.now();
  r = await runCli(['status', '--player', 'mpd', '--json'], { env: env2 });
  const ms = Date.now() - start;
  t.equal(r.code, 3, 'hung MPD → exit 3');
  t.match(JSON.parse(r.stderr).error.code, 'backend.timeout');
  t.ok(ms < 3000, `gave up after ${ms} ms (limit 400 ms + start-up)`);
});

t.test('denied: bad input is a usage error naming the valid forms', async (t) => {
  const { env } = cliEnv(t);
  for (const [args, re] of [
    [['play', 'seek', 'abc'], /invalid seek position 'abc'/],
    [['play', 'seek', '1:75'], /invalid seek position/],
    [['play', 'seek', '150%'], /0–100%/],
    [['volume', '150'], /within 0–100, got 150/],
    [['volume', 'abc'], /invalid volume 'abc'/],
    [['volume', '+101'], /within 0–100/],
    [['status', '--format', '{{nope}}'], /unknown template variable 'nope'/],
  ]) {
    const r = await runCli(args, { env });
    t.equal(r.code, 2, `${args.join(' ')} → exit 2`);
    t.match(r.stderr, re);
  }
  const r = await runCli(['volume', '--target', 'moon'], { env });
  t.equal(r.code, 2, 'bad --target → exit 2');
  t.match(r.stderr, /system|player/);
});

t.test('config mpd.host / mpd.port reach a real MPD with no MPD_* in the environment (TCP, then unix socket)', async (t) => {
  const mpd = await startMpd(t);
  const { env } = cliEnv(t);
  t.notOk(Object.keys(env).some((k) => k.startsWith('MPD_')), 'no MPD_HOST / MPD_PORT set');
  const mg = (...args) => runCli(args, { env });

  // Before: the default localhost:6600 has no MPD of ours.
  let r = await mg('config', 'set', 'mpd.port', '1');
  t.equal(r.code, 0, r.stderr);
  r = await mg('status', '--player', 'mpd');
  t.equal(r.code, 3, 'nothing at the configured port: exit 3');

  // TCP from config.
  t.equal((await mg('config', 'set', 'mpd.host', mpd.host)).code, 0);
  t.equal((await mg('config', 'set', 'mpd.port', String(mpd.port))).code, 0);
  r = await mg('play', '--player', 'mpd');
  t.equal(r.code, 0, r.stderr);
  t.equal(mpcState(mpd), 'playing', 'play via config host/port → mpc sees playing');
  r = await mg('status', '--player', 'mpd', '--json');
  t.equal(r.code, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).title, mpcTitle(mpd));

  // Unix socket path in mpd.host; the port (now wrong) must not matter for a socket.
  t.equal((await mg('config', 'set', 'mpd.host', mpd.socketPath)).code, 0);
  t.equal((await mg('config', 'set', 'mpd.port', '1')).code, 0);
  r = await mg('pause', '--player', 'mpd');
  t.equal(r.code, 0, r.stderr);
  t.equal(mpcState(mpd), 'paused', 'pause via the socket in mpd.host → mpc sees paused');

  // The environment overrides config (as mpc does).
  r = await runCli(['status', '--player', 'mpd'], { env: { ...env, MPD_HOST: '127.0.0.1', MPD_PORT: '1' } });
  t.equal(r.code, 3, 'MPD_HOST/MPD_PORT override mpd.host');
});
